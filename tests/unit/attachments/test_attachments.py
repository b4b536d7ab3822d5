"""Attachments: the type comes from the bytes; limits from the dated policy; stored encrypted and
bound to their case; every read audited."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from chengxin.attachments import rules
from chengxin.attachments.models import Attachment
from chengxin.attachments.service import Upload, attachments_of, read_attachment, store_attachments
from chengxin.core.audit import Actor, AuditEvent
from chengxin.core.crypto import KeyProblem
from chengxin.core.errors import DomainError, NotFound
from chengxin.core.policy import policy_on
from chengxin.platform import Platform

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
POLICY = policy_on(dt.date(2026, 11, 25)).attachments
NOW = dt.datetime(2026, 11, 25, 8, tzinfo=dt.UTC)
PERSON = Actor(kind="person", name="7")


@pytest.mark.parametrize(("name", "data", "outcome"), [
    ("证明.pdf", PDF, "application/pdf"),
    ("照片.PNG", PNG, "image/png"),
    ("scan.jpg", JPEG, "image/jpeg"),
    ("renamed.pdf", b"MZ\x90\x00 an exe renamed", "attachment.bad_type"),
    ("note.pdf", b"just text", "attachment.bad_type"),
    ("empty.pdf", b"", "attachment.empty"),
    ("huge.pdf", b"%PDF-" + b"0" * POLICY.max_bytes, "attachment.too_large"),
])
def test_check_upload(name: str, data: bytes, outcome: str) -> None:
    if "/" in outcome:
        assert rules.check_upload(POLICY, name, data) == outcome
        return
    with pytest.raises(DomainError) as err:
        rules.check_upload(POLICY, name, data, index=2)
    assert err.value.code == outcome and "第 2 个附件" in err.value.message


@given(st.text(max_size=300))
def test_clean_filenames_are_safe_to_show_and_to_send_back(name: str) -> None:
    cleaned = rules.clean_filename(name)
    assert cleaned and len(cleaned) <= 100
    assert "/" not in cleaned and "\\" not in cleaned and '"' not in cleaned
    assert all(ch.isprintable() for ch in cleaned)


def test_paths_are_cut_to_the_name() -> None:
    assert rules.clean_filename("C:\\Users\\张三\\证明.pdf") == "证明.pdf"
    assert rules.clean_filename("../../etc/passwd") == "passwd"


def test_stored_encrypted_read_back_and_audited(platform: Platform) -> None:
    with platform.db.write() as s:
        infos = store_attachments(s, platform.keyring, owner_type="objection", owner_id=5,
                                  uploads=[Upload("证明.pdf", PDF), Upload("x/照片.png", PNG)], actor=PERSON, now=NOW)
    assert [(i.filename, i.mime, i.size) for i in infos] == [("证明.pdf", "application/pdf", len(PDF)),
                                                            ("照片.png", "image/png", len(PNG))]
    with platform.db.read() as s:
        stored = s.scalars(select(Attachment.content)).all()
        assert all(PDF not in blob and PNG not in blob for blob in stored)  # encrypted at rest
        assert [i.id for i in attachments_of(s, "objection", 5)] == [i.id for i in infos]
    with platform.db.write() as s:
        info, data = read_attachment(s, platform.keyring, owner_type="objection", owner_id=5,
                                     attachment_id=infos[0].id, actor=PERSON, subject_id=9, purpose="本人查看")
        assert data == PDF and info.sha256_hex == infos[0].sha256_hex
        with pytest.raises(NotFound):  # another case's attachment id
            read_attachment(s, platform.keyring, owner_type="objection", owner_id=6, attachment_id=infos[0].id,
                            actor=PERSON, subject_id=9, purpose="x")
    with platform.db.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "attachment.read")).one()
    assert event.purpose == "本人查看" and event.subject_id == 9


def test_a_ciphertext_moved_to_another_case_does_not_decrypt(platform: Platform) -> None:
    with platform.db.write() as s:
        [a] = store_attachments(s, platform.keyring, owner_type="objection", owner_id=5, uploads=[Upload("a.pdf", PDF)],
                                actor=PERSON, now=NOW)
    with platform.db.write() as s:
        s.execute(update(Attachment).where(Attachment.id == a.id).values(owner_id=6))
    with platform.db.read() as s, pytest.raises(KeyProblem):
        read_attachment(s, platform.keyring, owner_type="objection", owner_id=6, attachment_id=a.id, actor=PERSON,
                        subject_id=None, purpose="x")


def test_one_bad_file_stores_nothing(platform: Platform) -> None:
    with platform.db.write() as s, pytest.raises(DomainError) as err:
        store_attachments(s, platform.keyring, owner_type="repair", owner_id=1,
                          uploads=[Upload("ok.pdf", PDF), Upload("bad.exe", b"MZ")], actor=PERSON, now=NOW)
    assert err.value.code == "attachment.bad_type" and "第 2 个附件“bad.exe”" in err.value.message
    too_many = [Upload(f"{i}.pdf", PDF) for i in range(POLICY.max_count + 1)]
    with platform.db.write() as s, pytest.raises(DomainError) as err:
        store_attachments(s, platform.keyring, owner_type="repair", owner_id=1, uploads=too_many, actor=PERSON,
                          now=NOW)
    assert err.value.code == "attachment.too_many" and f"最多上传 {POLICY.max_count} 个附件" in err.value.message
    with platform.db.read() as s:
        assert s.scalars(select(Attachment)).all() == []
