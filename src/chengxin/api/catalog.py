"""Catalog API: the information catalog and the exchange templates derived from it."""

from __future__ import annotations

import datetime as dt
import io
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from chengxin.api.deps import PlatformDep
from chengxin.catalog.model import CatalogItem, Duration, ItemVersion
from chengxin.catalog.rules import template_columns
from chengxin.core.clock import today_cn
from chengxin.core.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["catalog"])


def _duration(d: Duration | None) -> str | None:
    return None if d is None else d.text


def version_dict(v: ItemVersion) -> dict[str, Any]:
    return {
        "version": v.version,
        "effective_from": v.effective_from,
        "effective_to": v.effective_to,
        "name_zh": v.name_zh,
        "name_en": v.name_en,
        "description_zh": v.description_zh,
        "subject_kinds": sorted(k.value for k in v.subject_kinds),
        "category": v.category.value,
        "severities": [s.value for s in v.severities],
        "sharing": v.sharing.value,
        "public_for_persons": v.public_for_persons,
        "display_periods": {
            (k.value if k else "default"): {"min": _duration(p.min), "max": _duration(p.max)}
            for k, p in v.display_periods.items()
        },
        "repairable": v.repairable,
        "departments": sorted(v.departments),
        "report_section": v.report_section,
        "key_group": v.key_group,
        "basis": v.basis,
        "fields": [
            {
                "code": f.code, "label_zh": f.label_zh, "label_en": f.label_en, "type": f.type.value,
                "required": f.required, "max_length": f.max_length, "pattern": f.pattern, "minimum": f.minimum,
                "maximum": f.maximum, "scale": f.scale, "help_zh": f.help_zh,
                "options": [{"value": o.value, "label_zh": o.label_zh, "label_en": o.label_en} for o in f.options],
            }
            for f in v.fields
        ],
        "columns": [
            {"code": c.code, "label_zh": c.label_zh, "label_en": c.label_en, "required": c.required,
             "type": c.type.value}
            for c in template_columns(v)
        ],
    }


def item_summary(item: CatalogItem, on: dt.date) -> dict[str, Any]:
    v = item.version_on(on) or item.latest
    return {
        "code": item.code,
        "name_zh": v.name_zh,
        "name_en": v.name_en,
        "category": v.category.value,
        "subject_kinds": sorted(k.value for k in v.subject_kinds),
        "sharing": v.sharing.value,
        "repairable": v.repairable,
        "in_force": item.version_on(on) is not None,
        "current_version": v.version,
        "departments": sorted(v.departments),
    }


def _item(platform: PlatformDep, code: str) -> CatalogItem:
    try:
        return platform.catalog.item(code)
    except KeyError as exc:
        raise NotFound("item.unknown", f"未知的目录项：{code}", f"Unknown catalog item {code}") from exc


@router.get("/catalog/items", summary="目录项列表 List catalog items")
def list_items(
    platform: PlatformDep,
    q: Annotated[str, Query(max_length=100, description="中文或英文关键词")] = "",
    category: Annotated[str | None, Query(pattern="^(basic|positive|negative)$")] = None,
    subject_kind: Annotated[str | None, Query(pattern="^(person|organization)$")] = None,
    department: str | None = None,
    on: dt.date | None = None,
) -> dict[str, Any]:
    day = on or today_cn()
    items = platform.catalog.search(q) if q.strip() else list(platform.catalog.items.values())
    out = []
    for item in items:
        s = item_summary(item, day)
        if category and s["category"] != category:
            continue
        if subject_kind and subject_kind not in s["subject_kinds"]:
            continue
        if department and department not in s["departments"]:
            continue
        out.append(s)
    return {"on": day, "count": len(out), "items": out}


@router.get("/catalog/items/{code}", summary="目录项详情（全部版本）Catalog item with all its versions")
def get_item(platform: PlatformDep, code: str) -> dict[str, Any]:
    item = _item(platform, code)
    day = today_cn()
    current = item.version_on(day)
    return {
        "code": item.code,
        "current_version": current.version if current else None,
        "versions": [version_dict(v) for v in item.versions],
    }


@router.get("/catalog/items/{code}/template.xlsx", summary="Excel 报送模板 Excel template",
            response_class=Response)
def item_template_xlsx(platform: PlatformDep, code: str) -> Response:
    from chengxin.records.fileio import write_template

    version = _item(platform, code).latest
    buf = io.BytesIO()
    write_template(template_columns(version), buf, title_zh=f"{version.name_zh}（{code}）报送模板",
                   notes=[f"依据：{version.basis}"])
    return Response(
        buf.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename={code}.xlsx"},
    )


@router.get("/catalog/items/{code}/template.csv", summary="CSV 报送模板 CSV template", response_class=Response)
def item_template_csv(platform: PlatformDep, code: str) -> Response:
    from chengxin.records.fileio import write_csv_template

    version = _item(platform, code).latest
    buf = io.StringIO()
    write_csv_template(template_columns(version), buf)
    return Response(("\ufeff" + buf.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={code}.csv"})


@router.get("/departments", summary="数据提供单位 Source departments")
def list_departments(platform: PlatformDep) -> dict[str, Any]:
    today = today_cn()
    return {
        "departments": [
            {"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en, "short_zh": d.short_zh,
             "items": [v.item_code for v in platform.catalog.items_for_department(d.code, today)]}
            for d in platform.catalog.departments.values()
        ]
    }
