"""Key rotation: move every person's ciphertexts to the current data key version."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import bindparam, select, update

from chengxin.core.crypto import KeyRing
from chengxin.core.db import Database
from chengxin.subjects.models import Subject
from chengxin.subjects.service import aad_for


def reencrypt_subjects(
    db: Database, keyring: KeyRing, *, chunk: int = 5000, progress: Callable[[int], None] | None = None
) -> int:
    """Re-encrypt, chunk by chunk (one transaction each, resumable), every row not on the current key."""
    table = Subject.__table__
    current = keyring.data_version
    done = 0
    while True:
        with db.write() as session:
            rows = session.execute(
                select(table.c.id, table.c.id_cipher, table.c.name_cipher, table.c.key_version)
                .where(table.c.key_version.is_not(None), table.c.key_version != current)
                .order_by(table.c.id)
                .limit(chunk)
            ).all()
            if not rows:
                return done
            session.connection().execute(  # Core executemany: no ORM synchronisation
                update(Subject).where(Subject.id == bindparam("b_id")).values(
                    id_cipher=bindparam("id_cipher"), name_cipher=bindparam("name_cipher"), key_version=current),
                [
                    {
                        "b_id": r.id,
                        "id_cipher": keyring.encrypt(keyring.decrypt(r.id_cipher, r.key_version, aad_for(r.id, "id")),
                                                     aad_for(r.id, "id")),
                        "name_cipher": keyring.encrypt(
                            keyring.decrypt(r.name_cipher, r.key_version, aad_for(r.id, "name")), aad_for(r.id, "name")),
                    }
                    for r in rows
                ],
            )
        done += len(rows)
        if progress:
            progress(len(rows))
