"""File uploads through HTTP on the three file endpoints (records, batch check, e-commerce): an upload past
``settings.max_upload_bytes`` is refused with 413 ``file.too_large`` while it is being copied, one at the
limit is read, and the temporary copy (``api.uploads.spool_upload``) is gone afterwards either way."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from fastapi import UploadFile
from fastapi.testclient import TestClient
from tests.api.test_ecommerce_trade_support import make_platform, shop

from chengxin.api.uploads import spool_upload, upload_suffix
from chengxin.catalog.rules import template_columns
from chengxin.core.errors import DomainError
from chengxin.platform import Platform
from factories import uscc_for, valid_row
from tests_support import platform_with, served

LIMIT = 4096  # bytes: small enough to pass with a few rows, large enough for one valid row of each kind


@dataclass(frozen=True)
class Endpoint:
    """One file endpoint as a caller sees it: where to post, as whom, with which form fields."""

    url: str
    prefix: str  # of its temporary copy
    headers: dict[str, str]
    form: dict[str, str]
    filename: str
    body: bytes  # a valid small file for it
    ok: int  # the status of an accepted upload


@pytest.fixture()
def small(platform: Platform) -> Platform:
    """The same platform with a 4 KiB upload limit."""
    return platform_with(platform, max_upload_bytes=LIMIT)


@pytest.fixture()
def small_client(small: Platform) -> Iterator[TestClient]:
    with served(small) as c:
        yield c



def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _records(platform: Platform, make_api_key: Callable[[str], str]) -> Endpoint:
    version = platform.catalog.item("admin_penalty").latest
    columns = template_columns(version)
    row = valid_row(version, 1)
    body = _csv([c.label_zh for c in columns], [[str(row.get(c.code, "")) for c in columns]])
    return Endpoint("/api/v1/records/files", "chengxin-upload-", {"Authorization": f"Bearer {make_api_key('samr')}"},
                    {"item": "admin_penalty"}, "penalties.csv", body, 200)


def _checks(make_api_key: Callable[[str], str]) -> Endpoint:
    body = _csv(["主体标识", "业务编号"], [[uscc_for(41), "A-1"]])
    return Endpoint("/api/v1/checks/batches", "chengxin-check-", {"Authorization": f"Bearer {make_api_key('finance')}"},
                    {"scenario": "fiscal_support"}, "list.csv", body, 201)


def _ecommerce(client: TestClient, make_user: Callable[..., str], make_api_key: Callable[[str], str]) -> Endpoint:
    plat = make_platform(client, make_user, make_api_key, 1)
    body = orjson.dumps(shop(1)) + b"\n"
    return Endpoint("/api/v1/ecommerce/files", "chengxin-ec-", plat.headers, {"kind": "shops"}, "shops.jsonl",
                    body, 200)


@pytest.fixture(params=["records", "checks", "ecommerce"])
def endpoint(request: pytest.FixtureRequest, small: Platform, small_client: TestClient,
             make_user: Callable[..., str], make_api_key: Callable[[str], str]) -> Endpoint:
    if request.param == "records":
        return _records(small, make_api_key)
    if request.param == "checks":
        return _checks(make_api_key)
    return _ecommerce(small_client, make_user, make_api_key)


def _spooled(spool_dir: Path, prefix: str) -> int:
    return sum(1 for p in spool_dir.iterdir() if p.name.startswith(prefix))


def _post(client: TestClient, endpoint: Endpoint, body: bytes) -> object:
    return client.post(endpoint.url, headers=endpoint.headers, data=endpoint.form,
                       files={"file": (endpoint.filename, body, "application/octet-stream")})


def _pad(body: bytes, size: int) -> bytes:
    """``body`` with blank lines added up to ``size`` bytes (the readers skip blank lines)."""
    assert len(body) <= size
    return body + b"\n" * (size - len(body))


def test_an_upload_past_the_limit_is_refused_and_not_kept(small_client: TestClient, endpoint: Endpoint,
                                                          spool_dir: Path) -> None:
    before = _spooled(spool_dir, endpoint.prefix)
    resp = _post(small_client, endpoint, _pad(endpoint.body, LIMIT + 1))
    assert resp.status_code == 413, resp.text  # type: ignore[attr-defined]
    error = resp.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "file.too_large"
    assert "文件" in error["message"] and str(LIMIT) in error["message_en"]
    assert _spooled(spool_dir, endpoint.prefix) == before


def test_an_upload_at_the_limit_is_read_and_not_kept(small_client: TestClient, endpoint: Endpoint,
                                                     spool_dir: Path) -> None:
    before = _spooled(spool_dir, endpoint.prefix)
    resp = _post(small_client, endpoint, _pad(endpoint.body, LIMIT))
    assert resp.status_code == endpoint.ok, resp.text  # type: ignore[attr-defined]
    assert _spooled(spool_dir, endpoint.prefix) == before


def test_a_big_upload_is_refused_after_the_first_chunk(small_client: TestClient, endpoint: Endpoint,
                                                       spool_dir: Path) -> None:
    """Several MiB against a 4 KiB limit: refused, and nothing of it stays on disk."""
    resp = _post(small_client, endpoint, _pad(endpoint.body, 3 * (1 << 20)))
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "file.too_large"  # type: ignore[attr-defined]
    assert _spooled(spool_dir, endpoint.prefix) == 0


# -- the spooler itself --------------------------------------------------------------------------------


@pytest.mark.parametrize(("filename", "suffix"), [
    ("penalties.CSV", ".csv"), ("book.xlsx", ".xlsx"), ("a.b.jsonl", ".jsonl"), ("C:\\data\\处罚.csv", ".csv"),
    ("../../etc/passwd", ""), ("noext", ""), (".hidden", ""), ("x.c/sv", ""), ("x.tar gz", ""), (None, ""),
    ("x." + "a" * 11, ""),
])
def test_only_a_plain_extension_of_the_name_is_kept(filename: str | None, suffix: str) -> None:
    assert upload_suffix(filename) == suffix


def test_the_copy_keeps_the_suffix_and_the_bytes_and_is_removed(spool_dir: Path) -> None:
    data = b"\xef\xbb\xbfsubject,ref\n" + b"x" * 3000
    upload = UploadFile(file=io.BytesIO(data), filename="名单.XLSX")
    with spool_upload(upload, len(data), "chengxin-test-") as path:
        assert path.parent == spool_dir and path.name.startswith("chengxin-test-") and path.suffix == ".xlsx"
        assert path.read_bytes() == data
    assert not path.exists()


def test_the_copy_is_removed_when_the_reader_fails(spool_dir: Path) -> None:
    upload = UploadFile(file=io.BytesIO(b"abc"), filename="a.csv")
    with pytest.raises(DomainError), spool_upload(upload, 10, "chengxin-test-") as path:
        raise DomainError("file.bad", "坏文件", "bad file")
    assert not path.exists() and _spooled(spool_dir, "chengxin-test-") == 0


def test_one_byte_over_is_refused_and_removed(spool_dir: Path) -> None:
    upload = UploadFile(file=io.BytesIO(b"x" * 11), filename="a.csv")
    with pytest.raises(DomainError) as err, spool_upload(upload, 10, "chengxin-test-"):
        pytest.fail("the block must not run")
    assert (err.value.code, err.value.status) == ("file.too_large", 413)
    assert _spooled(spool_dir, "chengxin-test-") == 0
