"""HTML and PDF rendering of a credit report from a :class:`CreditFile` (RULES §6 layout).

Every value printed comes from the canonical content (:func:`signing.canonical_content`), so the
text on the page and the signed JSON are the same strings.
"""

from __future__ import annotations

import atexit
import base64
import datetime as dt
import gc
import hashlib
import io
import logging
import os
import secrets
import subprocess
import tempfile
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2

from chengxin.catalog.loader import REPORT_SECTIONS
from chengxin.core.clock import CHINA
from chengxin.core.policy import policy_on
from chengxin.disclosure.model import CreditFile
from chengxin.reports.signing import AUDIENCE_ZH, SUBJECT_KIND_ZH, canonical_content

log = logging.getLogger("chengxin.reports")

TEMPLATES = Path(__file__).resolve().parent / "templates"
PLATFORM_NAME = "诚信常州 · 公共信用信息平台"
ISSUER = "常州市社会信用体系建设领导小组办公室（市信用办）"
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
    def new(cls, now: dt.datetime, *, valid_days: int | None = None, **kw: Any) -> ReportMeta:
        """A new report's metadata; its validity by default the dated ``reports.valid_days``."""
        day = now.astimezone(CHINA).date()
        days = policy_on(day).reports.valid_days if valid_days is None else valid_days
        return cls(report_no=new_report_no(now), generated_at=now, valid_until=day + dt.timedelta(days=days), **kw)

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


QR_MODULE_PX = 8  # pixels per QR module: sharp even in viewers that smooth scaled images


@lru_cache(maxsize=64)
def qr_png(url: str) -> str:
    """The QR code of ``url`` as a data: URI of a 1-bit PNG (~1 KB), printed without interpolation.

    The same URI twice in a report is one image in the PDF, drawn twice; the two inline SVG QR codes
    it replaces were parsed and drawn path command by path command (~18 ms a report)."""
    import qrcode
    import qrcode.constants
    from qrcode.image.pil import PilImage

    qr = qrcode.QRCode(version=None, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=QR_MODULE_PX,
                       border=2, image_factory=PilImage)
    qr.add_data(url)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


LABEL_COLUMN_EM = 10  # the label column of an item (tab-size in report.html) holds 10 CJK characters


def label_gap(label: str) -> str:
    """What separates a field's label from its value: a tab to the value column, or a line break
    (the value then starts on the next line, in its column) when the label is wider than the column."""
    width = sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.55 for ch in label)
    return "\t" if width <= LABEL_COLUMN_EM else "\n"


def render_html(file: CreditFile, meta: ReportMeta, *, inline_css: bool = False) -> str:
    """The report as HTML. The stylesheet (:func:`report_css`) is given to WeasyPrint separately,
    parsed once per process; ``inline_css=True`` embeds it for a stand-alone HTML file."""
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
        qr=qr_png(meta.verify_url),
        platform_name=PLATFORM_NAME,
        issuer=ISSUER,
        legal_basis=policy_on(meta.generated_at.astimezone(CHINA).date()).reports.legal_basis,
        status_zh=STATUS_ZH,
        label_gap=label_gap,
        inline_css=inline_css,
        font_face=_font_face_css() if inline_css else "",
    )


@lru_cache(maxsize=1)
def report_css() -> str:
    """The report's stylesheet: the ``css`` block of report.html (static, no template variables)."""
    template = _env().get_template("report.html")
    return "".join(template.blocks["css"](template.new_context({})))


# -- the report font -----------------------------------------------------------------------------
#
# Noto Sans CJK SC comes as a 20 MB collection of 65,535 glyphs. WeasyPrint subsets the fonts it
# embeds but keeps the glyph ids, so every subset still carries per-glyph tables sized for 65,535
# glyphs (~800 KB before compression) and HarfBuzz walks them on every report. A one-off subset of
# the font to GB 2312 + Latin + punctuation (7,913 glyphs, renumbered) makes each report's font
# ~7x smaller (~120 KB) and faster to subset. Characters outside it (rare characters in names) fall
# back to the full system font, so nothing prints as a box; only that report embeds a second font.
# One weight only: hierarchy comes from size and colour, so a report embeds one font, not two.

REPORT_FONT_FAMILY = "Chengxin Noto Sans CJK SC"
SYSTEM_CJK_FAMILY = "Noto Sans CJK SC"
_FONT_VERSION = "1"  # bump when the character set or the subsetting options change


def _report_charset() -> set[int]:
    chars = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))
    for lo, hi in ((0x2000, 0x206F), (0x2100, 0x218F), (0x2190, 0x21FF), (0x2460, 0x24FF), (0x2500, 0x257F),
                   (0x25A0, 0x25FF), (0x3000, 0x303F), (0x3200, 0x32FF), (0xFF00, 0xFFEF)):
        chars.update(range(lo, hi + 1))
    for first in range(0xA1, 0xF8):  # every GB 2312 character
        for second in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes((first, second)).decode("gb2312")))
            except UnicodeDecodeError:
                continue  # an unassigned code point of the GB 2312 grid
    return chars


def _system_cjk_font() -> tuple[Path, int] | None:
    """File and collection index of the system's Noto Sans CJK SC (regular), via fontconfig."""
    try:
        out = subprocess.run(["fc-match", "-f", "%{family}|%{file}|%{index}", f"{SYSTEM_CJK_FAMILY}:weight=regular"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    family, _, rest = out.partition("|")
    file, _, index = rest.partition("|")
    if SYSTEM_CJK_FAMILY not in family.split(",") or not file:
        return None
    return Path(file), int(index or 0)


def _font_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory
            base = tempfile.gettempdir()
    return Path(base) / "chengxin" / "fonts"


def _make_report_font(source: Path, index: int, target: Path) -> None:
    from fontTools import subset  # type: ignore[import-untyped]
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    # recalcBBoxes=False: recomputing the bounding boxes of 7,913 CFF glyphs takes seconds; the
    # original font's boxes still bound the subset.
    font = TTFont(str(source), fontNumber=index, lazy=True, recalcBBoxes=False)
    options = subset.Options(desubroutinize=True, notdef_outline=True, name_IDs=["*"], name_languages=["*"])
    # GSUB/GPOS/BASE/vertical metrics: not used by the PDF (WeasyPrint drops GSUB/GPOS when embedding)
    options.drop_tables += ["GSUB", "GPOS", "BASE", "VORG", "vhea", "vmtx"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=_report_charset())
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    font.save(str(tmp))
    os.replace(tmp, target)  # atomic: concurrent processes may both build it, readers never see half


def report_font() -> Path | None:
    """The subset report font (built once, ~2 s, cached on disk), or None without Noto Sans CJK SC."""
    source = _system_cjk_font()
    if source is None:
        return None
    path, index = source
    try:
        stat = path.stat()
    except OSError:
        return None
    key = hashlib.sha256(f"{_FONT_VERSION}|{path}|{index}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()
    name = f"report-sans-{key[:16]}.otf"
    for folder in (_font_cache_dir(), Path(tempfile.gettempdir()) / "chengxin-fonts"):
        target = folder / name
        if target.exists():
            return target
        try:
            _make_report_font(path, index, target)
            return target
        except OSError:
            continue  # cache not writable: try the next folder
        except Exception:  # a font fontTools cannot subset: print with the system font
            log.warning("could not subset %s for reports; using the full system font", path, exc_info=True)
            return None
    return None


@lru_cache(maxsize=1)
def _font_face_css() -> str:
    font = report_font()
    if font is None:
        return ""
    return f'@font-face {{ font-family: "{REPORT_FONT_FAMILY}"; src: url("{font.as_uri()}"); }}\n'


# -- PDF -----------------------------------------------------------------------------------------

_PDF_LOCK = threading.Lock()  # Pango font maps are not thread-safe: one PDF at a time per process


@lru_cache(maxsize=1)
def _pdf_context() -> tuple[Any, Any]:
    """WeasyPrint's font configuration and the parsed report stylesheet, made once per process.

    Reusing them saves the stylesheet parse, the @font-face registration and, above all, Pango's
    font loading and shaping caches on every report. Call with ``_PDF_LOCK`` held."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    css = CSS(string=_font_face_css() + report_css(), base_url=str(TEMPLATES), font_config=font_config)
    # Dropped before the interpreter tears modules down: FontConfiguration.__del__ removes its copy of
    # the @font-face font and fails noisily once the modules it uses are gone.
    atexit.register(_pdf_context.cache_clear)
    return font_config, css


def render_pdf(html: str, attachments: dict[str, bytes] | None = None) -> bytes:
    """WeasyPrint PDF with the report stylesheet (fonts subset and embedded), with optional embedded files."""
    from weasyprint import HTML, Attachment

    files = [Attachment(file_obj=io.BytesIO(data), name=name, description="chengxin signed report data")
             for name, data in (attachments or {}).items()]
    with _PDF_LOCK:
        font_config, css = _pdf_context()
        # WeasyPrint builds ~10^5 objects per report (boxes, styles, Pango layouts) that live until
        # the PDF is written; with the cyclic GC on, its full collections walk them again and again
        # (~30% of the time at 200 items). Off during the render, then one young collection frees
        # the report's cycles at once: same memory afterwards, less work.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            pdf = HTML(string=html, base_url=str(TEMPLATES)).write_pdf(
                stylesheets=[css], font_config=font_config, attachments=files)
        finally:
            if gc_was_enabled:
                gc.enable()
                gc.collect(0)
    assert pdf is not None
    return bytes(pdf)
