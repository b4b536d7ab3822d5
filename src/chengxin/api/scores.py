"""Civic credit points and grades API: the published model, one's own score (person token), staff reads.

- ``GET /api/v1/scores/model``: the model in force for persons (or organisations) — public: a model that
  judges people must be transparent (个人信息保护法第二十四条).
- ``GET /api/v1/me/score``: the person's own score with its explanation (person bearer token only).
- ``GET /api/v1/scores/subjects/{id}``: staff or a department key; ``purpose`` is required and every
  read is written to the query log the person sees (like the government read of a file).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from chengxin.api.deps import ActorDep, PlatformDep
from chengxin.api.me import PersonDep
from chengxin.api.schemas import ErrorOut
from chengxin.core.clock import today_cn
from chengxin.core.errors import NotFound, PermissionDenied
from chengxin.scores import service
from chengxin.scores.model import PointsModel
from chengxin.scores.rules import Score

router = APIRouter(tags=["scores"])
_ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorOut} for s in (400, 401, 403, 404, 422)}


class DimensionOut(BaseModel):
    code: str
    name_zh: str
    total: int = Field(description="封顶后的维度分")
    raw: int = Field(description="封顶前的合计")
    min: int
    max: int


class ContributionOut(BaseModel):
    record_id: int | None = Field(description="记录编号；名单加分时为 null")
    item_code: str
    name_zh: str
    dimension: str
    severity: str | None
    decision_date: dt.date | None
    raw_points: int
    weight: float = Field(description="按时间衰减的权重（1 = 全额）")
    points: int
    counts_until: dt.date | None = Field(description="自该日起不再计分")
    next_step_on: dt.date | None = Field(description="自该日起权重降低")
    next_points: int | None
    under_objection: bool


class ChangeOut(BaseModel):
    kind: Literal["stops", "steps_down", "more_units", "band_cap"]
    on: dt.date | None
    delta: int
    text_zh: str
    text_en: str
    record_id: int | None
    item_code: str | None
    units: str | None


class BenefitOut(BaseModel):
    code: str
    name_zh: str
    name_en: str


class ScoreOut(BaseModel):
    subject_id: int
    model_id: str = Field(description="计算所依据的模型版本，如 civic-2025.1")
    as_of: dt.date
    total: int
    band: str
    band_name_zh: str
    capped_by: list[str] = Field(description="因列入名单而限制等级的名单类型")
    dimensions: list[DimensionOut]
    contributions: list[ContributionOut]
    changes: list[ChangeOut] = Field(description="怎样会改变：到期、衰减、再增加多少")
    benefits: list[BenefitOut]


def score_out(subject_id: int, score: Score, model: PointsModel) -> ScoreOut:
    return ScoreOut(
        subject_id=subject_id, model_id=score.model_id, as_of=score.day, total=score.total, band=score.band,
        band_name_zh=score.band_name_zh, capped_by=list(score.capped_by),
        dimensions=[DimensionOut(code=d.code, name_zh=d.name_zh, total=d.total, raw=d.raw, min=d.min, max=d.max)
                    for d in score.dimensions],
        contributions=[ContributionOut(
            record_id=c.record_id, item_code=c.item_code, name_zh=c.name_zh, dimension=c.dimension,
            severity=c.severity, decision_date=c.decision_date, raw_points=c.raw_points, weight=c.weight_milli / 1000,
            points=c.points, counts_until=c.counts_until, next_step_on=c.next_step_on, next_points=c.next_points,
            under_objection=c.under_objection) for c in score.contributions],
        changes=[ChangeOut(kind=ch.kind, on=ch.on, delta=ch.delta, text_zh=ch.text_zh,
                           text_en=ch.text_en, record_id=ch.record_id, item_code=ch.item_code,
                           units=str(ch.units) if ch.units is not None else None) for ch in score.changes],
        benefits=[BenefitOut(code=b, name_zh=model.benefits[b].name_zh, name_en=model.benefits[b].name_en)
                  for b in score.benefits],
    )


class BandOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    min: int
    max: int
    benefits: list[BenefitOut]


class ItemPointsOut(BaseModel):
    item_code: str
    name_zh: str
    dimension: str
    points: dict[str, int] = Field(description="按严重程度的分值（无严重程度的目录项键为 \"-\"）")
    per_unit: dict[str, Any] | None = Field(description="按数量计分：每 unit 个单位 points 分")


class DecayStepOut(BaseModel):
    start: str = Field(description="自决定日期起的期间（ISO 8601）")
    weight: float


class ModelOut(BaseModel):
    id: str
    family: str
    version: str
    subject_kind: str
    name_zh: str
    name_en: str
    effective_from: dt.date
    effective_to: dt.date | None
    basis: str
    base: int
    range_min: int
    range_max: int
    dimensions: list[DimensionOut]
    items: list[ItemPointsOut]
    decay: dict[str, list[DecayStepOut]]
    decay_ends: dict[str, str]
    memberships: dict[str, dict[str, Any]]
    bands: list[BandOut]
    forbidden_attributes: list[str] = Field(description="模型不得使用的属性（公平性约束）")


def model_out(model: PointsModel, forbidden: list[str]) -> ModelOut:
    bands = []
    for i, b in enumerate(model.bands):
        top = model.range_max if i == 0 else model.bands[i - 1].min - 1
        bands.append(BandOut(code=b.code, name_zh=b.name_zh, name_en=b.name_en, min=b.min, max=top,
                             benefits=[BenefitOut(code=x, name_zh=model.benefits[x].name_zh,
                                                  name_en=model.benefits[x].name_en) for x in b.benefits]))
    decay: dict[str, list[DecayStepOut]] = {}
    ends: dict[str, str] = {}
    for rule in model.items.values():
        cat = "negative" if rule.decay.ends is None or any(v < 0 for v in rule.points.values()) else "positive"
        decay[cat] = [DecayStepOut(start=s.start.text, weight=s.weight_milli / 1000) for s in rule.decay.steps]
        ends[cat] = rule.decay.ends.text if rule.decay.ends is not None else "display_end"
    return ModelOut(
        id=model.id, family=model.family, version=model.version, subject_kind=model.subject_kind.value,
        name_zh=model.name_zh, name_en=model.name_en, effective_from=model.effective_from,
        effective_to=model.effective_to, basis=model.basis, base=model.base, range_min=model.range_min,
        range_max=model.range_max,
        dimensions=[DimensionOut(code=d.code, name_zh=d.name_zh, total=0, raw=0, min=d.min, max=d.max)
                    for d in model.dimensions],
        items=[ItemPointsOut(item_code=r.item_code, name_zh=r.name_zh, dimension=r.dimension,
                             points={(k or "-"): v for k, v in r.points.items()},
                             per_unit=({"field": r.per_unit.field, "unit": str(r.per_unit.unit),
                                        "points": r.per_unit.points} if r.per_unit else None))
               for r in model.items.values()],
        decay=decay, decay_ends=ends,
        memberships={k: {"dimension": m.dimension, "points": m.points, "cap_band": m.cap_band}
                     for k, m in model.memberships.items()},
        bands=bands, forbidden_attributes=forbidden,
    )


@router.get("/api/v1/scores/model", response_model=ModelOut, responses=_ERRORS,
            summary="现行积分 / 等级模型 The published model")
def published_model(
    platform: PlatformDep,
    subject_kind: Annotated[Literal["person", "organization"], Query(description="主体类型")] = "person",
    version: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z]+-[0-9]{4}\.[0-9]+$",
                                         description="模型版本，如 civic-2026.1（默认：现行）")] = None,
) -> ModelOut:
    """The model in force today for the subject kind (or a named version): dimensions, points, decay, bands,
    benefits, and the attributes it may never use."""
    model = service.model_for(platform.catalog, subject_kind, today_cn(), version)
    models = service.models_of(platform.catalog)
    return model_out(model, [a.name_zh for a in models.forbidden])


@router.get("/api/v1/me/score", response_model=ScoreOut, responses=_ERRORS, tags=["me"],
            summary="本人文明信用积分及说明 My civic credit points")
def my_score(platform: PlatformDep, account: PersonDep) -> ScoreOut:
    """The signed-in person's score today: total, band, dimensions, every record that moved it, what would change it."""
    today = today_cn()
    score = service.my_score(platform.db, platform.catalog, account.subject_id, today)
    return score_out(account.subject_id, score, service.model_for(platform.catalog, "person", today, score.model_id))


@router.get("/api/v1/scores/subjects/{subject_id}", response_model=ScoreOut, responses=_ERRORS,
            summary="主体积分 / 等级（记录查询目的）Score of a subject (purpose logged)")
def subject_score(
    subject_id: Annotated[int, Path(ge=1, le=2**62)],
    platform: PlatformDep,
    actor: ActorDep,
    purpose: Annotated[str, Query(min_length=1, max_length=500, description="查询目的（必填，记入查询使用登记）")],
) -> ScoreOut:
    """Staff or a department API key. The read is logged with its purpose; the person sees it in their file."""
    if actor.kind not in ("staff", "api_key"):
        raise PermissionDenied("query.government_only", "仅限政务部门查询", "Government departments only")
    today = today_cn()
    score = service.staff_read(platform.db, platform.catalog, subject_id, actor, purpose, today)
    try:
        model = service.models_of(platform.catalog).get(score.model_id)
    except KeyError:  # pragma: no cover - the score was just computed from this model
        raise NotFound("score.model_unknown", "模型不存在", "No such model") from None
    return score_out(subject_id, score, model)
