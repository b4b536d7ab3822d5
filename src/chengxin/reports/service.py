"""Issuing and verifying credit reports (the use cases; adapters in cli/api/web call these)."""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass, replace

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengxin.catalog.model import Catalog
from chengxin.core.clock import CHINA
from chengxin.core.crypto import KeyRing, verify_signature
from chengxin.core.errors import DomainError
from chengxin.core.masking import mask_name, mask_ric
from chengxin.core.policy import policy_on
from chengxin.disclosure.model import Audience, CreditFile
from chengxin.disclosure.service import own_file
from chengxin.reports.models import CreditReport
from chengxin.reports.render import ReportMeta, content_for, render_html, render_pdf
from chengxin.reports.signing import (
    ENVELOPE_NAME,
    VerifyResult,
    code_hash,
    content_hash,
    normalise_code,
    sign_content,
    signed_message,
)
from chengxin.subjects.models import Subject


@dataclass(frozen=True)
class IssuedReport:
    report_no: str
    verification_code: str
    pdf: bytes
    html: str
    valid_until: dt.date


def issue_report(session: Session, keyring: KeyRing, file: CreditFile, *, audience: Audience | str | None = None,
                 requester: str | None = None, base_url: str, now: dt.datetime,
                 valid_days: int | None = None) -> IssuedReport:
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


@dataclass(frozen=True)
class SelfReportAllowance:
    """本人信用报告 free allowance of the current (Beijing) calendar year."""

    year: int
    issued: int
    free: int

    @property
    def left(self) -> int:
        return max(0, self.free - self.issued)

    @property
    def resets_on(self) -> dt.date:
        return dt.date(self.year + 1, 1, 1)


def self_report_allowance(session: Session, subject_id: int, now: dt.datetime) -> SelfReportAllowance:
    """How many of this year's free own reports the person has taken (征信业管理条例 Art. 17: two a
    year; the number is the dated parameter ``reports.free_self_reports_per_year``)."""
    today = now.astimezone(CHINA).date()
    year_start = dt.datetime(today.year, 1, 1, tzinfo=CHINA).astimezone(dt.UTC)
    issued = session.scalar(
        select(func.count()).select_from(CreditReport).where(
            CreditReport.subject_id == subject_id, CreditReport.audience == Audience.SELF.value,
            CreditReport.generated_at >= year_start)) or 0
    return SelfReportAllowance(today.year, int(issued), policy_on(today).reports.free_self_reports_per_year)


def issue_self_report(session: Session, catalog: Catalog, keyring: KeyRing, subject_id: int, *, base_url: str,
                      now: dt.datetime) -> IssuedReport:
    """本人信用报告: the person's own report (every record in force, with the query log) within the
    year's free allowance; past it, 429 with the date it resets.

    Reading one's own file online is free and unlimited (``disclosure.own_file``); the allowance is
    on signed reports. Revoked records stay in the online file but not in a report the person may
    hand to others. The subject row is locked first so two downloads at once cannot both take the
    last free report (PostgreSQL; SQLite's write transaction is already exclusive).
    """
    session.execute(select(Subject.id).where(Subject.id == subject_id).with_for_update())
    allowance = self_report_allowance(session, subject_id, now)
    if allowance.left == 0:
        raise DomainError(
            "report.free_quota_used",
            f"本年度 {allowance.free} 份免费本人信用报告已全部获取，{allowance.resets_on:%Y年%-m月%-d日}起可再次获取；"
            "在线查看本人信用信息不受限制",
            f"This year's {allowance.free} free own reports have been issued; more from "
            f"{allowance.resets_on.isoformat()}. Viewing your file online stays free.",
            status=429)
    today = now.astimezone(CHINA).date()
    file = own_file(session, catalog, keyring, subject_id, today)
    # Handed to others: the identity masked as on any report (the online file shows it in clear).
    file = replace(file, items=tuple(i for i in file.items if i.status == "active"),
                   display_id=mask_ric(file.display_id), display_name=mask_name(file.display_name))
    return issue_report(session, keyring, file, audience=Audience.SELF, base_url=base_url, now=now)


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
