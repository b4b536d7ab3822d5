"""The web application: JSON API under /api/v1 (OpenAPI at /openapi.json, docs at /docs) and the portal."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from chengxin import __version__
from chengxin.core.errors import DomainError
from chengxin.platform import Platform, open_platform

log = logging.getLogger("chengxin")
STATIC = Path(__file__).resolve().parent.parent / "web" / "static"


def _error(status: int, code: str, message: str, message_en: str, field: str | None = None,
           **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"error": {"code": code, "message": message, "message_en": message_en, "field": field}}
    body.update(extra)
    return JSONResponse(body, status_code=status)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def create_app(platform: Platform | None = None) -> FastAPI:
    """Build the app around a platform (default: from settings)."""
    app = FastAPI(
        title="诚信 chengxin — 城市公共信用信息平台 API",
        version=__version__,
        description="归集、目录、数据质量。错误统一为 {error: {code, message(中文), message_en, field}}。",
        generate_unique_id_function=lambda route: f"{route.tags[0] if route.tags else 'portal'}-{route.name}",
    )
    app.state.platform = platform or open_platform()

    def _write_key_uses() -> None:  # the API keys' last uses noted since the last write
        app.state.platform.api_keys.close()

    app.router.on_shutdown.append(_write_key_uses)

    @app.exception_handler(DomainError)
    def _domain_error(request: Request, exc: DomainError) -> Any:
        if _wants_html(request):
            from chengxin.web.routes import render_error

            return render_error(request, exc.status, exc.message, exc.code)
        p = exc.problem
        return _error(exc.status, p.code, p.message, p.message_en, p.field)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(_request: Request, exc: RequestValidationError) -> Any:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x not in ("body", "query", "path", "form"))
        msg = first.get("msg", "invalid")
        return _error(422, "request.invalid", f"请求参数不正确：{where or '请求体'}（{msg}）",
                      f"Invalid request: {where or 'body'}: {msg}", where or None,
                      details=[{"loc": list(map(str, e.get("loc", ()))), "msg": e.get("msg"), "type": e.get("type")}
                               for e in exc.errors()])

    @app.exception_handler(StarletteHTTPException)
    def _http_error(request: Request, exc: StarletteHTTPException) -> Any:
        zh = {404: "页面或资源不存在", 405: "不支持该请求方法", 413: "请求体过大"}.get(exc.status_code, "请求失败")
        if _wants_html(request):
            from chengxin.web.routes import render_error

            return render_error(request, exc.status_code, zh, f"http.{exc.status_code}")
        return _error(exc.status_code, f"http.{exc.status_code}", zh, str(exc.detail))

    @app.exception_handler(OverflowError)
    @app.exception_handler(sa_exc.DataError)
    def _out_of_range(request: Request, exc: Exception) -> Any:
        # A number or text the database cannot hold (an id beyond 64 bits, a NUL in text): the
        # request is wrong, not the server. Every adapter is covered, including ones written later.
        log.warning("value out of the database's range on %s: %s", request.url.path, type(exc).__name__)
        zh, en = "请求中的数值或文本超出允许范围", "A value in the request is out of range"
        if _wants_html(request):
            from chengxin.web.routes import render_error

            return render_error(request, 400, zh, "request.out_of_range")
        return _error(400, "request.out_of_range", zh, en)

    @app.exception_handler(Exception)
    def _unexpected(request: Request, _exc: Exception) -> Any:
        log.exception("unhandled error on %s", request.url.path)
        return _error(500, "server.error", "服务器内部错误，已记录，请稍后重试", "Internal error (logged)")

    from chengxin.api import auth, catalog, disclosure, records
    from chengxin.api import search as search_api
    from chengxin.web import disclosure_pages, people_pages, search_pages
    from chengxin.web import routes as portal

    app.include_router(catalog.router)
    app.include_router(records.router)
    app.include_router(auth.router)
    app.include_router(disclosure.router)
    app.include_router(search_api.router)
    app.include_router(search_pages.router)
    app.include_router(portal.router)
    from chengxin.api import reports as reports_api
    from chengxin.web import report_pages

    app.include_router(reports_api.router)
    app.include_router(report_pages.router)
    app.include_router(disclosure_pages.router)
    from chengxin.web import monitoring_pages

    app.include_router(monitoring_pages.router)
    app.include_router(people_pages.router)
    from chengxin.api import consent as consent_api
    from chengxin.web import consent_pages

    app.include_router(consent_api.router)
    app.include_router(consent_pages.router)
    from chengxin.api import me as me_api

    app.include_router(me_api.router)
    from chengxin.web import calendar_pages

    app.include_router(calendar_pages.router)
    from chengxin.api import access as access_api  # 账号与密钥 (issue #2: staff users and department API keys)
    from chengxin.api import audit as audit_api
    from chengxin.web import access_pages, account_pages, audit_pages

    app.include_router(access_api.router)
    app.include_router(access_pages.router)
    app.include_router(account_pages.router)  # 修改密码, and the password an administrator set changed first
    app.include_router(audit_api.router)  # 审计日志
    app.include_router(audit_pages.router)
    app.add_middleware(account_pages.PasswordFirst)
    from chengxin.web import record_pages  # 记录查询 and 撤销 in the portal (issue #2 §5)

    app.include_router(record_pages.router)
    # Issue #4 features register their routers here, one block each:
    from chengxin.api import objections as objections_api
    from chengxin.web import objection_pages

    app.include_router(objections_api.router)
    app.include_router(objection_pages.router)
    from chengxin.api import repair as repair_api
    from chengxin.web import repair_pages

    app.include_router(repair_api.me_router)
    app.include_router(repair_api.router)
    app.include_router(repair_pages.router)
    from chengxin.api import notices as notices_api
    from chengxin.web import notice_pages

    app.include_router(notices_api.router)
    app.include_router(notice_pages.router)
    from chengxin.web import console_pages

    app.include_router(console_pages.router)
    # --- issue #5: lists (lists helper) ---
    from chengxin.api import lists as lists_api
    from chengxin.web import list_pages

    app.include_router(lists_api.router)
    app.include_router(lists_api.me_router)
    app.include_router(list_pages.router)
    # --- issue #5: measures and credit checks (checks helper) ---
    from chengxin.api import checks as checks_api
    from chengxin.web import check_pages

    checks_api.install(app)
    app.include_router(checks_api.router)
    app.include_router(check_pages.router)
    # --- issue #5: commitments (commitments helper) ---
    from chengxin.api import commitments as commitments_api
    from chengxin.web import commitment_pages

    app.include_router(commitments_api.router)
    app.include_router(commitments_api.me_router)
    app.include_router(commitment_pages.router)
    # --- issue #5: subscriptions (subscriptions helper) ---
    from chengxin.api import subscriptions as subscriptions_api
    from chengxin.web import subscription_pages

    app.include_router(subscriptions_api.router)
    app.include_router(subscription_pages.router)
    # --- issue #6: scores (scores helper) ---
    from chengxin.api import scores as scores_api
    from chengxin.web import score_pages

    app.include_router(scores_api.router)
    app.include_router(score_pages.router)
    # --- issue #7: trade (trade helper) ---
    from chengxin.api import ecommerce as ecommerce_api
    from chengxin.web import shop_pages

    app.include_router(ecommerce_api.router)
    app.include_router(shop_pages.router)
    # --- issue #7: risk (risk helper) ---
    from chengxin.api import ecommerce_risk as ecommerce_risk_api
    from chengxin.web import risk_pages

    app.include_router(ecommerce_risk_api.router)
    app.include_router(risk_pages.router)
    # --- issue #7: complaints about shops (complaints helper) ---
    from chengxin.api import ecommerce_complaints as ecommerce_complaints_api
    from chengxin.web import ec_complaint_pages

    app.include_router(ecommerce_complaints_api.router)
    app.include_router(ec_complaint_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", tags=["ops"], summary="健康检查 Health check")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "database": app.state.platform.db.dialect}

    flatten_routes(app)
    return app


# The API paths with speed targets, tried first in this order: the credit check (issue #5: 1,000 req/s),
# the government read and the public file of a subject (issue #3: 200 req/s). Without this the check was
# the 108th route tried, ~0.4 ms of matching per request.
HOT_PATHS = ("/api/v1/checks", "/api/v1/gov/subjects/{subject_id}/file", "/api/v1/public/subjects/{subject_id}")


def flatten_routes(app: FastAPI) -> None:
    """Put every included router's routes into the app's own route list, in order.

    Since FastAPI 0.137 ``include_router`` keeps each router as a node that is searched, with its
    bookkeeping, on every request: with our ~45 routers a request for ``/healthz`` spent 1.1 ms and one
    for ``/api/v1/checks`` 0.5 ms just finding its route (bench/RESULTS.md, credit check) — more than the
    check itself. Our routers carry their prefix, tags and dependencies on their own routes and are
    included bare, so their routes are complete as they are; the flat list is what FastAPI < 0.137 built.
    """
    flat: list[Any] = []

    def add(routes: list[Any]) -> None:
        for route in routes:
            original = getattr(route, "original_router", None)
            if original is None:
                flat.append(route)
                continue
            context = route.include_context
            if context.prefix or context.dependencies or context.tags:
                raise RuntimeError(f"router {original!r} is included with a prefix, tags or dependencies: "
                                   "give them to the APIRouter itself")
            add(list(original.routes))

    add(list(app.router.routes))
    # Starlette tries routes in order (~1.7 µs each, ~4 µs with FastAPI's per-route context): the
    # machine-to-machine endpoints first — /healthz, the hot API paths with speed targets (HOT_PATHS), the
    # rest of the API — and the portal's pages after them. A stable partition: routes that could match the
    # same path keep their order (no route path starts with a parameter, which the test suite checks; a
    # hot path is literal or parametrised only in its last segments, so nothing before it could match it).
    def rank(route: Any) -> int:
        path = str(getattr(route, "path", ""))
        if path == "/healthz":
            return 0
        if path in HOT_PATHS:
            return 1 + HOT_PATHS.index(path)
        return 1 + len(HOT_PATHS) if path.startswith("/api/") else 2 + len(HOT_PATHS)

    app.router.routes[:] = sorted(flat, key=rank)


SWITCH_INTERVAL = 0.001  # seconds; see create_served_app


def create_served_app() -> FastAPI:
    """The app as ``chengxin serve`` runs it: built, then the long-lived objects frozen.

    The catalog, SQLAlchemy's and FastAPI's structures are ~150,000 objects that live as long as the
    process; a full garbage collection walks them all (70–150 ms here) and stops every request while
    it runs. ``gc.freeze()`` moves them out of the collector's sight once they are built, so the tail
    latency of the API is the requests' own work (bench/RESULTS.md, "Subject file over HTTP").
    Not used by the tests: a frozen object is never collected, and the tests build many apps.

    The GIL switch interval goes from 5 ms to 1 ms: a served request hands the GIL between threads (the event
    loop, the thread pool running ``def`` endpoints, the group-commit and check-log writers), and a thread
    waiting for it waits up to the interval. Measured (bench/RESULTS.md, session 5): government read p99 at
    200 req/s 30–43 → 22–27 ms, credit check at 1,000/s p99 4.1 → 2.8 ms and 5,074 → 5,377 checks/s.
    """
    import gc
    import sys

    sys.setswitchinterval(SWITCH_INTERVAL)
    app = create_app()
    platform: Platform = app.state.platform
    # SQLite: no request pays for a WAL checkpoint (core.db.WalCheckpointer).
    platform.db.checkpoint_in_background(platform.settings.sqlite_checkpoint_seconds)
    gc.collect()
    gc.freeze()
    return app
