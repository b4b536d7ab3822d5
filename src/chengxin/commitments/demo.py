"""Demo commitments (信用承诺) for the demo data set: signed by the demo's own subjects, recorded by the
accepting departments through the normal paper channel, some fulfilled, a few breached (each breach
becoming a ``commitment_breach`` record through the record path). Reproducible from the seed; a
second run adds nothing (the demo is loaded once, into an empty platform).

Call it after ``load_demo`` has created the subjects:
``load_demo_commitments(platform, today=day, seed=settings.demo_seed)``.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select

from chengxin.commitments import service
from chengxin.commitments.models import Commitment
from chengxin.commitments.templates import templates
from chengxin.core import audit
from chengxin.core.clock import CHINA
from chengxin.core.errors import DomainError
from chengxin.platform import Platform
from chengxin.subjects.models import Subject
from chengxin.subjects.service import decrypt_identity

__all__ = ["load_demo_commitments"]

MATTERS = {
    "certificate_notice": ("申请食品经营许可（免于提交场所产权证明）", "申请公共场所卫生许可（免于提交健康证明）",
                           "办理道路运输经营许可（免于提交无犯罪记录证明）", "申请建筑业企业资质（免于提交社保缴纳证明）",
                           "申请教师资格认定（免于提交无犯罪记录证明）"),
    "tolerance_acceptance": ("申请建设工程规划许可，容缺补交消防设计审查意见", "办理排污许可，容缺补交环评批复复印件",
                             "申请旅行社业务经营许可，容缺补交质量保证金凭证"),
    "industry_self_discipline": ("常州市电子商务协会会员诚信经营", "常州市餐饮行业协会会员诚信经营",
                                 "常州市物流协会会员诚信经营"),
    "ecommerce_operator": ("天猫“{name}”旗舰店", "京东“{name}”官方店", "拼多多“{name}”专营店", "抖音小店“{name}”"),
    "market_entry": ("依法诚信经营，主动公开承诺", "按时报送年度报告、足额缴纳社会保险费"),
}
BREACH_FACTS = ("经核查，承诺事项与实际情况不符，所称已具备的条件不成立。", "承诺期限届满未补齐材料，经催告仍未补交。",
                "经平台监测，该店铺存在组织虚假交易、编造用户评价的行为，违反承诺第二项。",
                "年度抽查发现未按承诺足额缴纳社会保险费。")


def _department_actor(department: str) -> audit.Actor:
    return audit.Actor(kind="api_key", name="demo", department_code=department)


def load_demo_commitments(platform: Platform, *, today: dt.date, seed: int = 2018, organizations: int = 60,
                          persons: int = 20) -> int:
    """Create about ``organizations + persons`` commitments; returns how many were created."""
    rng = random.Random(f"{seed}:commitments")
    with platform.db.read() as session:
        if session.scalar(select(func.count()).select_from(Commitment)):
            return 0
        orgs = list(session.scalars(select(Subject).where(Subject.kind == "organization").order_by(Subject.id)
                                    .limit(organizations)))
        people = list(session.scalars(select(Subject).where(Subject.kind == "person").order_by(Subject.id)
                                      .limit(persons)))
        identities = {s.id: decrypt_identity(platform.keyring, s) for s in people}  # the demo's own data
    found = templates()
    made: list[tuple[str, str]] = []  # (number, accepting department)
    plan = [(s, code) for s in orgs for code in [rng.choice([c for c, t in found.items() if "organization" in
                                                              t.subject_kinds])]]
    plan += [(s, code) for s in people for code in [rng.choice([c for c, t in found.items() if "person" in
                                                                 t.subject_kinds])]]
    for subject, code in plan:
        template = found[code]
        signed_on = today - dt.timedelta(days=rng.randint(0, 330))
        version = template.version_on(signed_on)
        if version is None and template.latest.effective_from <= today:  # signed under the text in force
            signed_on = max(signed_on, template.latest.effective_from)
            version = template.version_on(signed_on)
        if version is None:
            continue
        department = rng.choice(template.acceptors)
        matter = rng.choice(MATTERS.get(code, ("依法诚信经营",))).format(name=subject.display_name[:8])
        ric = identities[subject.id][0] if subject.kind == "person" else None
        paper = service.PaperIn(template_code=code, template_version=version.version, matter=matter,
                                document_no=f"{department.upper()}-CN-{signed_on.year}-{rng.randint(1, 9999):04d}",
                                signed_on=signed_on, ric=ric, uscc=None if ric else subject.display_id,
                                department=department)
        now = dt.datetime.combine(signed_on, dt.time(10, rng.randint(0, 59)), CHINA).astimezone(dt.UTC)
        try:
            with platform.db.write() as session:
                view = service.record_paper(session, platform.catalog, platform.keyring,
                                            actor=_department_actor(department), paper=paper, now=now)
        except DomainError:
            continue  # a subject the template does not fit: skip it, the demo stays realistic
        made.append((view.no, department))
    now = dt.datetime.combine(today, dt.time(9), CHINA).astimezone(dt.UTC)
    for no, department in made:
        roll = rng.random()
        if roll < 0.12:
            body = service.BreachIn(facts=rng.choice(BREACH_FACTS), decision_no=f"{department.upper()}-RD-{no[-8:]}",
                                    severity="serious" if rng.random() < 0.2 else "general",
                                    measures="责令限期整改，列入重点监管对象")
            try:
                service.record_breach(platform.db, platform.catalog, platform.keyring, no=no, body=body,
                                      actor=_department_actor(department), now=now)
            except DomainError:
                continue
        elif roll < 0.35:
            with platform.db.write() as session:
                service.fulfil(session, platform.catalog, no=no, actor=_department_actor(department), now=now,
                               note="经核查，承诺事项已履行")
    return len(made)
