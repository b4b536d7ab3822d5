"""HTML and PDF rendering of a credit report from a :class:`CreditFile` (RULES §6 layout).

Every value printed comes from the canonical content (:func:`signing.canonical_content`), so the
text on the page and the signed JSON are the same strings.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2

from chengxin.catalog.loader import REPORT_SECTIONS
from chengxin.core.clock import CHINA
from chengxin.disclosure.model import CreditFile
from chengxin.reports.signing import AUDIENCE_ZH, SUBJECT_KIND_ZH, canonical_content

TEMPLATES = Path(__file__).resolve().parent / "templates"
DEFAULT_VALID_DAYS = 30
PLATFORM_NAME = "诚信常州 · 公共信用信息平台"
ISSUER = "常州市社会信用体系建设领导小组办公室（市信用办）"
LEGAL_BASIS = (
    "本报告依据《征信业管理条例》《社会信用体系建设规划纲要（2014—2020年）》"
    "《国务院办公厅关于进一步完善失信约束制度构建诚信建设长效机制的指导意见》（国办发〔2020〕49号）"
    "及本市公共信用信息管理有关规定，根据各信息提供单位归集的公共信用信息出具。"
    "报告内容以出具时平台记录为准；信息主体对记录有异议的，可向本平台或信息提供单位提出异议申请。"
)
SECTION_NUMERALS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一")
STATUS_ZH = {"active": "有效", "revoked": "已撤销"}


@dataclass(frozen=True)
class ReportMeta:
    report_no: str
    generated_at: dt.datetime  # aware
    valid_until: dt.date
    base_url: str = "http://127.0.0.1:8000"
    verification_code: str = ""
    key_id: str = ""
    requester: str | None = None

    @classmethod
    def new(cls, now: dt.datetime, *, valid_days: int = DEFAULT_VALID_DAYS, **kw: Any) -> ReportMeta:
        local = now.astimezone(CHINA)
        return cls(report_no=new_report_no(now), generated_at=now,
                   valid_until=local.date() + dt.timedelta(days=valid_days), **kw)

    @property
    def generated_text(self) -> str:
        return self.generated_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")

    @property
    def valid_text(self) -> str:
        return self.valid_until.isoformat()

    @property
    def verify_url(self) -> str:
        query = urlencode({"no": self.report_no, "code": self.verification_code})
        return f"{self.base_url.rstrip('/')}/verify?{query}"


def new_report_no(now: dt.datetime) -> str:
    """``CX`` + Beijing time YYYYMMDDHHMMSS + 6 random base32 characters: timestamp-led and unique."""
    stamp = now.astimezone(CHINA).strftime("%Y%m%d%H%M%S")
    return f"CX{stamp}{base64.b32encode(secrets.token_bytes(5)).decode()[:6]}"


def content_for(file: CreditFile, meta: ReportMeta) -> dict[str, Any]:
    return canonical_content(file, report_no=meta.report_no, generated_at=meta.generated_text,
                             valid_until=meta.valid_text, requester=meta.requester)


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True)


@lru_cache(maxsize=64)
def qr_svg(url: str) -> str:
    """The QR code as inline SVG (vector in the PDF)."""
    import qrcode
    import qrcode.constants
    from qrcode.image.svg import SvgPathImage

    qr = qrcode.QRCode(version=None, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=2,
                       image_factory=SvgPathImage)
    qr.add_data(url)
    qr.make(fit=True)
    svg = qr.make_image().to_string(encoding="unicode")
    return str(svg).split("?>", 1)[-1].strip()


def render_html(file: CreditFile, meta: ReportMeta) -> str:
    content = content_for(file, meta)
    sections: dict[str, list[dict[str, Any]]] = {s: [] for s in REPORT_SECTIONS}
    for item in content["items"]:
        sections[item["section"]].append(item)
    return _env().get_template("report.html").render(
        c=content,
        meta=meta,
        sections=list(sections.items()),
        numerals=SECTION_NUMERALS,
        kind_zh=SUBJECT_KIND_ZH.get(file.kind, file.kind),
        audience_zh=AUDIENCE_ZH.get(content["audience"], content["audience"]),
        id_label="公民身份号码" if file.kind == "person" else "统一社会信用代码",
        is_person=file.kind == "person",
        qr=qr_svg(meta.verify_url),
        platform_name=PLATFORM_NAME,
        issuer=ISSUER,
        legal_basis=LEGAL_BASIS,
        status_zh=STATUS_ZH,
    )


def render_pdf(html: str, attachments: dict[str, bytes] | None = None) -> bytes:
    """WeasyPrint PDF (fonts subset and embedded), with optional embedded files."""
    from weasyprint import HTML, Attachment

    files = [Attachment(file_obj=io.BytesIO(data), name=name, description="chengxin signed report data")
             for name, data in (attachments or {}).items()]
    pdf = HTML(string=html, base_url=str(TEMPLATES)).write_pdf(attachments=files)
    assert pdf is not None
    return bytes(pdf)
