"""Issuing and verifying credit reports (the use cases; adapters in cli/api/web call these)."""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass, replace

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from chengxin.core.clock import CHINA
from chengxin.core.crypto import KeyRing, verify_signature
from chengxin.disclosure.model import Audience, CreditFile
from chengxin.reports.models import CreditReport
from chengxin.reports.render import DEFAULT_VALID_DAYS, ReportMeta, content_for, render_html, render_pdf
from chengxin.reports.signing import (
    ENVELOPE_NAME,
    VerifyResult,
    code_hash,
    content_hash,
    normalise_code,
    sign_content,
    signed_message,
)


@dataclass(frozen=True)
class IssuedReport:
    report_no: str
    verification_code: str
    pdf: bytes
    html: str
    valid_until: dt.date


def issue_report(session: Session, keyring: KeyRing, file: CreditFile, *, audience: Audience | str | None = None,
                 requester: str | None = None, base_url: str, now: dt.datetime,
                 valid_days: int = DEFAULT_VALID_DAYS) -> IssuedReport:
    """Render, sign and store a report of ``file``; returns the PDF and the printed verification code."""
    if audience is not None and Audience(audience) != file.audience:
        file = replace(file, audience=Audience(audience))
    meta = ReportMeta.new(now, valid_days=valid_days, base_url=base_url, key_id=keyring.key_id, requester=requester)
    signed = sign_content(keyring, content_for(file, meta))
    meta = replace(meta, verification_code=signed.code)
    html = render_html(file, meta)
    pdf = render_pdf(html, {ENVELOPE_NAME: signed.envelope()})
    session.add(CreditReport(
        report_no=meta.report_no, subject_id=file.subject_id, audience=str(file.audience.value), requester=requester,
        generated_at=now.astimezone(dt.UTC), valid_until=meta.valid_until, content_hash=signed.digest,
        signature=signed.signature, key_id=signed.key_id, verification_code_hash=code_hash(signed.code),
        content=signed.canonical.decode(),
    ))
    session.flush()
    return IssuedReport(meta.report_no, signed.code, pdf, html, meta.valid_until)


def verify_report(session: Session, keyring: KeyRing, report_no: str, code: str,
                  today: dt.date | None = None) -> VerifyResult:
    """Online check by report number + verification code (Chinese status text in ``reason``)."""
    report_no = report_no.strip().upper()
    # A NUL byte is never in a report number, and PostgreSQL refuses it in a text parameter.
    row = None if "\x00" in report_no else session.scalar(
        select(CreditReport).where(CreditReport.report_no == report_no))
    if row is None:
        return VerifyResult(False, "未找到该报告编号，报告可能是伪造的", "no report with this number")
    if not normalise_code(code) or not hmac.compare_digest(code_hash(code), row.verification_code_hash):
        return VerifyResult(False, "验证码不正确", "wrong verification code", report_no=report_no)
    content = orjson.loads(row.content)
    kw = {"report_no": row.report_no, "subject_name": content["subject"]["name"],
          "generated_at": content["generated_at"], "valid_until": content["valid_until"], "key_id": row.key_id}
    if (row.key_id != keyring.key_id
            or content_hash(row.content.encode()) != row.content_hash
            or not verify_signature(keyring.public_key, row.signature, signed_message(row.report_no, row.content_hash))):
        return VerifyResult(False, "报告签名校验失败，请联系市信用办", "stored signature does not verify", **kw)
    today = today or dt.datetime.now(CHINA).date()
    if today > row.valid_until:
        return VerifyResult(False, f"报告真实，但已超过有效期（有效期至 {row.valid_until.isoformat()}），请重新获取报告",
                            "authentic but expired", **kw)
    return VerifyResult(True, "验证通过：报告真实有效，由本平台签发", "valid: authentic and within its validity", **kw)
