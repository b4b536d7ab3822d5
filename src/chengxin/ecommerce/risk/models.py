"""Tables of e-commerce risk: detection runs, findings, shop risk levels, risk notices, platform assessments.

- ``ec_detection_run``: one run of the detection job (``chengxin ecommerce detect``): when, over what
  window, how many orders / ratings / shipments, the parameter version, per-step timings, and how many
  findings it created, updated, left unchanged or saw resolved. At most one row is ``running`` (a unique
  partial index): two runs started together cannot both write findings.
- ``ec_finding``: one detection (a brushing ring, a burst of inflated ratings, a malicious reviewer, a
  shop's empty parcels) with its evidence and confidence, identified by the detector's ``fingerprint``
  (unique): running the detection again on the same data updates the row instead of adding one. An
  analyst of a regulator confirms (→ a negative record through the record path, ``record_id``) or
  dismisses it; every decision is a ``core.workflow`` transition (case type ``ec_finding``).
- ``ec_finding_shop``: the shops a finding involves and how (``actor``: the shop did it — brushing,
  inflation, empty parcels; ``target``: the shop suffered it — malicious reviews): the warning counts only
  the first, per shop, through this index.
- ``ec_shop_risk``: the current risk level of each shop (商家信用风险预警) with its reasons and the rule
  version; a change of level is announced to subscribers through the list-change feed (``list_change``
  rows of kind ``shop_risk``, delivered by the subscriptions outbox).
- ``ec_owner_risk``: per owner subject, its shops at or above the first warning level (platform, shop,
  level, notice in force), rebuilt with every level change and notice: the credit check joins it by
  primary key, so a platform gets shop risk in the check's one read (issue #7, 4; issue #5).
- ``ec_risk_notice``: a published risk notice (风险提示) with its public number; withdrawal keeps it.
- ``ec_platform_assessment``: one platform's assessment for one period (第三方评估), unique per period.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, JsonDoc, UtcDateTime

# Finding states (core.workflow case type "ec_finding").
OPEN = "open"  # 待研判
CONFIRMED = "confirmed"  # 已确认（已形成失信记录）
DISMISSED = "dismissed"  # 已驳回
FINDING_STATES = {OPEN: "待研判", CONFIRMED: "已确认", DISMISSED: "已驳回"}

# Notice states (case type "ec_risk_notice").
PUBLISHED = "published"  # 已发布
WITHDRAWN = "withdrawn"  # 已撤回
NOTICE_STATES = {PUBLISHED: "已发布", WITHDRAWN: "已撤回"}

ACTOR_ROLE = "actor"  # the shop did it
TARGET_ROLE = "target"  # the shop suffered it


class EcDetectionRun(Base):
    __tablename__ = "ec_detection_run"
    __table_args__ = (
        # One detection run at a time, across processes and hosts: a second "running" row cannot be written
        # (migration 0025). A crashed run's row is marked failed once stale (findings.yaml stale_run_hours).
        Index("uq_ec_detection_run_running", "status", unique=True,
              sqlite_where=text("status = 'running'"), postgresql_where=text("status = 'running'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))  # running | finished | failed
    as_of: Mapped[dt.datetime] = mapped_column(UtcDateTime)  # the ``now`` the detectors were given
    window_from: Mapped[dt.datetime] = mapped_column(UtcDateTime)  # orders placed from this time
    parameter_version: Mapped[str] = mapped_column(String(32))  # findings.yaml version
    orders: Mapped[int] = mapped_column(Integer, default=0)
    ratings: Mapped[int] = mapped_column(Integer, default=0)
    shipments: Mapped[int] = mapped_column(Integer, default=0)
    detections: Mapped[int] = mapped_column(Integer, default=0)
    findings_new: Mapped[int] = mapped_column(Integer, default=0)
    findings_updated: Mapped[int] = mapped_column(Integer, default=0)
    findings_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    findings_resolved: Mapped[int] = mapped_column(Integer, default=0)  # earlier findings no longer detected
    timings: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)  # seconds per step
    actor: Mapped[str] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(Text)


class EcFinding(Base):
    __tablename__ = "ec_finding"
    __table_args__ = (
        # The analysts' queue: by state, most confident first.
        Index("ix_ec_finding_status_confidence", "status", "confidence"),
        Index("ix_ec_finding_platform_status", "platform_id", "status"),
        Index("ix_ec_finding_kind_status", "kind", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # order_brushing | fake_traffic | malicious_review | empty_parcel
    platform_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_platform.id"))
    shop_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ec_shop.id"))  # the main shop involved
    shop_ids: Mapped[list[int]] = mapped_column(JsonDoc, default=list)
    buyer_account_ids: Mapped[list[int]] = mapped_column(JsonDoc, default=list)  # ec_account ids
    order_count: Mapped[int] = mapped_column(Integer, default=0)
    confidence: Mapped[float] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    fingerprint: Mapped[str] = mapped_column(String(128), unique=True)
    content_hash: Mapped[str] = mapped_column(String(64))  # of what the detector said: unchanged vs updated
    status: Mapped[str] = mapped_column(String(16))
    first_run_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_detection_run.id"))
    last_run_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_detection_run.id"))
    first_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # Set by the first run that no longer detects it (cleared if detected again): "resolved" for the
    # platform assessment when it follows a confirmation.
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    decision_department: Mapped[str | None] = mapped_column(String(64))  # whose record it became
    severity: Mapped[str | None] = mapped_column(String(16))
    record_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("record.id"))  # the first record made
    record_ids: Mapped[list[int]] = mapped_column(JsonDoc, default=list)  # every record made


class EcFindingShop(Base):
    __tablename__ = "ec_finding_shop"
    __table_args__ = (Index("ix_ec_finding_shop_shop", "shop_id", "role"),)

    finding_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_finding.id"), primary_key=True,
                                            autoincrement=False)
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_shop.id"), primary_key=True, autoincrement=False)
    role: Mapped[str] = mapped_column(String(8))  # actor | target


class EcShopRisk(Base):
    __tablename__ = "ec_shop_risk"
    __table_args__ = (
        Index("ix_ec_shop_risk_rank", "rank", "score"),
        Index("ix_ec_shop_risk_platform", "platform_id", "rank"),
    )

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_shop.id"), primary_key=True, autoincrement=False)
    platform_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_platform.id"))
    owner_subject_id: Mapped[int] = mapped_column(BigId, ForeignKey("subject.id"))
    level: Mapped[str] = mapped_column(String(16))  # low | medium | high | severe
    rank: Mapped[int] = mapped_column(Integer)  # 0 low … 3 severe (for ordering and filtering)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    parameter_version: Mapped[str] = mapped_column(String(32))
    computed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    level_since: Mapped[dt.datetime] = mapped_column(UtcDateTime)  # when it took this level
    previous_level: Mapped[str | None] = mapped_column(String(16))


class EcOwnerRisk(Base):
    """The shops of one owner at risk, as the credit check returns them (no row: none at risk).

    ``shops``: [{platform_code, platform_name, platform_uscc, shop_code, shop_name, level, level_zh,
    level_since (ISO date), notice_no}] — the owner's name is never repeated here.
    """

    __tablename__ = "ec_owner_risk"

    subject_id: Mapped[int] = mapped_column(BigId, ForeignKey("subject.id"), primary_key=True, autoincrement=False)
    shops: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class EcRiskNotice(Base):
    __tablename__ = "ec_risk_notice"
    __table_args__ = (
        Index("ix_ec_risk_notice_state_published", "state", "published_at"),
        Index("ix_ec_risk_notice_shop", "shop_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    no: Mapped[str] = mapped_column(String(32), unique=True)  # 公开编号 FX-<year>-<id>
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_shop.id"))
    platform_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_platform.id"))
    owner_subject_id: Mapped[int] = mapped_column(BigId, ForeignKey("subject.id"))
    level: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)  # what the public reads (masked forms only)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)  # snapshot at publication
    department_code: Mapped[str] = mapped_column(String(64))  # the publishing authority
    published_by: Mapped[str] = mapped_column(String(128))
    published_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(128))
    withdraw_reason: Mapped[str | None] = mapped_column(Text)


class EcPlatformAssessment(Base):
    __tablename__ = "ec_platform_assessment"
    __table_args__ = (
        UniqueConstraint("platform_id", "period", name="uq_ec_platform_assessment_platform_id"),
        Index("ix_ec_platform_assessment_period", "period", "score"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_platform.id"))
    period: Mapped[str] = mapped_column(String(8))  # 2026-Q3, 2026-H1, 2026-07, 2026
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    parameter_version: Mapped[str] = mapped_column(String(32))
    shops_total: Mapped[int] = mapped_column(Integer)
    shops_with_findings: Mapped[int] = mapped_column(Integer)
    findings_confirmed: Mapped[int] = mapped_column(Integer)
    acted_timely: Mapped[int] = mapped_column(Integer)
    median_action_days: Mapped[float | None] = mapped_column(Float)
    open_shops: Mapped[int] = mapped_column(Integer)
    licensed_shops: Mapped[int] = mapped_column(Integer)
    orders: Mapped[int] = mapped_column(Integer)
    complaints: Mapped[int | None] = mapped_column(Integer)  # None: no complaint source (seam)
    score: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(4))
    components: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    computed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    computed_by: Mapped[str] = mapped_column(String(128))
