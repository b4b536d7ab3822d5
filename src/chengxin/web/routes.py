"""The portal (门户): server-rendered pages for the public and for staff (Jinja2 + htmx).

A thin adapter like the JSON API: it reads the request, calls the same services and renders
HTML. Staff sign in with a form; the session token is kept in the HttpOnly cookie
``cx_session`` and every state-changing form carries the session's CSRF token.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from chengxin.accounts.service import Role, authenticate, close_session, open_session, user_for_token
from chengxin.accounts.sign_in import AddressLimited
from chengxin.api.catalog import item_summary, version_dict
from chengxin.api.deps import SESSION_COOKIE, client_address
from chengxin.api.progress import wants_progress
from chengxin.api.records import ingest_upload, ingest_upload_streamed, quality_out
from chengxin.catalog.model import Catalog, CatalogItem, Duration
from chengxin.catalog.rules import InvalidDuration, column_labels, parse_duration, template_columns
from chengxin.checks.rules import PLATFORM_PREFIX
from chengxin.core import audit
from chengxin.core.clock import CHINA, today_cn
from chengxin.core.errors import DomainError, Unauthenticated
from chengxin.platform import Platform
from chengxin.records import service as records
from chengxin.records.fileio import rejections_csv

log = logging.getLogger("chengxin.web")

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))

PLATFORM_NAME = "诚信常州 · 公共信用信息平台"
REJECTIONS_PER_PAGE = 100
BATCHES_PER_PAGE = 50
UPLOAD_ACCEPT = ".xlsx,.csv,.jsonl"

CATEGORY_ZH = {"basic": "基础信息", "positive": "良好信息", "negative": "失信信息"}
CATEGORY_SHORT_ZH = {"basic": "基础", "positive": "良好", "negative": "失信"}
SUBJECT_KIND_ZH = {"person": "自然人", "organization": "法人和非法人组织"}
SUBJECT_KIND_SHORT_ZH = {"person": "自然人", "organization": "法人"}
SHARING_ZH = {"public": "公开", "authorized": "授权查询", "government": "政务共享"}
SEVERITY_ZH = {"minor": "轻微失信", "general": "一般失信", "serious": "严重失信", "default": "公示期限"}
CHANNEL_ZH = {"api": "接口报送", "file": "文件上传", "cli": "命令行导入", "demo": "演示数据", "objection": "异议更正",
              "commitment": "信用承诺违诺", "ecommerce": "电商监测认定"}
FIELD_TYPE_ZH = {
    "string": "文本",
    "text": "长文本",
    "integer": "整数",
    "decimal": "数值（金额）",
    "date": "日期",
    "boolean": "是/否",
    "enum": "选项",
    "ric": "公民身份号码",
    "uscc": "统一社会信用代码",
    "gtin": "商品条码（GTIN）",
}


# -- template helpers ---------------------------------------------------------------------------


def duration_zh(text: str | Duration | None) -> str:
    """``"P1Y6M"`` → ``"1年6个月"``; ``"P3M"`` → ``"3个月"``; ``"P15D"`` → ``"15天"``."""
    if text is None:
        return ""
    raw = text.text if isinstance(text, Duration) else text
    try:
        d = parse_duration(raw)
    except InvalidDuration:
        return raw
    parts = []
    if d.years:
        parts.append(f"{d.years}年")
    if d.months:
        parts.append(f"{d.months}个月")
    if d.days:
        parts.append(f"{d.days}天")
    return "".join(parts) or "0天"


def beijing_time(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(CHINA).strftime(fmt)


def thousands(value: int | None) -> str:
    return "0" if value is None else f"{value:,}"


def percent(value: float) -> str:
    return f"{value * 100:.1f}%"


templates.env.filters.update(duration_zh=duration_zh, beijing=beijing_time, thousands=thousands, percent=percent)
templates.env.globals.update(
    PLATFORM_NAME=PLATFORM_NAME,
    CATEGORY_ZH=CATEGORY_ZH,
    CATEGORY_SHORT_ZH=CATEGORY_SHORT_ZH,
    SUBJECT_KIND_ZH=SUBJECT_KIND_ZH,
    SUBJECT_KIND_SHORT_ZH=SUBJECT_KIND_SHORT_ZH,
    SHARING_ZH=SHARING_ZH,
    SEVERITY_ZH=SEVERITY_ZH,
    CHANNEL_ZH=CHANNEL_ZH,
    FIELD_TYPE_ZH=FIELD_TYPE_ZH,
)


# -- who is looking -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """The signed-in staff member (from the ``cx_session`` cookie)."""

    username: str
    display_name: str
    role: str
    department_code: str | None
    csrf_token: str
    must_change_password: bool = False  # a password an administrator chose: 修改密码 before anything else

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(kind="staff", name=self.username, role=self.role, department_code=self.department_code)

    @property
    def role_zh(self) -> str:
        try:
            return Role(self.role).label_zh
        except ValueError:
            return self.role

    @property
    def is_office(self) -> bool:
        return self.role in (Role.ADMIN.value, Role.CREDIT_OFFICE.value)

    @property
    def is_clerk(self) -> bool:
        return self.role == Role.CLERK.value and bool(self.department_code)


def _platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def current_viewer(request: Request) -> Viewer | None:
    """The staff member behind the session cookie, or None (no cookie, expired or revoked)."""
    if hasattr(request.state, "viewer"):
        cached: Viewer | None = request.state.viewer
        return cached
    viewer: Viewer | None = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with _platform(request).db.read() as session:
            try:
                user, staff_session = user_for_token(session, token)
            except Unauthenticated:
                viewer = None  # an expired or revoked session: show the page signed out
            else:
                viewer = Viewer(
                    user.username,
                    user.display_name,
                    user.role,
                    user.department_code,
                    staff_session.csrf_token,
                    user.must_change_password,
                )
    request.state.viewer = viewer
    return viewer


def _department_name(catalog: Catalog, code: str | None, *, short: bool = True) -> str:
    if not code:
        return ""
    dept = catalog.departments.get(code)
    if dept is None:
        if code.startswith(PLATFORM_PREFIX):  # an e-commerce platform's key or batch: platform:<USCC>
            return f"电商平台 {code.removeprefix(PLATFORM_PREFIX)}"
        return code
    return (dept.short_zh or dept.name_zh) if short else dept.name_zh


def submitter_names(session: Session, catalog: Catalog, *, short: bool = True) -> Callable[[str | None], str]:
    """The name of who submitted a batch or holds a key, by code: a department of the catalog, or an e-commerce
    platform (``platform:<USCC>`` → 电商平台·<name>): its registered platforms joined with 、, else — a key issued
    before the platform registered — its operator's name as the platform holds it (an organisation's name is
    public)."""
    from sqlalchemy import select

    from chengxin.accounts.models import ApiKey
    from chengxin.ecommerce.trade.service import list_platforms
    from chengxin.subjects.models import Subject

    names = {code: _department_name(catalog, code, short=short) for code in catalog.departments}
    platforms: dict[str, list[str]] = {}
    for platform in list_platforms(session):
        platforms.setdefault(platform.department_code, []).append(platform.name)
    names.update({code: "电商平台·" + "、".join(found) for code, found in platforms.items()})
    unnamed = {code.removeprefix(PLATFORM_PREFIX) for code in session.execute(
        select(ApiKey.department_code).where(ApiKey.department_code.startswith(PLATFORM_PREFIX)).distinct()
    ).scalars() if code not in names}
    if unnamed:
        operators = select(Subject.display_id, Subject.display_name).where(
            Subject.kind == "organization", Subject.display_id.in_(sorted(unnamed)))
        names.update({PLATFORM_PREFIX + uscc: f"电商平台·{name}" for uscc, name in session.execute(operators)})
    return lambda code: names.get(code or "") or _department_name(catalog, code, short=short)


def batch_item_names(catalog: Catalog) -> dict[str, str]:
    """A batch's item by code: the catalog's items and the e-commerce data pushed in batches of their own."""
    from chengxin.ecommerce.complaints.service import ITEM as COMPLAINTS
    from chengxin.ecommerce.complaints.service import ITEM_NAME_ZH
    from chengxin.ecommerce.trade.service import ITEM_NAMES_ZH

    return {code: item.latest.name_zh for code, item in catalog.items.items()} | ITEM_NAMES_ZH | {
        COMPLAINTS: ITEM_NAME_ZH}


def _render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200, nav: str = ""
) -> HTMLResponse:
    ctx: dict[str, Any] = {"viewer": current_viewer(request), "nav": nav}
    if ctx["viewer"] is not None:
        ctx["viewer_department"] = _department_name(_platform(request).catalog, ctx["viewer"].department_code)
    ctx.update(context or {})
    response: HTMLResponse = templates.TemplateResponse(request, name, ctx, status_code=status)
    return response


def render_error(request: Request, status: int, message: str, code: str) -> HTMLResponse:
    """An error page (called by the app's exception handlers for HTML requests, and by the pages)."""
    try:
        current_viewer(request)
    except Exception:  # the error page must render even when the database is the problem
        log.exception("could not resolve the viewer for an error page")
        request.state.viewer = None
    titles = {
        400: "请求有误",
        401: "需要登录",
        403: "无权访问",
        404: "页面不存在",
        409: "操作冲突",
        413: "文件过大",
        422: "请求有误",
        429: "次数已达上限",
    }
    return _render(
        request,
        "error.html",
        {
            "status": status,
            "message": message,
            "code": code,
            "title": titles.get(status, "出错了"),
            "login_url": "/login?next=" + quote(request.url.path, safe="/"),
        },
        status=status,
    )


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?next=" + quote(target, safe="/"), status_code=303)


def _safe_next(target: str | None) -> str | None:
    """Only local paths: no scheme, no host, no protocol-relative ``//`` (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or "1"))
    except ValueError:
        return 1


def pager(page: int, pages: int, window: int = 3) -> list[int | None]:
    """Page numbers to link: first, last and a window around ``page``; None marks a gap."""
    shown = sorted({1, pages, *range(max(1, page - window), min(pages, page + window) + 1)})
    out: list[int | None] = []
    for n in shown:
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


# -- small read queries for the portal (counts and the batch list) ------------------------------


def portal_counts(session: Session, catalog: Catalog, today: dt.date) -> dict[str, int]:
    """The home page's live figures."""
    in_force = [item.version_on(today) for item in catalog.items.values()]
    versions = [v for v in in_force if v is not None]
    departments = {d for v in versions for d in v.departments}
    return {
        "items": len(versions),
        "departments": len(departments),
        **records.holdings(session),
    }


# -- public pages ---------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    platform = _platform(request)
    today = today_cn()
    with platform.db.read() as session:
        counts = portal_counts(session, platform.catalog, today)
    return _render(request, "home.html", {"counts": counts, "today": today}, nav="home")


def _catalog_rows(catalog: Catalog, q: str, category: str, subject_kind: str, today: dt.date) -> list[dict[str, Any]]:
    items: Iterable[CatalogItem] = (
        catalog.search(q)
        if q.strip()
        else sorted(
            catalog.items.values(),
            key=lambda i: (
                {"basic": 0, "positive": 1, "negative": 2}.get(i.latest.category.value, 3),
                i.code,
            ),
        )
    )
    out = []
    for item in items:
        s = item_summary(item, today)
        if category and s["category"] != category:
            continue
        if subject_kind and subject_kind not in s["subject_kinds"]:
            continue
        s["department_names"] = [_department_name(catalog, d) for d in s["departments"]]
        out.append(s)
    return out


@router.get("/catalog", response_class=HTMLResponse)
def catalog_list(request: Request, q: str = "", category: str = "", subject_kind: str = "") -> HTMLResponse:
    platform = _platform(request)
    q = q.strip()[:100]
    category = category if category in CATEGORY_ZH else ""
    subject_kind = subject_kind if subject_kind in SUBJECT_KIND_ZH else ""
    today = today_cn()
    ctx = {
        "q": q,
        "category": category,
        "subject_kind": subject_kind,
        "today": today,
        "items": _catalog_rows(platform.catalog, q, category, subject_kind, today),
        "total": len(platform.catalog.items),
    }
    partial = (
        request.headers.get("hx-request") == "true" and request.headers.get("hx-history-restore-request") != "true"
    )
    response = _render(request, "_catalog_results.html" if partial else "catalog_list.html", ctx, nav="catalog")
    response.headers["Vary"] = "HX-Request"
    return response


@router.get("/catalog/{code}", response_class=HTMLResponse)
def catalog_item(request: Request, code: str) -> HTMLResponse:
    platform = _platform(request)
    item = platform.catalog.items.get(code)
    if item is None:
        return render_error(request, 404, f"未知的目录项：{code}", "item.unknown")
    today = today_cn()
    current = item.version_on(today)
    versions = []
    for v in reversed(item.versions):  # newest first
        d = version_dict(v)
        d["in_force"] = current is not None and v.version == current.version
        # Shown open: the version in force, or the newest when none is (yet, or any more).
        d["featured"] = d["in_force"] if current is not None else v is item.latest
        d["future"] = v.effective_from > today
        d["department_names"] = [_department_name(platform.catalog, c, short=False) for c in d["departments"]]
        d["column_options"] = {c.code: c.options for c in template_columns(v)}
        d["field_codes"] = {f["code"] for f in d["fields"]}
        versions.append(d)
    summary = item_summary(item, today)
    departments = [platform.catalog.departments[c] for c in summary["departments"] if c in platform.catalog.departments]
    return _render(
        request,
        "catalog_item.html",
        {
            "item": item,
            "summary": summary,
            "versions": versions,
            "departments": departments,
            "today": today,
        },
        nav="catalog",
    )


# -- sign-in ---------------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "") -> HTMLResponse:
    return _render(request, "login.html", {"next": _safe_next(next) or "", "username": ""}, nav="login")


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    platform = _platform(request)
    target = _safe_next(next)
    username = username.strip()[:64]
    if not username or not password:
        return _render(
            request,
            "login.html",
            {
                "next": target or "",
                "username": username,
                "error": "请输入用户名和密码",
                "error_code": "auth.missing_credentials",
            },
            status=400,
            nav="login",
        )
    refused: Unauthenticated | AddressLimited | None = None
    with platform.db.write() as session:
        try:  # inside the transaction: a failure is counted (and may lock the account) although sign-in is refused
            user = authenticate(session, username, password, address=client_address(request))
            issued = open_session(session, user, hours=platform.settings.session_hours)
            is_clerk = user.role == Role.CLERK.value
            must_change = user.must_change_password
        except (Unauthenticated, AddressLimited) as exc:
            refused = exc
    if refused is not None:
        return _render(
            request,
            "login.html",
            {
                "next": target or "",
                "username": username,
                "error": refused.message,
                "error_code": refused.code,
            },
            status=refused.status,
            nav="login",
        )
    landing = target or ("/submit" if is_clerk else "/batches")
    if must_change:  # a password an administrator handed over: the owner chooses their own first
        landing = "/account/password?" + urlencode({"next": landing})
    response = RedirectResponse(landing, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        max_age=platform.settings.session_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=platform.settings.secure_cookies,
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    viewer = current_viewer(request)
    token = request.cookies.get(SESSION_COOKIE)
    if viewer is not None and token:
        if not secrets.compare_digest(csrf_token.encode(), viewer.csrf_token.encode()):
            return _csrf_failed(request)
        with _platform(request).db.write() as session:
            close_session(session, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_platform(request).settings.secure_cookies,
    )
    return response


def _csrf_failed(request: Request) -> HTMLResponse:
    return render_error(request, 403, "安全校验失败（表单令牌缺失或不匹配），请刷新页面后重新提交", "auth.csrf")


# -- submission ---------------------------------------------------------------------------------


def _submit_form(
    request: Request, viewer: Viewer, *, item: str = "", error: DomainError | None = None, status: int = 200
) -> HTMLResponse:
    platform = _platform(request)
    assert viewer.department_code is not None
    versions = platform.catalog.items_for_department(viewer.department_code, today_cn())
    ctx: dict[str, Any] = {
        "versions": versions,
        "selected": item or (versions[0].item_code if len(versions) == 1 else ""),
        "accept": UPLOAD_ACCEPT,
        "department_name": _department_name(platform.catalog, viewer.department_code, short=False),
    }
    if error is not None:
        ctx.update(error=error.message, error_code=error.code, error_en=error.message_en)
    return _render(request, "submit.html", ctx, status=status, nav="submit")


def _clerk_only(request: Request, viewer: Viewer) -> HTMLResponse | None:
    if viewer.is_clerk:
        return None
    return render_error(
        request,
        403,
        "数据报送仅限数据提供单位的部门经办人使用；信用办和管理员请通过“报送记录”查看各单位的批次",
        "auth.clerk_only",
    )


@router.get("/submit", response_class=HTMLResponse)
def submit_form(request: Request) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    return _clerk_only(request, viewer) or _submit_form(request, viewer, item=request.query_params.get("item", ""))


@router.post("/submit", response_class=HTMLResponse)
def submit(
    request: Request,
    item: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return RedirectResponse("/login?next=/submit", status_code=303)
    if not secrets.compare_digest(csrf_token.encode(), viewer.csrf_token.encode()):
        return _csrf_failed(request)
    denied = _clerk_only(request, viewer)
    if denied is not None:
        return denied
    assert viewer.department_code is not None
    platform = _platform(request)
    allowed = {v.item_code for v in platform.catalog.items_for_department(viewer.department_code, today_cn())}
    if item not in allowed:
        err = DomainError(
            "submission.item_required",
            "请选择本单位可以报送的目录项",
            "Choose a catalog item your department submits",
            field="item",
        )
        return _submit_form(request, viewer, item=item, error=err, status=400)
    if file is None or not file.filename:
        err = DomainError(
            "file.required",
            "请选择要上传的文件（.xlsx、.csv 或 .jsonl）",
            "Choose a file to upload (.xlsx, .csv or .jsonl)",
            field="file",
        )
        return _submit_form(request, viewer, item=item, error=err, status=400)
    if wants_progress(request):
        return _submit_with_progress(request, platform, viewer, file, item)
    try:
        receipt = ingest_upload(platform, viewer.actor, file, item, viewer.department_code, channel="file")
    except DomainError as exc:  # FileRejected included: the file as a whole could not be taken
        status = exc.status if 400 <= exc.status < 500 else 400
        return _submit_form(request, viewer, item=item, error=exc, status=status)
    return RedirectResponse(f"/batches/{receipt.batch_id}", status_code=303)


def _submit_with_progress(request: Request, platform: Platform, viewer: Viewer, file: UploadFile,
                          item: str) -> Response:
    """The upload ingested with its progress streamed to the page (``api.progress``); a refusal of the whole
    upload before it starts (too large) is the form page with its error, as the plain post shows it."""
    assert viewer.department_code is not None
    try:
        return ingest_upload_streamed(
            platform, viewer.actor, file, item, viewer.department_code, channel="file",
            result=lambda receipt: {"url": f"/batches/{receipt.batch_id}", "batch": receipt.batch_id,
                                    "received": receipt.received, "rejected": receipt.rejected})
    except DomainError as exc:
        return _submit_form(request, viewer, item=item, error=exc, status=exc.status)


# -- receipts, batches, quality ---------------------------------------------------------------------


@router.get("/batches/{batch_id:int}", response_class=HTMLResponse)
def batch(request: Request, batch_id: int) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    platform = _platform(request)
    page = _page_number(request.query_params.get("page"))
    try:
        with platform.db.read() as session:
            receipt, total = records.get_receipt(
                session, batch_id, offset=(page - 1) * REJECTIONS_PER_PAGE, limit=REJECTIONS_PER_PAGE
            )
            submitter = submitter_names(session, platform.catalog, short=False)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    if not records.may_read_department(viewer.actor, receipt.department):
        return render_error(request, 403, "无权查看其他单位的批次", "batch.other_department")
    pages = max(1, math.ceil(total / REJECTIONS_PER_PAGE))
    item = platform.catalog.items.get(receipt.item)
    return _render(
        request,
        "batch.html",
        {
            "receipt": receipt,
            "total": total,
            "page": min(page, pages),
            "pages": pages,
            "pager": pager(min(page, pages), pages),
            "labels": column_labels(item) if item else {},
            "item_name": batch_item_names(platform.catalog).get(receipt.item, receipt.item),
            "department_name": submitter(receipt.department),
        },
        nav="batches",
    )


@router.get("/batches/{batch_id:int}/rejections.csv")
def batch_rejections_csv(request: Request, batch_id: int) -> Response:
    """Every rejected row's problems as a CSV a clerk opens in Excel (UTF-8 with BOM) to correct the file: the row
    numbers are the uploaded file's, the fields named as in the template. Streamed, however many there are."""
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    platform = _platform(request)
    try:
        with platform.db.read() as session:
            department, item = records.batch_source(session, batch_id)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    if not records.may_read_department(viewer.actor, department):
        return render_error(request, 403, "无权查看其他单位的批次", "batch.other_department")
    catalog_item = platform.catalog.items.get(item)
    labels = column_labels(catalog_item) if catalog_item else {}

    def lines() -> Iterator[bytes]:
        with platform.db.read() as session:
            yield from rejections_csv(records.all_rejections(session, batch_id), labels)

    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f"attachment; filename=batch-{batch_id}-rejections.csv"})


@router.get("/batches", response_class=HTMLResponse)
def batches(request: Request, department: str = "", item: str = "", rejected: str = "") -> Response:
    """报送记录: the batches a department sent (the office: every department's, or one), newest first; by item, and
    only those with rejected rows — what a clerk still has to correct."""
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    platform = _platform(request)
    catalog = platform.catalog
    if not viewer.is_office or department not in catalog.departments:
        department = ""  # a department's clerk: its own batches, whatever the address asks
    try:
        scope = records.department_scope(viewer.actor, department or None)
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    rejected_only = rejected == "1"
    page = _page_number(request.query_params.get("page"))
    with platform.db.read() as session:
        items = records.batch_items(session, scope)
        item = item if item in items else ""
        rows, total = records.recent_batches(session, scope, item=item or None, rejected_only=rejected_only,
                                             offset=(page - 1) * BATCHES_PER_PAGE, limit=BATCHES_PER_PAGE)
        names = submitter_names(session, catalog)
    pages = max(1, math.ceil(total / BATCHES_PER_PAGE))
    item_names = batch_item_names(catalog)

    def query(n: int) -> str:
        params = {"department": department, "item": item, "rejected": "1" if rejected_only else "", "page": n}
        return "?" + urlencode({k: v for k, v in params.items() if v not in ("", 1)})

    return _render(
        request,
        "batches.html",
        {
            "rows": rows,
            "total": total,
            "page": min(page, pages),
            "pages": pages,
            "pager": pager(min(page, pages), pages),
            "query": query,
            "scope": "全部单位" if scope is None else _department_name(catalog, scope, short=False),
            "item_names": item_names,
            "submitter": names,
            "department": department,
            "departments": list(catalog.departments.values()),
            "item": item,
            "items": sorted(items, key=lambda code: item_names.get(code, code)),
            "rejected_only": rejected_only,
            "filtered": bool(department or item or rejected_only),
        },
        nav="batches",
    )


@router.get("/quality", response_class=HTMLResponse)
def quality(request: Request, department: str = "") -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return _to_login(request)
    platform = _platform(request)
    catalog = platform.catalog
    department = department if department in catalog.departments else ""
    if not viewer.is_office:  # a department's clerk: its own figures only, whatever the address asks
        department = ""
    try:
        scope = records.department_scope(viewer.actor, department or None, code="quality.other_department")
    except DomainError as exc:
        return render_error(request, exc.status, exc.message, exc.code)
    with platform.db.read() as session:
        rows = [quality_out(platform, q) for q in records.quality(session, department=scope)]
    order = {code: i for i, code in enumerate(catalog.departments)}
    rows.sort(key=lambda r: (order.get(r.department, len(order)), r.department, r.item))
    totals = {
        k: sum(getattr(r, k) for r in rows)
        for k in ("batches", "received", "accepted", "unchanged", "corrected", "rejected")
    }
    return _render(
        request,
        "quality.html",
        {
            "rows": rows,
            "department": department,
            "own": None if viewer.is_office else _department_name(catalog, scope, short=False),
            "totals": totals,
            "departments": list(catalog.departments.values()),
            "department_names": {c: _department_name(catalog, c) for c in catalog.departments},
        },
        nav="quality",
    )
