"""record.subject_id checked once per bulk batch on PostgreSQL (issue #2, ingest speed)

Revision ID: 0035
Revises: 0034

0029's statement trigger checks a ``COPY``'s records against ``subject`` one index probe each, in file order:
~2.7 µs of server CPU a record, ~11% of the server's work in a 1,000,000-row ingest (bench/RESULTS.md, ingest,
session 20). A bulk ingest now defers that check to the end of its batch, as it defers the name index (0027):

- ``SET LOCAL chengxin.record_subjects_deferred = on`` makes ``record_subject_exists`` pass the transaction's
  statements — only at READ COMMITTED, where 0029's reasoning needs no row locks; at REPEATABLE READ or
  SERIALIZABLE every statement is still checked, with its locks, as before.
- The batch calls ``record_subjects_checked_after(after, upto)`` as it goes, for the records it wrote in
  ``(after, upto]``, and ``record_subjects_checked_after(after)`` for the rest before it commits: every distinct
  subject the records name, probed in id order (the records are found by the primary key range the batch's ids
  took: the ledger lock hands them out, to one writer at a time). One subject missing raises the same
  ``foreign_key_violation`` as the trigger, and the batch keeps nothing. The last call ends the deferral.
  Checking as it goes keeps the work off the batch's serial end (a 1,000,000-record check at the end took
  0.85 s, the aggregate spilling to disk under the default ``work_mem``: hence its 64 MB).
- Why this is as strong at READ COMMITTED: a subject deleted before a check is seen gone by it; a delete that
  comes after the batch's first record locks ``record`` in SHARE mode (0029) and so waits for the batch's
  transaction, then sees its records and refuses.
- Nothing but the transaction that set it sees the setting (``SET LOCAL``), and it ends with it. A transaction
  that set it and never called the check would commit unchecked records: the ingest's writer sets it and checks
  in the same object (``records.service._BatchWriter``), and a test holds the pair to the database.
"""

from __future__ import annotations

from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

_MISSING = "record names a subject that does not exist (record.subject_id → subject.id)"
_READ_COMMITTED = "current_setting('transaction_isolation') = 'read committed'"


def _record_subject_exists(deferred: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION record_subject_exists() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      {deferred}
      IF {_READ_COMMITTED} THEN
        IF EXISTS (SELECT FROM new_records n WHERE NOT EXISTS (SELECT FROM subject s WHERE s.id = n.subject_id)) THEN
          RAISE foreign_key_violation USING MESSAGE = '{_MISSING}';
        END IF;
      ELSIF (SELECT count(*) FROM (SELECT FROM subject s WHERE s.id IN (SELECT subject_id FROM new_records)
                                   FOR KEY SHARE OF s) locked)
            <> (SELECT count(DISTINCT subject_id) FROM new_records) THEN
        RAISE foreign_key_violation USING MESSAGE = '{_MISSING}';
      END IF;
      RETURN NULL;
    END $$"""


_DEFERRED = (f"IF current_setting('chengxin.record_subjects_deferred', true) = 'on' AND {_READ_COMMITTED} THEN "
             "RETURN NULL; END IF;")

_CHECK_AFTER = f"""CREATE FUNCTION record_subjects_checked_after(after_id bigint, upto_id bigint DEFAULT NULL)
    RETURNS void LANGUAGE plpgsql SET work_mem = '64MB' AS $$
    BEGIN
      IF EXISTS (SELECT FROM (SELECT DISTINCT subject_id FROM record
                              WHERE id > after_id AND (upto_id IS NULL OR id <= upto_id) ORDER BY subject_id) n
                 WHERE NOT EXISTS (SELECT FROM subject s WHERE s.id = n.subject_id)) THEN
        RAISE foreign_key_violation USING MESSAGE = '{_MISSING}';
      END IF;
      IF upto_id IS NULL THEN
        PERFORM set_config('chengxin.record_subjects_deferred', 'off', true);
      END IF;
    END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_record_subject_exists(_DEFERRED))
    op.execute(_CHECK_AFTER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS record_subjects_checked_after(bigint, bigint)")
    op.execute(_record_subject_exists(""))
