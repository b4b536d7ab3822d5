"""E-commerce trade API (电子商务信用, issue #7).

- ``POST /api/v1/ecommerce/platforms``: the credit office registers a platform (its operator by USCC);
  ``GET /api/v1/ecommerce/platforms``: the registered platforms with their counts (public).
- ``POST /api/v1/ecommerce/{shops,orders,ratings}/batches`` (JSON, up to ``batch.max_rows`` rows) and
  ``POST /api/v1/ecommerce/files`` (JSON Lines, CSV or Excel of any size; the Excel templates at
  ``GET /api/v1/ecommerce/templates/{shops,orders,ratings}.xlsx``): a platform's API key pushes its own
  shops, orders with items and shipments, and ratings with follow-ups. The answer is the receipt (accepted /
  unchanged / corrected / rejected with each row's problems); ``GET /api/v1/ecommerce/batches/{id}`` reads it again.
- ``GET /api/v1/ecommerce/shops`` (search) and ``GET /api/v1/ecommerce/shops/{platform}/{shop}``: the public
  licence display and rating figures of shops, for anyone.
- ``GET /api/v1/ecommerce/accounts/{account_hash}/points``: a platform reads one of its buyer accounts' points.

401 without a key; 403 for a key that is not a platform's, or for another platform's data.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from pydantic import BaseModel, Field

from chengxin.api.deps import ActorDep, OfficeDep, PlatformDep, ReadSession
from chengxin.api.schemas import ErrorOut, ReceiptOut
from chengxin.api.uploads import spool_upload
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.core.errors import PermissionDenied
from chengxin.ecommerce.trade import service
from chengxin.records.service import ApiRow, get_receipt

router = APIRouter(prefix="/api/v1/ecommerce", tags=["ecommerce"])
_ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorOut} for s in (400, 401, 403, 404, 409, 413, 422)}
_HARD_CAP = 100_000  # beyond any dated limit: refused before the body is turned into rows


class PlatformIn(BaseModel):
    uscc: str = Field(max_length=32, description="平台经营者的统一社会信用代码")
    code: str = Field(max_length=32, description="平台代码（网址用，小写字母、数字、_ 或 -）", examples=["tmall"])
    name: str = Field(max_length=200, description="平台名称", examples=["天猫"])
    url: str | None = Field(default=None, max_length=500, examples=["https://www.tmall.com"])
    operator_name: str | None = Field(default=None, max_length=200, description="经营者名称（默认同平台名称）")


class PlatformOut(BaseModel):
    code: str
    name: str
    url: str | None
    operator_uscc: str
    operator_name: str
    api_key_department: str = Field(description="该平台 API 密钥的部门代码（chengxin api-keys create --platform USCC）")


class PlatformCountsOut(PlatformOut):
    shops: int
    open_shops: int
    licensed_shops: int = Field(description="填报了营业执照号码（亮照）的店铺数")
    orders: int
    ratings: int
    last_batch_at: dt.datetime | None


def _platform_out(ref: service.PlatformRef) -> dict[str, Any]:
    return {"code": ref.code, "name": ref.name, "url": ref.url, "operator_uscc": ref.uscc,
            "operator_name": ref.operator_name, "api_key_department": ref.department_code}


@router.post("/platforms", summary="登记电商平台 Register a platform", response_model=PlatformOut, status_code=201,
             responses=_ERRORS)
def register_platform(body: PlatformIn, actor: OfficeDep, platform: PlatformDep) -> PlatformOut:
    """Credit office only. Registering the same code for the same operator again updates name and URL."""
    with platform.db.write() as session:
        ref = service.register_platform(session, platform.keyring, uscc=body.uscc, code=body.code, name=body.name,
                                        url=body.url, operator_name=body.operator_name, actor=actor)
    return PlatformOut(**_platform_out(ref))


@router.get("/platforms", summary="电商平台及其数据量 Platforms with counts", response_model=list[PlatformCountsOut])
def list_platforms(session: ReadSession) -> list[PlatformCountsOut]:
    return [PlatformCountsOut(**_platform_out(s.ref), shops=s.shops, open_shops=s.open_shops,
                              licensed_shops=s.licensed_shops, orders=s.orders, ratings=s.ratings,
                              last_batch_at=s.last_batch_at) for s in service.platform_summaries(session)]


# -- batches -------------------------------------------------------------------------------------------


class ShopsIn(BaseModel):
    """店铺实名登记信息。经营者填 owner_ric（自然人）或 owner_uscc（单位）之一，并填 owner_name。"""

    platform: str | None = Field(default=None, max_length=32, description="平台代码（经营者只运营一个平台时可省略）")
    shops: list[dict[str, Any]] = Field(max_length=_HARD_CAP, examples=[[{
        "shop_code": "S1001", "name": "龙城茶叶旗舰店", "url": "https://shop.example.com/S1001",
        "owner_uscc": "91320400MA1X00017F", "owner_name": "常州龙城茶叶有限公司", "licence_no": "91320400MA1X00017F",
        "category": "食品/茶叶", "opened_on": "2021-06-01", "status": "open"}]])


class OrdersIn(BaseModel):
    """订单：买家账号、收货地址、设备、支付账户只接受平台计算的 64 位十六进制哈希，绝不接受明文。金额单位为元。"""

    platform: str | None = Field(default=None, max_length=32)
    orders: list[dict[str, Any]] = Field(max_length=_HARD_CAP, examples=[[{
        "source_order_id": "O-20260301-0001", "shop_code": "S1001", "buyer_account_hash": "ab" * 32,
        "amount": "128.00", "placed_at": "2026-03-01T10:30:00+08:00", "status": "delivered",
        "address_hash": "cd" * 32, "device_hash": "ef" * 32, "payment_hash": "01" * 32,
        "items": [{"gtin": "6901234567892", "name": "碧螺春 250g", "quantity": 2, "unit_price": "64.00",
                   "unit_weight_g": 260}],
        "shipment": {"logistics_uscc": "91320400MA1Y000260", "tracking_hash": "23" * 32, "declared_weight_g": 600,
                     "shipped_at": "2026-03-01T16:00:00+08:00", "signed_at": "2026-03-03T09:12:00+08:00",
                     "scan_count": 7, "distance_km": 212.5}}]])


class RatingsIn(BaseModel):
    """评价（双向）与追加评价：direction 为 buyer_to_shop 或 shop_to_buyer；value 为 good / neutral / bad。"""

    platform: str | None = Field(default=None, max_length=32)
    ratings: list[dict[str, Any]] = Field(max_length=_HARD_CAP, examples=[[{
        "source_rating_id": "R-0001", "source_order_id": "O-20260301-0001", "direction": "buyer_to_shop",
        "value": "good", "stars": 5, "text": "茶叶新鲜，包装完好", "rated_at": "2026-03-04T20:00:00+08:00",
        "follow_up_text": "喝了一个月，口感稳定", "follow_up_at": "2026-04-05T21:00:00+08:00"}]])


def _rows(values: list[dict[str, Any]]) -> list[ApiRow]:
    service.check_batch_size(len(values), today_cn())
    return [ApiRow(row_no=i, values=v) for i, v in enumerate(values, start=1)]


@router.post("/shops/batches", summary="报送店铺 Submit shops", response_model=ReceiptOut, responses=_ERRORS)
def submit_shops(body: ShopsIn, actor: ActorDep, platform: PlatformDep) -> ReceiptOut:
    """Each shop's owner is validated (GB 11643 / GB 32100) and bound to its real-name subject (encrypted)."""
    return ReceiptOut.of(service.ingest_shops(platform.db, platform.keyring, _rows(body.shops), actor=actor,
                                              platform=body.platform, channel="api", today=today_cn()))


@router.post("/orders/batches", summary="报送订单 Submit orders", response_model=ReceiptOut, responses=_ERRORS)
def submit_orders(body: OrdersIn, actor: ActorDep, platform: PlatformDep) -> ReceiptOut:
    """Idempotent by (platform, source_order_id): the same order again is ``unchanged``, a changed one ``corrected``."""
    return ReceiptOut.of(service.ingest_orders(platform.db, _rows(body.orders), actor=actor, platform=body.platform,
                                               channel="api", now=utcnow()))


@router.post("/ratings/batches", summary="报送评价 Submit ratings", response_model=ReceiptOut, responses=_ERRORS)
def submit_ratings(body: RatingsIn, actor: ActorDep, platform: PlatformDep) -> ReceiptOut:
    """One rating per order and direction; a follow-up once, within the dated window after the rating."""
    return ReceiptOut.of(service.ingest_ratings(platform.db, _rows(body.ratings), actor=actor,
                                                platform=body.platform, channel="api", now=utcnow()))


@router.post("/files", summary="上传文件报送 Submit a file (.jsonl / .csv / .xlsx)", response_model=ReceiptOut,
             responses=_ERRORS)
def submit_file(
    actor: ActorDep,
    platform: PlatformDep,
    file: Annotated[UploadFile, File(description=".jsonl、.csv（UTF-8 或 GBK）或 .xlsx（模板见 /api/v1/ecommerce/templates/{kind}.xlsx）；CSV/Excel 订单每行一件商品（item_* 列）")],
    kind: Annotated[Literal["shops", "orders", "ratings"], Form(description="shops | orders | ratings")],
    platform_code: Annotated[str | None, Form(alias="platform", max_length=32)] = None,
) -> ReceiptOut:
    limit = platform.settings.max_upload_bytes
    with spool_upload(file, limit, "chengxin-ec-") as path:
        receipt = service.ingest_file(platform.db, platform.keyring, path, kind, actor=actor, platform=platform_code,
                                      channel="file", now=utcnow(), filename=file.filename, max_bytes=limit)
    return ReceiptOut.of(receipt)


@router.get("/batches/{batch_id}", summary="批次回执 A batch's receipt", response_model=ReceiptOut, responses=_ERRORS)
def get_batch(
    batch_id: int,
    session: ReadSession,
    actor: ActorDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ReceiptOut:
    receipt, total = get_receipt(session, batch_id, offset=offset, limit=limit)
    if actor.department_code != receipt.department and actor.role not in ("admin", "credit_office"):
        raise PermissionDenied("batch.other_department", "无权查看其他单位的批次", "Not your batch")
    return ReceiptOut.of(receipt, total=total, offset=offset)


@router.get("/templates/{kind}.xlsx", summary="平台报送 Excel 模板 Excel template of a file kind",
            response_class=Response, responses=_ERRORS)
def file_template(kind: Literal["shops", "orders", "ratings"]) -> Response:
    """中文表头（批注和“说明”表给出英文代码）；填好后经 ``POST /api/v1/ecommerce/files`` 报送。Public, like the
    catalog items' templates."""
    from chengxin.ecommerce.trade.files import write_kind_template

    buf = io.BytesIO()
    write_kind_template(kind, buf)
    return Response(buf.getvalue(), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=ecommerce_{kind}.xlsx"})


# -- public figures ------------------------------------------------------------------------------------


class WindowOut(BaseModel):
    good: int
    neutral: int
    bad: int
    total: int
    good_rate: float | None = Field(description="好评率 = 好评 / (好评 + 中评 + 差评)；无评价时为空")


class AggregatesOut(BaseModel):
    recent_days: int = Field(description="近期窗口天数（按规则，默认 30）")
    half_year_months: int = Field(description="半年窗口月数（按规则，默认 6）")
    recent: WindowOut
    half_year: WindowOut
    all_time: WindowOut
    follow_ups: int = Field(description="追加评价数")
    points: int = Field(description="店铺信用积分（好评 +1、中评 0、差评 −1；同一买家每自然月计分不超过上限）")


class OwnerOut(BaseModel):
    kind: str = Field(description="person | organization")
    display_id: str = Field(description="统一社会信用代码；自然人为脱敏的公民身份号码")
    display_name: str = Field(description="单位名称；自然人为脱敏姓名")
    verified: bool = Field(description="经营者身份已按国家标准核验并实名登记")


class GradeOut(BaseModel):
    band: str
    band_name: str
    total: int
    model: str


class ShopOut(BaseModel):
    platform: str
    platform_name: str
    shop_code: str
    name: str
    url: str | None
    category: str
    opened_on: dt.date
    status: str
    licence_no: str | None
    owner: OwnerOut
    grade: GradeOut | None = Field(description="经营者（单位）的公共信用等级；自然人经营者的个人积分不公开")
    lists: list[dict[str, Any]] = Field(description="经营者现行的名单（红名单、严重失信主体名单、重点关注名单）")
    ratings: AggregatesOut
    rules_version: str
    points_basis: str
    page_url: str
    badge_url: str


def _window(w: service.Window) -> WindowOut:
    return WindowOut(good=w.good, neutral=w.neutral, bad=w.bad, total=w.total, good_rate=w.good_rate)


def shop_out(s: service.ShopPublic) -> ShopOut:
    a = s.aggregates
    base = f"/shops/{s.platform.code}/{quote(s.shop_code, safe='')}"
    return ShopOut(
        platform=s.platform.code, platform_name=s.platform.name, shop_code=s.shop_code, name=s.name, url=s.url,
        category=s.category, opened_on=s.opened_on, status=s.status, licence_no=s.licence_no,
        owner=OwnerOut(kind=s.owner.kind, display_id=s.owner.display_id, display_name=s.owner.display_name,
                       verified=True),
        grade=GradeOut(band=s.grade.band, band_name=s.grade.band_name_zh, total=s.grade.total, model=s.grade.model_id)
        if s.grade else None,
        lists=[{"list": m["list"], "entry_id": m["entry_id"], "term_from": m["term_from"], "term_to": m["term_to"],
                "basis": m.get("basis_zh")} for m in s.memberships],
        ratings=AggregatesOut(recent_days=a.recent_days, half_year_months=a.half_year_months, recent=_window(a.recent),
                              half_year=_window(a.half_year), all_time=_window(a.all_time), follow_ups=a.follow_ups,
                              points=a.points),
        rules_version=s.rules_version, points_basis=s.points_basis, page_url=base, badge_url=f"{base}/badge.svg")


class ShopPageOut(BaseModel):
    items: list[service.ShopSummary] = Field(description="good_rate：全部买家评价的好评率；ratings：评价数")
    total: int
    page: int
    per_page: int


@router.get("/shops", summary="网店信用查询 Search shops", response_model=ShopPageOut, responses=_ERRORS)
def search_shops(
    session: ReadSession,
    q: Annotated[str, Query(max_length=100, description="店铺名称的一部分或店铺编号")] = "",
    platform: Annotated[str, Query(max_length=32, description="平台代码")] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> ShopPageOut:
    items, total = service.search_shops(session, q=q, platform=platform, page=page)
    return ShopPageOut(items=items, total=total, page=page, per_page=service.PER_PAGE)


@router.get("/shops/{platform_code}/{shop_code}", summary="网店亮照信息与评价 A shop's licence display and ratings",
            response_model=ShopOut, responses=_ERRORS)
def shop(platform_code: str, shop_code: str, platform: PlatformDep, session: ReadSession) -> ShopOut:
    return shop_out(service.shop_public(session, platform.catalog, platform_code, shop_code, now=utcnow()))


class PointsOut(BaseModel):
    platform: str
    account_hash: str
    points: int = Field(description="买家信用积分（店铺对买家的评价，按同一规则计分）")
    ratings_received: int


@router.get("/accounts/{account_hash}/points", summary="买家账号信用积分 A buyer account's points",
            response_model=PointsOut, responses=_ERRORS)
def account_points(account_hash: str, actor: ActorDep, platform: PlatformDep,
                   platform_code: Annotated[str | None, Query(alias="platform", max_length=32)] = None) -> PointsOut:
    """A platform reads the points of its own buyer accounts only."""
    with platform.db.read() as session:
        ref = service.resolve_platform(session, actor, platform_code)
        points, received = service.account_points(session, ref, account_hash, today_cn())
    return PointsOut(platform=ref.code, account_hash=account_hash.lower(), points=points, ratings_received=received)
