"""record_version.fields as ``json`` on PostgreSQL: the text kept as written, not converted (issue #2, ingest speed)

Revision ID: 0028
Revises: 0027

A record version's fields are written once (canonical JSON from the ingest's reader, sorted keys, no
whitespace), hashed into the ledger, and only ever read whole. ``jsonb`` parsed and converted each of them
into its binary form on the way in — ~5 µs of server CPU per ingested row, a tenth of a bulk ingest's
server work (bench/RESULTS.md, ingest, session 11) — for operators nobody applies to this column. ``json``
still checks that the text is JSON and ``->>`` still works on it (the scores batch reads quantities that
way). SQLite is unchanged: it stores JSON as text already.

Rows already stored keep their content; their text becomes jsonb's rendering of it (the ledger hashes the
parsed document, not the text, so the chain still verifies).
"""

from __future__ import annotations

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE record_version ALTER COLUMN fields TYPE json USING fields::json")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE record_version ALTER COLUMN fields TYPE jsonb USING fields::jsonb")
