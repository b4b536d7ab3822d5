"""Measures and the credit check API (奖惩措施清单、联合奖惩核查).

- ``GET  /api/v1/measures`` — the published measures list and the scenarios (public; ``?day=``,
  ``?scenario=``, ``?list=``).
- ``POST /api/v1/checks`` — the check. Body ``{"subject": "<USCC or citizen ID>", "scenario": "<code>"}``
  (optional ``"subject_kind": "person" | "organization"`` to force the reading of an all-digit code).
  Authenticated by a department's or a platform's API key: ``Authorization: Bearer cx_…`` (or
  ``X-API-Key``). POST, not GET: a citizen ID never travels in a URL (access logs, proxies).
  Answer: ``check_id``, ``subject`` (masked), ``result`` (``listed`` | ``not_listed`` |
  ``unknown_subject`` — organisations only; an unknown citizen ID is answered ``not_listed``),
  ``memberships`` in force today, ``measures`` of the scenario for those lists with their basis.
- ``POST /api/v1/checks/{check_id}/feedback`` — ``{case_no, measures_applied, outcome, result, note}``;
  only the department (or platform) that made the check.
- ``GET  /api/v1/checks/stats`` — 联合奖惩成效统计 (credit office: all; others: their own department).
- ``POST /api/v1/checks/batches`` (multipart ``file`` + ``scenario``), ``GET /api/v1/checks/batches/{id}``,
  ``GET /api/v1/checks/batches/{id}/result?format=csv|xlsx`` — the batch check.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from chengxin.api.deps import ActorDep
from chengxin.api.schemas import ErrorOut
from chengxin.api.uploads import spool_upload
from chengxin.checks import batch as batches
from chengxin.checks.service import Checker, check_stats, give_feedback, stats_scope
from chengxin.core import audit
from chengxin.core.clock import today_cn
from chengxin.core.errors import DomainError, Unauthenticated
from chengxin.measures.loader import measure_book
from chengxin.platform import Platform

router = APIRouter(prefix="/api/v1", tags=["checks"])
_ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorOut} for s in (400, 401, 403, 404, 409, 413, 422)}


def install(app: FastAPI) -> None:
    """The checker lives as long as the app; its log is flushed at shutdown."""

    def _close() -> None:
        checker: Checker | None = getattr(app.state, "checker", None)
        if checker is not None:
            checker.close()
            app.state.checker = None

    app.router.on_shutdown.append(_close)


_CHECKER_LOCK = threading.Lock()


def get_checker(request: Request) -> Checker:
    checker: Checker | None = getattr(request.app.state, "checker", None)
    if checker is None:
        with _CHECKER_LOCK:  # endpoints in the thread pool may ask at the same moment: build one
            checker = getattr(request.app.state, "checker", None)
            if checker is None:
                platform: Platform = request.app.state.platform
                checker = Checker(platform.db, platform.keyring, mode=platform.settings.check_log,
                                  keys=platform.api_keys)
                request.app.state.checker = checker
    return checker


def key_actor(request: Request, checker: Checker) -> audit.Actor:
    """The department or platform behind the API key (verified at most every few seconds per process)."""
    presented = request.headers.get("x-api-key")
    if not presented:
        auth = request.headers.get("authorization", "")
        presented = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    if not presented:
        raise Unauthenticated("auth.api_key_required", "需要 API 密钥（Authorization: Bearer cx_…）",
                              "An API key is required (Authorization: Bearer cx_…)")
    if not presented.startswith("cx_"):
        raise Unauthenticated("auth.bad_api_key", "核查接口只接受部门或平台的 API 密钥", "Checks need an API key")
    assert checker.keys is not None
    return checker.keys.actor(presented)


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _body(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise DomainError("request.invalid_json", "请求体不是有效的 JSON", "The body is not valid JSON") from None
    if not isinstance(body, dict):
        raise DomainError("request.invalid_json", "请求体应为 JSON 对象", "The body must be a JSON object")
    return body


# -- measures ---------------------------------------------------------------------------------------------


@router.get("/measures", summary="奖惩措施清单 The published measures list", responses=_ERRORS)
def measures(day: dt.date | None = None, scenario: str | None = None,
             list_kind: Annotated[str | None, Query(alias="list")] = None) -> Response:
    """The measures in force on ``day`` (default today) and the scenarios. Only these may be applied
    (浙江条例第二十八条：未经公布的惩戒措施不得采取)."""
    book = measure_book()
    day = day or today_cn()
    items = [m for m in book.measures_on(day)
             if (scenario is None or scenario in m.scenarios) and (list_kind is None or m.list_kind == list_kind)]
    return _json({"day": day.isoformat(),
                  "scenarios": [{"code": s.code, "name_zh": s.name_zh, "name_en": s.name_en,
                                 "description_zh": s.description_zh, "subject_kinds": list(s.subject_kinds)}
                                for s in book.scenarios_on(day)],
                  "measures": [m.as_json() for m in items]})


# -- the check --------------------------------------------------------------------------------------------

_CHECK_BODY = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["subject", "scenario"],
        "properties": {
            "subject": {"type": "string", "description": "统一社会信用代码或公民身份号码", "example": "91320400MA1MXXXX0X"},
            "scenario": {"type": "string", "description": "核查场景代码（GET /api/v1/measures 的 scenarios）",
                         "example": "admin_licensing"},
            "subject_kind": {"type": "string", "enum": ["person", "organization"],
                             "description": "可选：强制按自然人或法人解读"}}}}}},
}


@router.post("/checks", summary="联合奖惩核查 Credit check", responses=_ERRORS, openapi_extra=_CHECK_BODY)
async def check(request: Request) -> Response:
    """One subject in one scenario: its list memberships in force today and the measures that apply,
    each with its basis. Answered from one indexed read; the check is logged behind the request
    (see chengxin.checks.log for what a crash can lose)."""
    # On the event loop on purpose: the work is one indexed read of well under a millisecond, and a
    # thread-pool hop would cost more than the read itself.
    checker = get_checker(request)
    actor = key_actor(request, checker)
    body = _body(await request.body())
    kind = body.get("subject_kind")
    return _json(checker.check(actor, body.get("subject"), body.get("scenario"),
                               kind if isinstance(kind, str) else None if kind is None else "?"))


@router.post("/checks/{check_id}/feedback", summary="核查反馈 Feedback on a check", status_code=201,
             responses=_ERRORS, openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"type": "object", "required": ["case_no", "outcome"], "properties": {
                     "case_no": {"type": "string", "description": "办件编号"},
                     "measures_applied": {"type": "array", "items": {"type": "string"},
                                          "description": "实施的措施代码（须为本次核查返回的措施）"},
                     "outcome": {"type": "string", "enum": ["applied", "partially_applied", "not_applied"]},
                     "result": {"type": "string", "description": "办理结果，如 不予许可"},
                     "note": {"type": "string", "description": "说明（未实施时必填）"}}}}}}})
async def feedback(check_id: str, request: Request) -> Response:
    checker = get_checker(request)
    actor = key_actor(request, checker)
    body = _body(await request.body())
    from starlette.concurrency import run_in_threadpool

    fb = await run_in_threadpool(give_feedback, checker, actor, check_id, body)
    return _json({"id": fb.id, "check_id": fb.check_id, "case_no": fb.case_no, "measures_applied": fb.measures_applied,
                  "outcome": fb.outcome, "result": fb.result, "note": fb.note, "at": fb.at.isoformat()}, 201)


@router.get("/checks/stats", summary="联合奖惩成效统计 Check statistics", responses=_ERRORS)
def stats(request: Request, actor: ActorDep, department: str | None = None, since: dt.date | None = None,
          until: dt.date | None = None) -> Response:
    """Per department and scenario: checks, hits, checks that returned measures, feedback, checks never
    answered (returned measures, no feedback, older than ``due_days``), measures applied by kind."""
    checker = get_checker(request)
    scope = stats_scope(actor, department)
    with checker.db.read() as session:
        result = check_stats(session, checker.book, today_cn(), department=scope, since=since, until=until)

    def line(x: Any) -> dict[str, Any]:
        return {"department": x.department_code, "scenario": x.scenario, "checks": x.checks, "hits": x.hits,
                "with_measures": x.with_measures, "feedback": x.feedback, "unanswered": x.unanswered,
                "applied_by_kind": x.applied_by_kind, "outcomes": x.outcomes}

    total = line(result.totals)
    del total["department"], total["scenario"]
    return _json({"day": result.day.isoformat(), "due_days": result.due_days,
                  "unanswered_before": result.cutoff.isoformat(), "department": scope,
                  "lines": [line(x) for x in result.lines], "totals": total})


# -- batch ------------------------------------------------------------------------------------------------


def _batch_json(b: Any) -> dict[str, Any]:
    return {"id": b.id, "scenario": b.scenario, "filename": b.filename, "rows": b.rows, "found": b.found,
            "hits": b.hits, "errors": b.errors, "seconds": round(float(b.seconds), 2),
            "result_csv": f"/api/v1/checks/batches/{b.id}/result?format=csv",
            "result_xlsx": f"/api/v1/checks/batches/{b.id}/result?format=xlsx"}


@router.post("/checks/batches", summary="批量核查 Batch check", status_code=201, responses=_ERRORS)
def batch_check(request: Request, file: Annotated[UploadFile, File(description=".csv / .xlsx / .jsonl，列：主体标识(subject)、业务编号(ref)")],
                scenario: Annotated[str, Form(description="核查场景代码")]) -> Response:
    """Up to 100,000 subjects (``batch_max_rows``) in one file; bad rows are reported in the result and
    never stop the others. Answered when done (100,000 rows: seconds) with links to the result."""
    checker = get_checker(request)
    actor = key_actor(request, checker)
    platform: Platform = request.app.state.platform
    limit = platform.settings.max_upload_bytes
    with spool_upload(file, limit, "chengxin-check-") as path:
        summary = batches.run_batch(checker, actor, path, file.filename or "upload", scenario, max_bytes=limit)
    return _json(_batch_json(summary), 201)


@router.get("/checks/batches/{batch_id}", summary="批量核查结果摘要 Batch summary", responses=_ERRORS)
def batch_summary(request: Request, batch_id: int) -> Response:
    checker = get_checker(request)
    return _json(_batch_json(batches.get_batch(checker, key_actor(request, checker), batch_id)))


@router.get("/checks/batches/{batch_id}/result", summary="下载批量核查结果 Download the result", responses=_ERRORS)
def batch_result(request: Request, batch_id: int, format: str = "csv") -> Response:
    checker = get_checker(request)
    batch = batches.get_batch(checker, key_actor(request, checker), batch_id)
    data = batches.result_csv(checker, batch)
    if format == "xlsx":
        return Response(batches.result_xlsx(data),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="check_batch_{batch_id}.xlsx"'})
    if format != "csv":
        raise DomainError("batch.format", "format 只能是 csv 或 xlsx", "format must be csv or xlsx", field="format")
    return Response(data, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="check_batch_{batch_id}.csv"'})
