"""Progress of a long upload, streamed to the caller as it happens (上传进度).

Who asks for it: the portal's script (``web/static/upload.js``) for a form marked ``data-progress``, with the
header ``X-Progress: ndjson``; an API client with ``Accept: application/x-ndjson`` (``POST
/api/v1/records/files``). The endpoint then runs the work in a thread of its own and answers with one JSON
object a line while it runs:

- ``{"rows": n, "bytes": read, "total": size}`` — progress, as often as the work reports it;
- ``{"done": true, "url": "/batches/7", …}`` — the work ended (the API's line also holds the receipt);
- ``{"error": {"code": …, "message": …, "message_en": …}}`` — the work was refused or failed;
- an empty line every few seconds while nothing else is said (proxies and clients with a read timeout do not
  drop a quiet connection).

The work goes on to its end when the caller goes away (the tab closed, the network gone): a batch that was
being written is then committed as usual and found under 报送记录 / ``GET /api/v1/records/batches`` — nothing
sent is lost because nobody watched. Without the header the endpoint answers as before, once, at the end.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import StreamingResponse

from chengxin.core.errors import DomainError

log = logging.getLogger("chengxin.web")

PROGRESS_HEADER = "x-progress"
KEEPALIVE_SECONDS = 5.0

Report = Callable[[dict[str, Any]], None]


def wants_progress(request: Request) -> bool:
    """Whether the caller asked for the streamed answer (else the plain one, at the end)."""
    return (request.headers.get(PROGRESS_HEADER) == "ndjson"
            or "application/x-ndjson" in request.headers.get("accept", ""))


def stream_progress(work: Callable[[Report], dict[str, Any]], *, name: str) -> StreamingResponse:
    """Run ``work(report)`` in a thread named ``name`` and stream what it reports, then its result (the ``done``
    line) or its error, as NDJSON. ``work`` returns the fields of the ``done`` line (at least ``url``)."""
    events: queue.Queue[dict[str, Any]] = queue.Queue()

    def run() -> None:
        try:
            result = work(events.put)
        except DomainError as exc:
            events.put({"error": {"code": exc.code, "message": exc.message, "message_en": exc.message_en}})
        except Exception:  # the page must hear that it failed; the details go to the log, not to the browser
            log.exception("%s failed", name)
            events.put({"error": {"code": "internal", "message": "服务器处理时出错，本次提交未保存，请稍后重试",
                                  "message_en": "The server failed while processing; nothing was saved"}})
        else:
            events.put({"done": True, **result})

    # Not a daemon: a server stopping gracefully lets a batch being written finish instead of dropping it.
    threading.Thread(target=run, name=name).start()

    def lines() -> Iterator[bytes]:
        while True:
            try:
                event = events.get(timeout=KEEPALIVE_SECONDS)
            except queue.Empty:
                yield b"\n"
                continue
            yield orjson.dumps(event) + b"\n"
            if "done" in event or "error" in event:
                return

    return StreamingResponse(lines(), media_type="application/x-ndjson",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
