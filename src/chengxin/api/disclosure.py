"""Disclosure API: public credit files (no sign-in) and government reads (logged with their purpose)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from chengxin.api.deps import ActorDep, PlatformDep
from chengxin.api.schemas import MAX_OFFSET, ErrorOut
from chengxin.core.clock import today_cn
from chengxin.core.errors import PermissionDenied
from chengxin.disclosure import service
from chengxin.disclosure.model import CreditFile

router = APIRouter(prefix="/api/v1", tags=["disclosure"])

SubjectId = Annotated[int, Path(ge=1, le=2**63 - 1, description="信用主体编号")]
_ERRORS: dict[int | str, dict[str, object]] = {404: {"model": ErrorOut}, 422: {"model": ErrorOut}}
# A file's items come a page at a time, newest first: most subjects fit on the first page (median 6 records),
# and a subject with over a thousand records does not cost every caller the whole file (bench/RESULTS.md).
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="跳过的条数 items to skip, newest first")]
Limit = Annotated[int, Query(ge=1, le=1000, description="每页条数 items per page")]


class FieldLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    label_zh: str
    value: str


class RecordChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    change: str
    status: str
    at: dt.datetime
    reason: str | None


class FileItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    record_id: int
    item_code: str
    item_name_zh: str
    category: str = Field(description="basic | positive | negative")
    severity: str | None
    report_section: str
    sharing: str
    department_code: str
    department_name_zh: str = Field(description="来源单位")
    decision_date: dt.date
    display_ends_on: dt.date | None = Field(description="公示截止日（当日起不再公示）；null：长期公示")
    status: str
    displayed: bool
    under_objection: bool
    statement: str | None
    version: int
    fields: list[FieldLineOut]
    history: list[RecordChangeOut] = Field(default=[], description="仅本人可见：全部版本")


class QueryLogEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: dt.datetime
    reader: str
    purpose: str
    basis: str


class FilePageOut(BaseModel):
    """分页: which slice of the items this answer holds."""

    model_config = ConfigDict(from_attributes=True)

    offset: int = Field(description="跳过的条数（按决定日期由近及远）")
    limit: int = Field(description="本页最多条数")
    total: int = Field(description="可见信息总条数")
    next_offset: int | None = Field(description="下一页的 offset；null：已是最后一页")


class CreditFileOut(BaseModel):
    """信用档案 — a subject's file as one audience sees it."""

    model_config = ConfigDict(from_attributes=True)

    subject_id: int
    kind: str = Field(description="person | organization")
    display_id: str = Field(description="统一社会信用代码，或脱敏的公民身份号码")
    display_name: str
    audience: str
    as_of: dt.date
    items: list[FileItemOut]
    query_log: list[QueryLogEntryOut]
    page: FilePageOut | None = Field(default=None, description="分页；null：完整档案")


def credit_file_response(file: CreditFile) -> Response:
    """The file as JSON, serialised straight from the dataclasses by orjson: the very bytes of
    ``CreditFileOut.model_validate(file).model_dump_json()`` (the dataclasses and the models have the same
    fields in the same order; ``tests/api/test_disclosure_api.py`` holds the bytes equal), without building a
    pydantic model per record and per field line first — 10–20x less work for a file of hundreds of records,
    and far fewer objects for the garbage collector. ``response_model`` still documents the shape."""
    return Response(orjson.dumps(file, option=orjson.OPT_UTC_Z), media_type="application/json")


@router.get("/public/subjects/{subject_id}", summary="公开信用信息 Public credit file", response_model=CreditFileOut,
            responses=_ERRORS)
async def public_subject(subject_id: SubjectId, platform: PlatformDep, offset: Offset = 0,
                         limit: Limit = 100) -> Response:
    """What anyone may see: records in their display period whose sharing level is public. A person's
    file only through items the catalog makes public for persons, always masked; a person with none: 404.
    A page of the items at a time (``page.next_offset``)."""
    # ``async``, reading right on the event loop: a page of a file is one or two indexed statements and
    # costs ~1 ms of CPU (a heavy subject's page ~8 ms), less than the hand-offs between the loop and a
    # thread-pool thread it replaces — each of which, under load, waits for the GIL (bench/RESULTS.md,
    # session 7). The session is opened and closed within the call, never held across an ``await``.
    # snapshot=False: the subject and its records are two statements that need no common snapshot, and on
    # PostgreSQL a transaction around them costs two round trips (core.db.Database.read).
    with platform.db.read(snapshot=False) as session:
        file = service.public_file(session, platform.catalog, subject_id, today_cn(), window=(offset, limit))
    return credit_file_response(file)


@router.get("/public/subjects", summary="按统一社会信用代码查公开信息 Public file by USCC",
            response_model=CreditFileOut, responses={**_ERRORS, 400: {"model": ErrorOut}})
async def public_subject_by_identifier(
    platform: PlatformDep,
    uscc: Annotated[str | None, Query(max_length=20, description="统一社会信用代码")] = None,
    ric: Annotated[str | None, Query(max_length=20, description="公民身份号码（仅有公开信息的自然人）")] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Response:
    with platform.db.read(snapshot=False) as session:  # on the loop, as above
        subject_id = service.find_public_subject(session, platform.keyring, uscc=uscc, ric=ric)
        file = service.public_file(session, platform.catalog, subject_id, today_cn(), window=(offset, limit))
    return credit_file_response(file)


@router.get("/gov/subjects/{subject_id}/file", summary="政务共享查询（记录查询目的）Government read (purpose logged)",
            response_model=CreditFileOut, responses={**_ERRORS, 401: {"model": ErrorOut}, 403: {"model": ErrorOut}})
async def government_subject(
    subject_id: SubjectId,
    platform: PlatformDep,
    actor: ActorDep,
    purpose: Annotated[str, Query(min_length=1, max_length=500, description="查询目的（必填，记入查询使用登记）")],
    offset: Offset = 0,
    limit: Limit = 100,
) -> Response:
    """Staff or a department API key: what the sharing level allows the caller's department. Every read
    is written to the query log with its purpose, and the person sees it in their own file. A page of the
    items at a time; each page is a read and is logged."""
    if actor.kind not in ("staff", "api_key"):
        raise PermissionDenied("query.government_only", "仅限政务部门查询", "Government departments only")
    # Read on the loop (as the public file), then log: the file leaves only once its query-log row is
    # committed — a one-row transaction on the loop (Database.append_async; on SQLite, awaited through the
    # group commit while another writer holds the lock).
    with platform.db.read(snapshot=False) as session:
        file = service.government_read(session, platform.catalog, subject_id, actor, purpose, today_cn(),
                                       window=(offset, limit))
    await service.commit_government_read_log(platform.db, file, actor, purpose)
    return credit_file_response(file)
