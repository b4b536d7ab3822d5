"""Portal pages of the civic credit points: the published model and the distribution (/scores), and the
person's own score with its explanation on /me (``_me_score.html``, via ``people_pages.ME_SECTIONS``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from chengxin.catalog.model import Category
from chengxin.core.clock import today_cn
from chengxin.core.errors import DomainError
from chengxin.platform import Platform
from chengxin.scores import service
from chengxin.web.people_pages import ME_SECTIONS, Person
from chengxin.web.routes import _platform, _render

router = APIRouter(include_in_schema=False)

SEVERITY_ZH = {"minor": "轻微", "general": "一般", "serious": "严重", None: "—"}


def _me_section(session: Session, platform: Platform, person: Person, today: dt.date) -> dict[str, Any]:
    """Variables of ``_me_score.html``: the person's score today, computed live from their records."""
    try:
        score = service.compute_one(session, platform.catalog, person.subject_id, today)
    except DomainError:
        return {"my_score": None}
    model = service.models_of(platform.catalog).get(score.model_id)
    return {"my_score": score, "my_score_model": model}


ME_SECTIONS.append(_me_section)


@router.get("/scores", response_class=HTMLResponse)
def scores_page(request: Request) -> HTMLResponse:
    platform = _platform(request)
    today = today_cn()
    models = service.models_of(platform.catalog)
    sections = []
    with platform.db.read() as session:
        for kind in ("person", "organization"):
            model = models.in_force(kind, today)
            if model is None:
                continue
            dist = service.distribution(session, platform.catalog, kind, today)
            items = []
            for rule in model.items.values():
                category = platform.catalog.item(rule.item_code).category
                items.append({"rule": rule, "positive": category is Category.POSITIVE})
            sections.append({"model": model, "items": items, "dist": dist,
                             "svg": Markup(dist.svg) if dist and dist.svg else None,  # noqa: S704 - generated here, text escaped
                             "drafts": [m for m in models.family(model.family) if m.effective_from > today]})
        comparison = service.latest_comparison(session)
    compare_svg = Markup(comparison.summary.get("svg", "")) if comparison else None  # noqa: S704 - generated here
    return _render(request, "scores_model.html", {
        "sections": sections, "today": today, "forbidden": models.forbidden, "forbidden_basis": models.forbidden_basis,
        "comparison": comparison, "compare_svg": compare_svg, "SEVERITY_ZH": SEVERITY_ZH,
    }, nav="scores")
