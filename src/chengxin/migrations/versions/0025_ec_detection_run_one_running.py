"""ec_detection_run: at most one running detection run (issue #7)

Two detection runs started together (two cron hosts, a manual run during the nightly one) would both write
findings. A unique partial index on ``status`` where ``status = 'running'`` makes starting a run atomic on
both engines: the second insert of a running row fails, and ``ecommerce.risk.service.detect`` refuses with
``ecommerce.detect_running``. Rows already left running by a crashed process are marked failed here, so the
index can be built.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

_RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    # More than one running row can only be left by crashes before this revision: none of them is running.
    op.execute("UPDATE ec_detection_run SET status = 'failed', "
               "error = 'stale: process ended without finishing (found running at migration 0025)' "
               "WHERE status = 'running' AND id < (SELECT max(id) FROM ec_detection_run WHERE status = 'running')")
    op.create_index("uq_ec_detection_run_running", "ec_detection_run", ["status"], unique=True,
                    sqlite_where=_RUNNING, postgresql_where=_RUNNING)


def downgrade() -> None:
    op.drop_index("uq_ec_detection_run_running", table_name="ec_detection_run")
