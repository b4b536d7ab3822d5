"""Shared set-up of the subscription tests (no tests here): subjects stored as the ingest stores them
(persons encrypted and masked), list entries with their change-feed rows, a real local HTTP receiver."""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from chengxin.catalog.model import SubjectKind
from chengxin.lists import status
from chengxin.lists.models import ListEntry
from chengxin.platform import Platform
from chengxin.subjects.models import Subject
from chengxin.subjects.rules import SubjectKey, lookup_index
from chengxin.subjects.service import new_subject_row
from factories import ric_for, uscc_for


def make_subject(platform: Platform, n: int, *, person: bool = False) -> tuple[int, str]:
    """Subject ``n`` (id 1000 + n); returns (id, identifier)."""
    identifier = ric_for(n) if person else uscc_for(n)
    kind = SubjectKind.PERSON if person else SubjectKind.ORGANIZATION
    key = SubjectKey(kind, identifier, "张三" if person else f"常州订阅测试{n}有限公司")
    with platform.db.write() as session:
        row = new_subject_row(platform.keyring, 1000 + n, key, lookup_index(platform.keyring, kind.value, identifier))
        session.add(Subject(**row))
    return 1000 + n, identifier


def list_change(platform: Platform, subject_id: int, kind: str = "black", change: str = "listed") -> tuple[int, int]:
    """A list entry moved to ``change`` (the lists feature's own path); returns (entry id, change id)."""
    today = dt.date(2026, 3, 2)
    with platform.db.write() as session:
        entry = ListEntry(list_kind=kind, subject_id=subject_id, state=change, source="office",
                          proposed_by="staff:office", department_code="samr", basis_zh="《常州市社会信用条例》第二十九条",
                          decision_no="常信决〔2026〕8号" if change == "listed" else None,
                          decided_on=today if change == "listed" else None,
                          term_from=today if change == "listed" else None,
                          term_to=dt.date(2029, 3, 1) if change == "listed" else None)
        session.add(entry)
        row = status.entry_changed(session, entry, change)
        return entry.id, row.id


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1: answers with the scripted behaviours in order, then 200."""

    script: list[str] = field(default_factory=list)  # "500" | "timeout" | "close" | "200"
    received: list[Received] = field(default_factory=list)
    port: int = 0
    hang_seconds: float = 2.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/credit"


@contextmanager
def receiver(script: list[str], hang_seconds: float = 2.0) -> Iterator[Receiver]:
    state = Receiver(script=list(script), hang_seconds=hang_seconds)
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802  (http.server's name)
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with lock:
                state.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                action = state.script.pop(0) if state.script else "200"
            if action == "timeout":
                time.sleep(state.hang_seconds)
                return
            if action == "close":
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            code = int(action)
            payload = b'{"ok": true}' if code == 200 else b"receiver is down"
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            del format, args

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class Clock:
    """A clock the test moves (the back-off schedule without real waiting)."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)
