"""``api.progress.stream_progress``: what a page hears while work runs in its own thread — the work's reports in
order, then its result, a refusal or a failure (never a silent end), and blank keep-alive lines while it is
quiet."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import orjson
import pytest
from fastapi.responses import StreamingResponse

from chengxin.api import progress
from chengxin.api.progress import Report, stream_progress
from chengxin.core.errors import DomainError


def _lines(response: StreamingResponse) -> list[bytes]:
    async def collect() -> list[bytes]:
        return [bytes(chunk) async for chunk in response.body_iterator]  # type: ignore[arg-type]

    return asyncio.run(collect())


def _events(response: StreamingResponse) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in _lines(response) if line.strip()]


def test_reports_in_order_then_the_result() -> None:
    def work(report: Report) -> dict[str, Any]:
        for n in (1, 2, 3):
            report({"rows": n})
        return {"url": "/batches/9"}

    response = stream_progress(work, name="test-work")
    assert response.media_type == "application/x-ndjson" and response.headers["cache-control"] == "no-store"
    assert _events(response) == [{"rows": 1}, {"rows": 2}, {"rows": 3}, {"done": True, "url": "/batches/9"}]


def test_a_refusal_is_said_with_its_codes() -> None:
    def work(report: Report) -> dict[str, Any]:
        report({"rows": 5})
        raise DomainError("file.encoding", "文件编码无法识别", "Unknown encoding")

    assert _events(stream_progress(work, name="test-work")) == [
        {"rows": 5}, {"error": {"code": "file.encoding", "message": "文件编码无法识别", "message_en": "Unknown encoding"}},
    ]


def test_a_failure_ends_the_stream_with_an_error_and_keeps_the_details_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def work(report: Report) -> dict[str, Any]:
        raise RuntimeError("secret detail of the failure")

    with caplog.at_level("ERROR", logger="chengxin.web"):
        events = _events(stream_progress(work, name="test-work"))
    assert len(events) == 1 and events[0]["error"]["code"] == "internal"
    assert "secret detail" not in orjson.dumps(events).decode()
    assert any("secret detail" in r.exc_text for r in caplog.records if r.exc_text)


def test_quiet_work_gets_keepalive_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "KEEPALIVE_SECONDS", 0.05)
    release = threading.Event()

    def work(report: Report) -> dict[str, Any]:
        release.wait(0.4)  # quiet for several keep-alive periods
        return {"url": "/x"}

    lines = _lines(stream_progress(work, name="test-work"))
    assert lines.count(b"\n") >= 3 and orjson.loads(lines[-1]) == {"done": True, "url": "/x"}
