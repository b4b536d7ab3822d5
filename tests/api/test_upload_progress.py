"""The portal's upload with progress (上传进度): ``POST /submit`` with ``X-Progress: ndjson`` — what
``static/upload.js`` sends — answers with NDJSON lines (``api.progress``): the ingest's progress, chunk by
chunk, then the batch (or the error that refused the file). Through HTTP on the real app and database."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.api.test_portal_pages import ITEM, PASSWORD, _counts, _csrf, penalty_csv

from chengxin.platform import Platform
from chengxin.records.models import IngestBatch
from tests_support import platform_with, served

STREAM = {"X-Progress": "ndjson"}
CHUNK_ROWS = 5


@pytest.fixture()
def chunked(platform: Platform) -> Platform:
    """The platform with 5-row chunks, so that a small file reports its progress several times."""
    return platform_with(platform, ingest_chunk_rows=CHUNK_ROWS)


@pytest.fixture()
def chunked_client(chunked: Platform) -> Iterator[TestClient]:
    with served(chunked) as c:
        yield c



def _sign_in_clerk(client: TestClient, make_user: Callable[..., str]) -> str:
    """A samr clerk's session on ``client``; returns the CSRF token of the form."""
    make_user("clerk", "samr", username="samr_progress", password=PASSWORD)
    response = client.post("/login", data={"username": "samr_progress", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303
    return _csrf(client)


def _post(client: TestClient, token: str, body: bytes, *, name: str = "行政处罚.csv") -> Any:
    return client.post("/submit", data={"item": ITEM, "csrf_token": token}, files={"file": (name, body, "text/csv")},
                       headers=STREAM, follow_redirects=False)


def _events(text: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in text.splitlines() if line.strip()]


def _batches(platform: Platform) -> int:
    with platform.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(IngestBatch)) or 0)


def test_the_ingest_reports_each_chunk_then_the_receipt(
    chunked_client: TestClient, chunked: Platform, make_user: Callable[..., str], spool_dir: Path
) -> None:
    token = _sign_in_clerk(chunked_client, make_user)
    body = penalty_csv(chunked, good=12, bad=3)
    response = _post(chunked_client, token, body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    events = _events(response.text)
    *progress, done = events

    assert len(progress) == 3  # 15 rows in chunks of 5
    assert [e["rows"] for e in progress] == [5, 10, 15]  # rows so far, not per chunk
    assert all(e["total"] == len(body) for e in progress)
    assert [e["bytes"] for e in progress] == sorted(e["bytes"] for e in progress) and progress[-1]["bytes"] == len(body)

    assert done["done"] is True and done["received"] == 15 and done["rejected"] == 3
    assert re.fullmatch(r"/batches/\d+", done["url"]) and done["url"] == f"/batches/{done['batch']}"
    receipt = chunked_client.get(done["url"])
    assert receipt.status_code == 200
    assert _counts(receipt.text)["新增"] == "12" and _counts(receipt.text)["拒绝"] == "3"
    assert list(spool_dir.iterdir()) == []  # the spooled copy is removed once the batch is written


def _without_first_column(csv_body: bytes) -> bytes:
    return b"\n".join(line.split(b",", 1)[-1] for line in csv_body.split(b"\n"))


@pytest.mark.parametrize(("shape", "code"), [
    ("empty", "file.empty"),
    ("first column cut", "file.missing_columns"),
    ("not text", "file.encoding"),
])
def test_a_file_refused_as_a_whole_ends_in_an_error_line_and_no_batch(
    chunked_client: TestClient, chunked: Platform, make_user: Callable[..., str], spool_dir: Path,
    shape: str, code: str,
) -> None:
    good = penalty_csv(chunked, good=2, bad=0)
    body = {"empty": b"", "first column cut": _without_first_column(good),
            "not text": good.split(b"\n", 1)[0] + b"\n\xff\xfe\xfa\x80\x81,\xc0\n"}[shape]
    token = _sign_in_clerk(chunked_client, make_user)
    before = _batches(chunked)
    response = _post(chunked_client, token, body)
    assert response.status_code == 200
    events = _events(response.text)
    assert len(events) == 1, events
    error = events[0]["error"]
    assert error["code"] == code and error["message"] and error["message_en"]
    assert _batches(chunked) == before  # nothing written
    assert list(spool_dir.iterdir()) == []


def test_an_upload_over_the_limit_gets_the_form_page_with_its_error(
    platform: Platform, make_user: Callable[..., str], spool_dir: Path
) -> None:
    """Refused while it is spooled, before any line is streamed: the page the plain post shows (the script puts
    it in place of the form), status 413."""
    small = platform_with(platform, max_upload_bytes=64)
    with served(small) as client:
        token = _sign_in_clerk(client, make_user)
        response = _post(client, token, penalty_csv(small, good=3, bad=0))
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "文件超过上限" in response.text and "file.too_large" in response.text and 'data-progress' in response.text
    assert list(spool_dir.iterdir()) == []


def test_the_streamed_upload_still_needs_the_forms_csrf_token(
    chunked_client: TestClient, chunked: Platform, make_user: Callable[..., str]
) -> None:
    _sign_in_clerk(chunked_client, make_user)
    before = _batches(chunked)
    response = _post(chunked_client, "not-the-token", penalty_csv(chunked, good=2, bad=0))
    assert response.status_code == 403 and not response.headers["content-type"].startswith("application/x-ndjson")
    assert _batches(chunked) == before


def test_without_the_header_the_form_posts_as_before(
    chunked_client: TestClient, chunked: Platform, make_user: Callable[..., str]
) -> None:
    token = _sign_in_clerk(chunked_client, make_user)
    response = chunked_client.post("/submit", data={"item": ITEM, "csrf_token": token},
                                   files={"file": ("p.csv", penalty_csv(chunked, good=2, bad=0), "text/csv")},
                                   follow_redirects=False)
    assert response.status_code == 303 and re.fullmatch(r"/batches/\d+", response.headers["location"])


# -- the API ------------------------------------------------------------------------------------------


def test_the_api_streams_progress_then_the_whole_receipt(
    chunked_client: TestClient, chunked: Platform, make_api_key: Callable[[str], str], spool_dir: Path
) -> None:
    key = {"X-API-Key": make_api_key("samr"), "Accept": "application/x-ndjson"}
    body = penalty_csv(chunked, good=8, bad=2)
    answer = chunked_client.post("/api/v1/records/files", headers=key, data={"item": ITEM},
                                 files={"file": ("p.csv", body, "text/csv")})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/x-ndjson")
    *progress, done = _events(answer.text)
    assert [e["rows"] for e in progress] == [5, 10] and progress[-1]["bytes"] == len(body)
    receipt = done["receipt"]
    assert done["done"] is True and done["url"] == f"/api/v1/records/batches/{receipt['batch_id']}"
    assert (receipt["received"], receipt["accepted"], receipt["rejected"]) == (10, 8, 2)
    assert {p["code"] for r in receipt["rejections"] for p in r["problems"]} == {"uscc.check_character"}
    stored = chunked_client.get(done["url"], headers={"X-API-Key": key["X-API-Key"]}).json()
    assert stored["accepted"] == 8 and stored["batch_id"] == receipt["batch_id"]
    assert list(spool_dir.iterdir()) == []


def test_the_api_refuses_before_streaming_what_it_can_refuse_at_once(
    chunked_client: TestClient, chunked: Platform, make_api_key: Callable[[str], str]
) -> None:
    """Out of scope (403) and unauthenticated (401) are plain JSON errors, not a stream; a file the reader
    refuses is an error line."""
    stream = {"Accept": "application/x-ndjson"}
    body = penalty_csv(chunked, good=1, bad=0)
    files = {"file": ("p.csv", body, "text/csv")}
    other = chunked_client.post("/api/v1/records/files", headers={**stream, "X-API-Key": make_api_key("staffing")},
                                data={"item": ITEM}, files=files)
    assert other.status_code == 403 and other.headers["content-type"].startswith("application/json")
    nobody = chunked_client.post("/api/v1/records/files", headers=stream, data={"item": ITEM}, files=files)
    assert nobody.status_code == 401
    empty = chunked_client.post("/api/v1/records/files", headers={**stream, "X-API-Key": make_api_key("samr")},
                                data={"item": ITEM}, files={"file": ("p.csv", b"", "text/csv")})
    assert empty.status_code == 200
    [refused] = _events(empty.text)
    assert refused["error"]["code"] == "file.empty" and refused["error"]["message"].startswith("文件是空的")
