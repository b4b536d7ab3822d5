"""ecommerce risk: detection runs, findings, shop risk levels, risk notices, platform assessments (issue #7)

Also lets the list-change feed carry shop risk level changes (``list_change.entry_id`` nullable: such a
change belongs to no list entry), so the subscriptions outbox delivers them like list changes.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TS = sa.DateTime(timezone=True)


def _entry_id_nullable(nullable: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.alter_column("list_change", "entry_id", existing_type=_ID, nullable=nullable)
        return
    # SQLite cannot drop a NOT NULL in place, and batch mode (copy, drop, rename) fails here: dropping
    # list_change while webhook_delivery rows point at it is a foreign-key violation that no later insert
    # repays. Dropping (or restoring) a NOT NULL changes nothing on disk, so the table's stored definition
    # is edited instead — the procedure SQLite documents for exactly this change ("Making Other Kinds Of
    # Table Schema Changes", https://www.sqlite.org/lang_altertable.html#otheralter).
    strict, loose = "entry_id INTEGER NOT NULL,", "entry_id INTEGER,"
    before, after = (strict, loose) if nullable else (loose, strict)
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'list_change'").scalar()
    if not isinstance(sql, str) or sql.count(before) != 1:
        raise RuntimeError(f"list_change is not as migration 0016 made it: {sql!r}")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'list_change'",
                         (sql.replace(before, after),))
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version or 0) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    op.create_table(
        "ec_detection_run",
        sa.Column("id", _ID, nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("as_of", _TS, nullable=False),
        sa.Column("window_from", _TS, nullable=False),
        sa.Column("parameter_version", sa.String(length=32), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.Column("shipments", sa.Integer(), nullable=False),
        sa.Column("detections", sa.Integer(), nullable=False),
        sa.Column("findings_new", sa.Integer(), nullable=False),
        sa.Column("findings_updated", sa.Integer(), nullable=False),
        sa.Column("findings_unchanged", sa.Integer(), nullable=False),
        sa.Column("findings_resolved", sa.Integer(), nullable=False),
        sa.Column("timings", _JSON, nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ec_detection_run")),
    )
    op.create_table(
        "ec_finding",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("platform_id", _ID, nullable=False),
        sa.Column("shop_id", _ID, nullable=True),
        sa.Column("shop_ids", _JSON, nullable=False),
        sa.Column("buyer_account_ids", _JSON, nullable=False),
        sa.Column("order_count", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("evidence", _JSON, nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("first_run_id", _ID, nullable=False),
        sa.Column("last_run_id", _ID, nullable=False),
        sa.Column("first_seen_at", _TS, nullable=False),
        sa.Column("last_seen_at", _TS, nullable=False),
        sa.Column("resolved_at", _TS, nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", _TS, nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("decision_department", sa.String(length=64), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("record_id", _ID, nullable=True),
        sa.Column("record_ids", _JSON, nullable=False),
        sa.ForeignKeyConstraint(["platform_id"], ["ec_platform.id"], name=op.f("fk_ec_finding_platform_id_ec_platform")),
        sa.ForeignKeyConstraint(["shop_id"], ["ec_shop.id"], name=op.f("fk_ec_finding_shop_id_ec_shop")),
        sa.ForeignKeyConstraint(["first_run_id"], ["ec_detection_run.id"],
                                name=op.f("fk_ec_finding_first_run_id_ec_detection_run")),
        sa.ForeignKeyConstraint(["last_run_id"], ["ec_detection_run.id"],
                                name=op.f("fk_ec_finding_last_run_id_ec_detection_run")),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], name=op.f("fk_ec_finding_record_id_record")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ec_finding")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_ec_finding_fingerprint")),
    )
    op.create_index("ix_ec_finding_status_confidence", "ec_finding", ["status", "confidence"], unique=False)
    op.create_index("ix_ec_finding_platform_status", "ec_finding", ["platform_id", "status"], unique=False)
    op.create_index("ix_ec_finding_kind_status", "ec_finding", ["kind", "status"], unique=False)
    op.create_table(
        "ec_finding_shop",
        sa.Column("finding_id", _ID, autoincrement=False, nullable=False),
        sa.Column("shop_id", _ID, autoincrement=False, nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(["finding_id"], ["ec_finding.id"],
                                name=op.f("fk_ec_finding_shop_finding_id_ec_finding")),
        sa.ForeignKeyConstraint(["shop_id"], ["ec_shop.id"], name=op.f("fk_ec_finding_shop_shop_id_ec_shop")),
        sa.PrimaryKeyConstraint("finding_id", "shop_id", name=op.f("pk_ec_finding_shop")),
    )
    op.create_index("ix_ec_finding_shop_shop", "ec_finding_shop", ["shop_id", "role"], unique=False)
    op.create_table(
        "ec_shop_risk",
        sa.Column("shop_id", _ID, autoincrement=False, nullable=False),
        sa.Column("platform_id", _ID, nullable=False),
        sa.Column("owner_subject_id", _ID, nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", _JSON, nullable=False),
        sa.Column("parameter_version", sa.String(length=32), nullable=False),
        sa.Column("computed_at", _TS, nullable=False),
        sa.Column("level_since", _TS, nullable=False),
        sa.Column("previous_level", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["ec_shop.id"], name=op.f("fk_ec_shop_risk_shop_id_ec_shop")),
        sa.ForeignKeyConstraint(["platform_id"], ["ec_platform.id"],
                                name=op.f("fk_ec_shop_risk_platform_id_ec_platform")),
        sa.ForeignKeyConstraint(["owner_subject_id"], ["subject.id"],
                                name=op.f("fk_ec_shop_risk_owner_subject_id_subject")),
        sa.PrimaryKeyConstraint("shop_id", name=op.f("pk_ec_shop_risk")),
    )
    op.create_index("ix_ec_shop_risk_rank", "ec_shop_risk", ["rank", "score"], unique=False)
    op.create_index("ix_ec_shop_risk_platform", "ec_shop_risk", ["platform_id", "rank"], unique=False)
    op.create_table(
        "ec_risk_notice",
        sa.Column("id", _ID, nullable=False),
        sa.Column("no", sa.String(length=32), nullable=False),
        sa.Column("shop_id", _ID, nullable=False),
        sa.Column("platform_id", _ID, nullable=False),
        sa.Column("owner_subject_id", _ID, nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reasons", _JSON, nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("published_by", sa.String(length=128), nullable=False),
        sa.Column("published_at", _TS, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("withdrawn_at", _TS, nullable=True),
        sa.Column("withdrawn_by", sa.String(length=128), nullable=True),
        sa.Column("withdraw_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["ec_shop.id"], name=op.f("fk_ec_risk_notice_shop_id_ec_shop")),
        sa.ForeignKeyConstraint(["platform_id"], ["ec_platform.id"],
                                name=op.f("fk_ec_risk_notice_platform_id_ec_platform")),
        sa.ForeignKeyConstraint(["owner_subject_id"], ["subject.id"],
                                name=op.f("fk_ec_risk_notice_owner_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ec_risk_notice")),
        sa.UniqueConstraint("no", name=op.f("uq_ec_risk_notice_no")),
    )
    op.create_index("ix_ec_risk_notice_state_published", "ec_risk_notice", ["state", "published_at"], unique=False)
    op.create_index("ix_ec_risk_notice_shop", "ec_risk_notice", ["shop_id"], unique=False)
    op.create_table(
        "ec_platform_assessment",
        sa.Column("id", _ID, nullable=False),
        sa.Column("platform_id", _ID, nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("parameter_version", sa.String(length=32), nullable=False),
        sa.Column("shops_total", sa.Integer(), nullable=False),
        sa.Column("shops_with_findings", sa.Integer(), nullable=False),
        sa.Column("findings_confirmed", sa.Integer(), nullable=False),
        sa.Column("acted_timely", sa.Integer(), nullable=False),
        sa.Column("median_action_days", sa.Float(), nullable=True),
        sa.Column("open_shops", sa.Integer(), nullable=False),
        sa.Column("licensed_shops", sa.Integer(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("complaints", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("grade", sa.String(length=4), nullable=False),
        sa.Column("components", _JSON, nullable=False),
        sa.Column("computed_at", _TS, nullable=False),
        sa.Column("computed_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["platform_id"], ["ec_platform.id"],
                                name=op.f("fk_ec_platform_assessment_platform_id_ec_platform")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ec_platform_assessment")),
        sa.UniqueConstraint("platform_id", "period", name="uq_ec_platform_assessment_platform_id"),
    )
    op.create_index("ix_ec_platform_assessment_period", "ec_platform_assessment", ["period", "score"], unique=False)
    _entry_id_nullable(True)


def downgrade() -> None:
    # Shop risk changes have no list entry: they (and their deliveries) cannot stay in the old schema.
    op.execute("DELETE FROM webhook_attempt WHERE delivery_id IN (SELECT d.id FROM webhook_delivery d"
               " JOIN list_change c ON c.id = d.change_id WHERE c.entry_id IS NULL)")
    op.execute("DELETE FROM webhook_delivery WHERE change_id IN (SELECT id FROM list_change WHERE entry_id IS NULL)")
    op.execute("DELETE FROM list_change WHERE entry_id IS NULL")
    _entry_id_nullable(False)
    op.drop_index("ix_ec_platform_assessment_period", table_name="ec_platform_assessment")
    op.drop_table("ec_platform_assessment")
    op.drop_index("ix_ec_risk_notice_shop", table_name="ec_risk_notice")
    op.drop_index("ix_ec_risk_notice_state_published", table_name="ec_risk_notice")
    op.drop_table("ec_risk_notice")
    op.drop_index("ix_ec_shop_risk_platform", table_name="ec_shop_risk")
    op.drop_index("ix_ec_shop_risk_rank", table_name="ec_shop_risk")
    op.drop_table("ec_shop_risk")
    op.drop_index("ix_ec_finding_shop_shop", table_name="ec_finding_shop")
    op.drop_table("ec_finding_shop")
    op.drop_index("ix_ec_finding_kind_status", table_name="ec_finding")
    op.drop_index("ix_ec_finding_platform_status", table_name="ec_finding")
    op.drop_index("ix_ec_finding_status_confidence", table_name="ec_finding")
    op.drop_table("ec_finding")
    op.drop_table("ec_detection_run")
