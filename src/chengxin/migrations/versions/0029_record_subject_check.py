"""record.subject_id checked per statement on PostgreSQL, not per row (issue #2, ingest speed)

Revision ID: 0029
Revises: 0028

The foreign key ``record.subject_id → subject.id`` stays what the database guarantees — every record names a
subject that exists, and a subject that records name cannot go — but on PostgreSQL it is now enforced by
triggers instead of the built-in constraint:

- A foreign key checks each inserted row on its own: a cached ``SELECT … FOR KEY SHARE`` on ``subject`` per
  record, which locks the subject row (a WAL record the first time). A bulk ingest writes 5,000 heads per
  ``COPY``: the checks were ~5 µs of server CPU a row, 5–6 s of a 1,000,000-row file, on the chain the batch
  waits for (bench/RESULTS.md, ingest, session 13).
- ``record_subject_exists`` runs once per INSERT or COPY statement, over the statement's new rows (a
  transition table): one anti-join against ``subject``'s primary key, no row locks. A row-level trigger
  checks an UPDATE that changes a record's subject (corrections rewrite ``subject_id``; it rarely changes).
- The other half of a foreign key — nobody removes a subject that records name, not even while those
  records are being written — is the subject side's: deleting subjects, or changing a subject's id, locks
  ``record`` in SHARE mode (it waits for every transaction writing records to end and holds off new ones),
  then refuses if any record names one of them. ``TRUNCATE subject`` is refused while ``record`` has rows
  (a ``TRUNCATE`` of both together passes). The application never deletes or renumbers a subject: these
  guard hand-made changes.
- Why no row locks are needed in READ COMMITTED (the application's level): the check's query sees what is
  committed when it runs, and a delete racing with it either committed before (the check sees the subject
  gone) or waits for the inserting transaction (the delete's check sees its records). Under REPEATABLE READ
  or SERIALIZABLE a snapshot can be older than a concurrent delete, so there the check locks the subjects
  ``FOR KEY SHARE`` as the built-in key does; and the delete side, whose snapshot could miss records
  committed meanwhile, refuses to run at those levels.
- Like a foreign key's triggers, these do not fire under ``session_replication_role = replica``.

SQLite keeps its foreign key: its check is a primary-key probe in the same process, with no lock to take.
The models keep declaring the key (SQLite's schema, the ORM's joins); schema comparison skips it on
PostgreSQL (``chengxin.records.schema``).
"""

from __future__ import annotations

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

FK = "fk_record_subject_id_subject"
_MISSING = "record names a subject that does not exist (record.subject_id → subject.id)"
_NAMED = "a subject that records name cannot be deleted (record.subject_id → subject.id)"

_STATEMENTS = (
    f"""CREATE FUNCTION record_subject_exists() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF current_setting('transaction_isolation') = 'read committed' THEN
        IF EXISTS (SELECT FROM new_records n WHERE NOT EXISTS (SELECT FROM subject s WHERE s.id = n.subject_id)) THEN
          RAISE foreign_key_violation USING MESSAGE = '{_MISSING}';
        END IF;
      ELSIF (SELECT count(*) FROM (SELECT FROM subject s WHERE s.id IN (SELECT subject_id FROM new_records)
                                   FOR KEY SHARE OF s) locked)
            <> (SELECT count(DISTINCT subject_id) FROM new_records) THEN
        RAISE foreign_key_violation USING MESSAGE = '{_MISSING}';
      END IF;
      RETURN NULL;
    END $$""",
    """CREATE TRIGGER record_subject_exists AFTER INSERT ON record REFERENCING NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION record_subject_exists()""",
    f"""CREATE FUNCTION record_subject_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM FROM subject WHERE id = NEW.subject_id FOR KEY SHARE;
      IF NOT FOUND THEN
        RAISE foreign_key_violation USING MESSAGE = '{_MISSING}';
      END IF;
      RETURN NULL;
    END $$""",
    """CREATE TRIGGER record_subject_changed AFTER UPDATE OF subject_id ON record FOR EACH ROW
    WHEN (OLD.subject_id IS DISTINCT FROM NEW.subject_id) EXECUTE FUNCTION record_subject_changed()""",
    f"""CREATE FUNCTION subject_ids_unnamed(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE foreign_key_violation USING MESSAGE = '{_NAMED}',
          HINT = 'delete or renumber subjects in a READ COMMITTED transaction: its check must see records committed meanwhile';
      END IF;
      LOCK TABLE record IN SHARE MODE;
      IF EXISTS (SELECT FROM unnest(ids) AS gone(id) WHERE EXISTS (SELECT FROM record r WHERE r.subject_id = gone.id)) THEN
        RAISE foreign_key_violation USING MESSAGE = '{_NAMED}';
      END IF;
    END $$""",
    """CREATE FUNCTION subject_not_named() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM subject_ids_unnamed(ARRAY(SELECT id FROM old_subjects));
      RETURN NULL;
    END $$""",
    """CREATE TRIGGER subject_not_named AFTER DELETE ON subject REFERENCING OLD TABLE AS old_subjects
    FOR EACH STATEMENT EXECUTE FUNCTION subject_not_named()""",
    """CREATE FUNCTION subject_renumbered() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM subject_ids_unnamed(ARRAY[OLD.id]);
      RETURN NEW;
    END $$""",
    """CREATE TRIGGER subject_renumbered BEFORE UPDATE OF id ON subject FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION subject_renumbered()""",
    f"""CREATE FUNCTION subject_truncated_alone() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT FROM record) THEN
        RAISE foreign_key_violation USING MESSAGE = '{_NAMED}', HINT = 'truncate record in the same statement';
      END IF;
      RETURN NULL;
    END $$""",
    # AFTER: when both tables are truncated by one statement, record is empty by the time this runs.
    """CREATE TRIGGER subject_truncated_alone AFTER TRUNCATE ON subject
    FOR EACH STATEMENT EXECUTE FUNCTION subject_truncated_alone()""",
)

_DROPS = (
    "DROP TRIGGER IF EXISTS subject_truncated_alone ON subject",
    "DROP FUNCTION IF EXISTS subject_truncated_alone()",
    "DROP TRIGGER IF EXISTS subject_renumbered ON subject",
    "DROP FUNCTION IF EXISTS subject_renumbered()",
    "DROP TRIGGER IF EXISTS subject_not_named ON subject",
    "DROP FUNCTION IF EXISTS subject_not_named()",
    "DROP FUNCTION IF EXISTS subject_ids_unnamed(bigint[])",
    "DROP TRIGGER IF EXISTS record_subject_changed ON record",
    "DROP FUNCTION IF EXISTS record_subject_changed()",
    "DROP TRIGGER IF EXISTS record_subject_exists ON record",
    "DROP FUNCTION IF EXISTS record_subject_exists()",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE record DROP CONSTRAINT {FK}")
    for statement in _STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _DROPS:
        op.execute(statement)
    op.execute(f"ALTER TABLE record ADD CONSTRAINT {FK} FOREIGN KEY (subject_id) REFERENCES subject (id)")
