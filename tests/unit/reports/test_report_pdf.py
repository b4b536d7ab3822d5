"""PDF reports: Chinese text embedded, RULES §6 layout, signing and tamper detection (offline)."""

from __future__ import annotations

import base64
import dataclasses
import io
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest
import qrcode
import qrcode.constants
from pypdf import PageObject, PdfReader, PdfWriter
from tests.unit.reports.sample import NOW, large_org_file, org_file, person_file
from tests.unit.reports.tamper import tamper_text

from chengxin.catalog.loader import REPORT_SECTIONS
from chengxin.core.crypto import KeyRing
from chengxin.reports.render import (
    QR_MODULE_PX,
    ReportMeta,
    content_for,
    new_report_no,
    render_html,
    render_pdf,
    report_font,
)
from chengxin.reports.signing import (
    ENVELOPE_NAME,
    fast_pdf_text,
    pdf_text,
    sign_content,
    verification_code,
    verify_pdf,
)


@pytest.fixture(scope="module")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> KeyRing:
    return KeyRing.open(tmp_path_factory.mktemp("rk") / "keys")


def _issue(keyring: KeyRing, file: object) -> tuple[bytes, str, ReportMeta]:
    meta = ReportMeta.new(NOW, key_id=keyring.key_id, base_url="https://credit.example.cn")
    signed = sign_content(keyring, content_for(file, meta))  # type: ignore[arg-type]
    meta = dataclasses.replace(meta, verification_code=signed.code)
    html = render_html(file, meta)  # type: ignore[arg-type]
    return render_pdf(html, {ENVELOPE_NAME: signed.envelope()}), html, meta


@pytest.fixture(scope="module")
def org_pdf(keyring: KeyRing) -> tuple[bytes, str, ReportMeta]:
    return _issue(keyring, org_file(9))


@pytest.fixture(scope="module")
def person_pdf(keyring: KeyRing) -> tuple[bytes, str, ReportMeta]:
    return _issue(keyring, person_file())


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_report_number_is_timestamp_led_and_unique() -> None:
    numbers = {new_report_no(NOW) for _ in range(200)}
    assert len(numbers) == 200
    assert all(re.fullmatch(r"CX20261125093000[A-Z2-7]{6}", n) for n in numbers)


def test_pdf_has_chinese_text_sections_in_order_and_every_department(org_pdf: tuple[bytes, str, ReportMeta]) -> None:
    pdf, _html, meta = org_pdf
    assert pdf.startswith(b"%PDF")
    text = _squash(pdf_text(pdf))
    assert "信用报告" in text and "法律依据" in text  # extracted from embedded CJK glyphs, not tofu
    positions = [text.find(f"{n}、{s}") for n, s in zip("一二三四五六七八九", REPORT_SECTIONS, strict=True)]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
    for item in org_file(9).items:
        assert item.department_name_zh in text
    assert "来源单位" in text and "异议中" in text and "本人声明" in text
    assert meta.report_no in text and meta.verification_code in text
    assert "常州示例科技有限公司" in text and "91320400MA1XXXXX3K" in text
    assert "查询记录" not in text  # organisations: no query log
    fonts = {f.get_object()["/BaseFont"] for p in PdfReader(io.BytesIO(pdf)).pages for f in p["/Resources"]["/Font"].values()}
    assert any("Noto-Sans-CJK-SC" in str(f) for f in fonts)


def test_empty_sections_say_none(keyring: KeyRing) -> None:
    pdf, html, _ = _issue(keyring, person_file(with_items=False))
    text = _squash(pdf_text(pdf))
    assert text.count("无") >= len(REPORT_SECTIONS)
    assert html.count('<div class="none">无</div>') == len(REPORT_SECTIONS)


def test_person_report_has_masked_subject_query_log_and_qr(person_pdf: tuple[bytes, str, ReportMeta]) -> None:
    pdf, html, meta = person_pdf
    text = _squash(pdf_text(pdf))
    assert "张*" in text and "3204**********1234" in text
    assert "十、查询记录" in text and "常州农村商业银行" in text and "贷款审批" in text and "授权书SQ20261003001" in text
    assert meta.verify_url.startswith("https://credit.example.cn/verify?no=CX")
    assert f"code={meta.verification_code}" in meta.verify_url
    assert html.count('<img src="data:image/png;base64,') == 2  # head and verification box: one image
    assert _printed_qr(pdf) == _qr_modules(meta.verify_url)


def _qr_modules(url: str) -> list[list[bool]]:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(url)
    qr.make(fit=True)
    return [[bool(m) for m in row] for row in qr.get_matrix()]


def _printed_qr(pdf: bytes) -> list[list[bool]]:
    """The modules of the QR image embedded in the PDF, read at the centre of each module."""
    images = {img.data: img.image for page in PdfReader(io.BytesIO(pdf)).pages for img in page.images}
    assert len(images) == 1
    image = next(iter(images.values())).convert("L")
    size = image.width // QR_MODULE_PX - 4  # a 2-module quiet zone on each side
    assert image.width == image.height == (size + 4) * QR_MODULE_PX
    return [[image.getpixel(((x + 2) * QR_MODULE_PX + QR_MODULE_PX // 2, (y + 2) * QR_MODULE_PX + QR_MODULE_PX // 2)) < 128
             for x in range(size)] for y in range(size)]


def test_untouched_pdf_verifies(org_pdf: tuple[bytes, str, ReportMeta], keyring: KeyRing) -> None:
    result = verify_pdf(org_pdf[0], keyring.public_key)
    assert result.ok, result.reason
    assert result.report_no == org_pdf[2].report_no and result.subject_name == "常州示例科技有限公司"


def test_other_key_fails(org_pdf: tuple[bytes, str, ReportMeta], tmp_path: Path) -> None:
    other = KeyRing.open(tmp_path / "other")
    result = verify_pdf(org_pdf[0], other.public_key)
    assert not result.ok and "公钥" in result.reason


def test_visible_digit_tamper_fails(org_pdf: tuple[bytes, str, ReportMeta], keyring: KeyRing) -> None:
    assert "1.50" in pdf_text(org_pdf[0])
    # The new digit is one the old text has: the embedded font holds only glyphs the document uses,
    # and which digits occur elsewhere (report number, times) changes from run to run.
    forged = tamper_text(org_pdf[0], "1.50", "1.55")  # the fine amount of the first item
    text = pdf_text(forged)
    assert "1.55" in text and "罚款金额" in text
    result = verify_pdf(forged, keyring.public_key)
    assert not result.ok
    assert "页面已被篡改" in result.reason and "1.50" in result.reason


def test_visible_date_and_name_tamper_fails(org_pdf: tuple[bytes, str, ReportMeta], keyring: KeyRing) -> None:
    forged = tamper_text(org_pdf[0], "2025-03-04", "2025-03-05")
    assert not verify_pdf(forged, keyring.public_key).ok
    forged = tamper_text(org_pdf[0], "示例", "示州")  # one CJK glyph swapped in the subject name
    result = verify_pdf(forged, keyring.public_key)
    assert not result.ok and "常州示例科技有限公司" in result.reason


def _replace_envelope(pdf: bytes, envelope: bytes) -> bytes:
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.add_attachment(ENVELOPE_NAME, envelope)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_rewrapped_pdf_still_verifies(org_pdf: tuple[bytes, str, ReportMeta], keyring: KeyRing) -> None:
    env = PdfReader(io.BytesIO(org_pdf[0])).attachments[ENVELOPE_NAME][0]
    assert verify_pdf(_replace_envelope(org_pdf[0], env), keyring.public_key).ok


def test_embedded_json_tamper_fails(org_pdf: tuple[bytes, str, ReportMeta], keyring: KeyRing) -> None:
    env = orjson.loads(PdfReader(io.BytesIO(org_pdf[0])).attachments[ENVELOPE_NAME][0])
    env["content"] = env["content"].replace("1.50", "7.50")
    result = verify_pdf(_replace_envelope(org_pdf[0], orjson.dumps(env)), keyring.public_key)
    assert not result.ok and "内嵌数据" in result.reason
    env["sha256"] = "00" * 32  # and with a hash to match: the signature no longer fits
    result = verify_pdf(_replace_envelope(org_pdf[0], orjson.dumps(env)), keyring.public_key)
    assert not result.ok and "数字签名无效" in result.reason


def test_missing_envelope_and_garbage(org_pdf: tuple[bytes, str, ReportMeta], keyring: KeyRing) -> None:
    reader = PdfReader(io.BytesIO(org_pdf[0]))
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    assert "没有签名数据" in verify_pdf(out.getvalue(), keyring.public_key).reason
    assert not verify_pdf(b"not a pdf", keyring.public_key).ok


def test_verification_code_comes_from_the_signature(keyring: KeyRing) -> None:
    meta = ReportMeta.new(NOW, key_id=keyring.key_id)
    signed = sign_content(keyring, content_for(org_file(2), meta))
    assert signed.code == verification_code(signed.signature) == signed.code.upper()
    assert len(signed.code) == 10
    assert base64.b32decode(signed.code + "======")  # base32 alphabet


def test_fast_text_reads_what_pypdf_reads(org_pdf: tuple[bytes, str, ReportMeta],
                                          person_pdf: tuple[bytes, str, ReportMeta]) -> None:
    for pdf, _html, _meta in (org_pdf, person_pdf):
        fast = fast_pdf_text(PdfReader(io.BytesIO(pdf)))
        assert fast is not None and _squash(fast) == _squash(pdf_text(pdf))


def test_untouched_pdf_verifies_on_the_fast_path(org_pdf: tuple[bytes, str, ReportMeta], keyring: KeyRing,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def no_slow_path(*_a: object, **_k: object) -> str:
        raise AssertionError("pypdf text extraction used for an untouched report")

    monkeypatch.setattr(PageObject, "extract_text", no_slow_path)
    assert verify_pdf(org_pdf[0], keyring.public_key).ok


def test_full_items_long_labels_and_texts(keyring: KeyRing) -> None:
    """Twelve catalog fields an item: long texts wrap in the value column, labels wider than the
    column put their value on the next line; everything is printed in order and verifies."""
    file = large_org_file(3)
    pdf, html, _ = _issue(keyring, file)
    assert "<div class=\"f\">没收违法所得、没收非法财物的金额（万元）\n0.00</div>" in html
    assert "<div class=\"f\">罚款金额（万元）\t1.50</div>" in html
    assert verify_pdf(pdf, keyring.public_key).ok
    forged = tamper_text(pdf, "4102", "4101")  # the third item's decision number (a glyph it has)
    result = verify_pdf(forged, keyring.public_key)
    assert not result.ok and "4102" in result.reason


def test_characters_outside_the_report_font_print_with_the_system_font(keyring: KeyRing) -> None:
    name = "常州堃昇喆玥科技有限公司"  # 堃昇喆玥: common in names, not in GB 2312
    pdf, _, _ = _issue(keyring, dataclasses.replace(org_file(2), display_name=name))
    assert name in _squash(pdf_text(pdf))
    assert verify_pdf(pdf, keyring.public_key).ok
    fonts = {str(f.get_object()["/BaseFont"]).split("+")[-1]
             for p in PdfReader(io.BytesIO(pdf)).pages for f in p["/Resources"]["/Font"].values()}
    if report_font() is not None:  # the subset font for GB 2312, the full one for the four others
        assert fonts == {"Chengxin-Noto-Sans-CJK-SC", "Noto-Sans-CJK-SC"}


def test_reports_render_concurrently(keyring: KeyRing) -> None:
    """One font configuration per process, shared: renders from several threads take turns."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        pdfs = list(pool.map(lambda n: _issue(keyring, org_file(n))[0], (1, 2, 3)))
    assert all(verify_pdf(pdf, keyring.public_key).ok for pdf in pdfs)
