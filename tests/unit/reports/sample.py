"""CreditFile samples for the report tests (built directly: reports print a CreditFile)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from chengxin.catalog.loader import REPORT_SECTIONS
from chengxin.core.clock import CHINA
from chengxin.disclosure.model import Audience, CreditFile, FieldLine, FileItem, QueryLogEntry

NOW = dt.datetime(2026, 11, 25, 9, 30, tzinfo=CHINA)

DEPARTMENTS = ["常州市市场监督管理局", "常州市生态环境局", "常州市税务局", "常州市人力资源和社会保障局",
               "常州市中级人民法院", "常州市住房和城乡建设局"]


def item(n: int, section: str, *, objection: bool = False, statement: str | None = None) -> FileItem:
    dept = DEPARTMENTS[n % len(DEPARTMENTS)]
    return FileItem(
        record_id=1000 + n, item_code=f"item_{n}", item_name_zh=f"行政处罚信息{n}", category="negative",
        severity="general", report_section=section, sharing="public", department_code=f"D{n % 6}",
        department_name_zh=dept, decision_date=dt.date(2025, 3, 1) + dt.timedelta(days=n),
        display_ends_on=dt.date(2026, 3, 1) + dt.timedelta(days=n) if n % 3 else None,
        status="active", displayed=True, under_objection=objection, statement=statement,
        fields=(FieldLine("decision_no", "行政处罚决定书文号", f"常市监处罚〔2025〕{4100 + n}号"),
                FieldLine("fine", "罚款金额（万元）", f"{(n + 1) * 1.5:.2f}"),
                FieldLine("reason", "违法事实", "未按规定公示年度报告，经责令改正逾期未改正")),
    )


def org_file(n_items: int = 9, audience: Audience = Audience.PUBLIC) -> CreditFile:
    items = tuple(item(i, REPORT_SECTIONS[i % len(REPORT_SECTIONS)], objection=(i == 1),
                       statement="该处罚已全部履行完毕，并已完成整改。" if i == 1 else None) for i in range(n_items))
    return CreditFile(subject_id=7, kind="organization", display_id="91320400MA1XXXXX3K",
                      display_name="常州示例科技有限公司", audience=audience, as_of=NOW.date(), items=items)


def person_file(with_items: bool = True) -> CreditFile:
    items = (item(2, "行政管理"), item(5, "诚实守信")) if with_items else ()
    log = (QueryLogEntry(dt.datetime(2026, 10, 3, 14, 5, tzinfo=CHINA), "常州农村商业银行", "贷款审批",
                         "授权书 SQ20261003001"),
           QueryLogEntry(dt.datetime(2026, 11, 1, 10, 0, tzinfo=CHINA), "常州市人力资源和社会保障局", "职称评审",
                         "《江苏省社会信用条例》第三十条"))
    return CreditFile(subject_id=8, kind="person", display_id="3204**********1234", display_name="张*",
                      audience=Audience.SELF, as_of=NOW.date(), items=items, query_log=log)


FACTS = ("经查，当事人于2024年度未按照《企业信息公示暂行条例》规定的期限通过国家企业信用信息公示系统报送"
         "并公示年度报告，经本局于2025年1月15日责令限期改正后，逾期仍未改正。上述事实有现场检查笔录、"
         "询问笔录、企业信用信息公示系统截图等证据为证，当事人对上述事实无异议。")


def full_item(n: int, section: str, **kw: object) -> FileItem:
    """An administrative penalty as the catalog shows it: 12 fields, long texts, long labels."""
    base = item(n, section, **kw)  # type: ignore[arg-type]
    amount = f"{(n + 1) * 1.5:.2f}"
    fields = (
        ("decision_no", "行政处罚决定书文号", f"常市监处罚〔2025〕{4100 + n}号"),
        ("case_name", "案件名称", f"常州示例科技有限公司未按规定公示年度报告案（第{n}号）"),
        ("violation_type", "违法行为类型", "未按规定公示年度报告"),
        ("facts", "违法事实", FACTS),
        ("legal_basis", "处罚依据", "《中华人民共和国市场主体登记管理条例》第四十条、《企业信息公示暂行条例》第十八条"),
        ("penalty_type", "处罚类别", "罚款；警告"),
        ("penalty_content", "处罚内容", f"罚款人民币{amount}万元，并予以警告。"),
        ("fine", "罚款金额（万元）", amount),
        ("confiscated", "没收违法所得、没收非法财物的金额（万元）", "0.00"),
        ("decision_date", "处罚决定日期", base.decision_date.isoformat()),
        ("authority", "处罚机关", base.department_name_zh),
        ("authority_uscc", "处罚机关统一社会信用代码", "11320400014112345X"),
    )
    return dataclasses.replace(base, fields=tuple(FieldLine(*f) for f in fields))


def large_org_file(n_items: int = 50) -> CreditFile:
    """A large realistic file: ``n_items`` full penalties over every section, one under objection with a statement."""
    items = tuple(full_item(i, REPORT_SECTIONS[i % len(REPORT_SECTIONS)], objection=(i == 1),
                            statement="该处罚已全部履行完毕，并已完成整改，2025年4月起按期公示年度报告。" if i == 1 else None)
                  for i in range(n_items))
    return dataclasses.replace(org_file(0), items=items)
