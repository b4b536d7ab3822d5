"""Public search API (信用主体查询): organisations by name or USCC; persons only by exact citizen ID
and only when they have public information. No sign-in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from chengxin.api.deps import PlatformDep
from chengxin.search.service import MAX_QUERY, search_subjects

router = APIRouter(prefix="/api/v1/public", tags=["search"])
PAGE_SIZE = 20


class SubjectHitOut(BaseModel):
    id: int
    kind: str
    display_id: str
    display_name: str
    url: str


class SearchOut(BaseModel):
    query: str
    mode: str
    page: int
    page_size: int
    total_estimate: int
    capped: bool
    results: list[SubjectHitOut]


@router.get("/search", summary="信用主体查询 Public subject search", response_model=SearchOut)
def public_search(
    platform: PlatformDep,
    q: Annotated[str, Query(max_length=4 * MAX_QUERY, description="企业名称（任意片段）或统一社会信用代码")] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> SearchOut:
    with platform.db.read() as session:
        found = search_subjects(session, q, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
                                keyring=platform.keyring, catalog=platform.catalog)
    return SearchOut(
        query=found.query,
        mode=found.mode,
        page=page,
        page_size=PAGE_SIZE,
        total_estimate=found.total_estimate,
        capped=found.capped,
        results=[
            SubjectHitOut(id=h.id, kind=h.kind, display_id=h.display_id, display_name=h.display_name,
                          url=f"/subjects/{h.id}")
            for h in found.results
        ],
    )
