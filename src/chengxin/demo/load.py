"""The demo data set: a Changzhou-like city of persons, organisations and credit records.

Everything is reproducible from ``settings.demo_seed``: the same seed gives the same persons,
organisations and rows. Every record enters through the normal collection path
(:func:`chengxin.records.service.ingest`), so the demo exercises validation, idempotency,
corrections, rejections, encryption and the ledger exactly as a department's upload would.

The generators are public (:func:`generate_persons`, :func:`generate_organizations`) so tests
can re-create the clear identifiers the loader used and check that none of them is stored.
"""

from __future__ import annotations

import datetime as dt
import importlib
import math
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from faker import Faker
from rich.progress import Progress, TaskID
from sqlalchemy import select

from chengxin.accounts.models import StaffUser
from chengxin.accounts.service import Role, create_user
from chengxin.catalog.model import CatalogItem, Category, FieldSpec, FieldType, ItemVersion, Severity, SubjectKind
from chengxin.core.audit import SYSTEM
from chengxin.core.identifiers import (
    RIC_REGION_CODES,
    USCC_CHARSET,
    USCC_REGION_CODES,
    make_ric,
    make_uscc,
)
from chengxin.platform import Platform
from chengxin.records.models import Record
from chengxin.records.service import ApiRow, Receipt, ingest
from chengxin.subjects.models import Subject

__all__ = [
    "DEMO_PASSWORD_ENV",
    "DemoOrganization",
    "DemoPerson",
    "DemoSummary",
    "database_is_empty",
    "demo_usernames",
    "generate_organizations",
    "generate_persons",
    "load_demo",
    "sample_pattern",
]

DEMO_PASSWORD_ENV = "CHENGXIN_DEMO_PASSWORD"
DEFAULT_DEMO_PASSWORD = "chengxin-demo"
CHANNEL = "demo"
MAX_BATCH_ROWS = 20_000
YEARS_BACK = 4

BAD_ROW_RATE = 0.005
CORRECTION_RATE = 0.01
UNCHANGED_RATE = 0.01

# ---------------------------------------------------------------------------------------------
# Places
# ---------------------------------------------------------------------------------------------

#: Changzhou's districts and county-level city (GB/T 2260).
CHANGZHOU_DISTRICTS: dict[str, str] = {
    "320402": "天宁区",
    "320404": "钟楼区",
    "320411": "新北区",
    "320412": "武进区",
    "320413": "金坛区",
    "320481": "溧阳市",
}
_CHANGZHOU_WEIGHTS = (17, 15, 19, 27, 10, 12)
_OTHER_JIANGSU = (
    "320102", "320104", "320106", "320113", "320115", "320205", "320206", "320211", "320281", "320282",
    "320505", "320506", "320581", "320583", "321102", "321111", "321181", "321182", "321183", "320902",
    "320981", "321302", "320707", "320303", "320623", "321002", "321202",
)
_OTHER_PROVINCES = (
    "340104", "340202", "340321", "341202", "410105", "411302", "510107", "500103", "360102", "420106",
    "421022", "370102", "371302", "330106", "330482", "130102", "610113", "450103", "230103", "430104",
    "522101", "620102", "150102", "350203", "440304",
)
_TOWNS: dict[str, tuple[str, ...]] = {
    "320402": ("郑陆镇", "青龙街道", "茶山街道", "雕庄街道", "红梅街道"),
    "320404": ("邹区镇", "五星街道", "永红街道", "北港街道", "西林街道"),
    "320411": ("孟河镇", "奔牛镇", "薛家镇", "罗溪镇", "西夏墅镇", "春江街道"),
    "320412": ("湖塘镇", "牛塘镇", "洛阳镇", "横林镇", "雪堰镇", "前黄镇", "礼嘉镇", "嘉泽镇"),
    "320413": ("薛埠镇", "指前镇", "朱林镇", "直溪镇", "儒林镇", "金城镇"),
    "320481": ("天目湖镇", "社渚镇", "竹箦镇", "上兴镇", "戴埠镇", "别桥镇"),
}
_ROADS = (
    "延陵西路", "和平北路", "通江中路", "晋陵中路", "劳动东路", "长江北路", "龙城大道", "常武中路", "人民东路",
    "武宜南路", "关河东路", "怀德中路", "太湖东路", "汉江路", "钟楼路", "竹林西路", "燕山中路", "金坛大道",
    "溧阳大道", "天目湖大道",
)


def _known(codes: Sequence[str], valid: frozenset[str]) -> tuple[str, ...]:
    return tuple(code for code in codes if code in valid)


_RIC_OTHER_JIANGSU = _known(_OTHER_JIANGSU, RIC_REGION_CODES)
_RIC_OTHER_PROVINCES = _known(_OTHER_PROVINCES, RIC_REGION_CODES)
_CHANGZHOU_CODES = tuple(CHANGZHOU_DISTRICTS)

# ---------------------------------------------------------------------------------------------
# Persons
# ---------------------------------------------------------------------------------------------

_MINORITY_GIVEN = (
    "阿卜杜拉", "艾力", "阿依古丽", "古丽娜尔", "热依拉", "努尔", "吐尔逊", "帕提古丽", "迪丽娜尔", "库尔班",
    "玉素甫", "塔依尔", "买合木提", "阿迪力", "米热古丽", "依力哈木", "布合力齐", "扎西", "次仁", "巴特尔",
)
_MINORITY_FATHER = (
    "买买提", "艾尼瓦尔", "阿不都", "依明", "吐尔洪", "艾山", "热合曼", "阿木提", "卡德尔", "尼亚孜", "多吉",
    "格桑", "朝鲁", "沙比提", "肉孜",
)
_BIRTH_FIRST = dt.date(1950, 1, 1)
_BIRTH_LAST = dt.date(2006, 12, 31)


@dataclass(frozen=True, slots=True)
class DemoPerson:
    ric: str
    name: str
    birth: dt.date


@dataclass(frozen=True, slots=True)
class DemoOrganization:
    uscc: str
    name: str
    category: str  # registration-authority + category code, e.g. "91" 企业


def _faker(seed: int, part: str) -> Faker:
    fake = Faker("zh_CN")
    fake.seed_instance(f"{seed}/{part}")
    return fake


def _person_name(fake: Faker, rng: random.Random, male: bool) -> str:
    roll = rng.random()
    if roll < 0.008:  # 少数民族 names (transliterated, with the middle dot)
        return f"{rng.choice(_MINORITY_GIVEN)}·{rng.choice(_MINORITY_FATHER)}"
    surname = str(fake.last_name())
    given = str(fake.first_name_male() if male else fake.first_name_female())
    if roll < 0.55 and len(given) == 2:
        given = given[0]  # a two-character name, as common as three-character ones
    elif roll > 0.8 and len(given) == 1:
        given += str(fake.first_name_male() if male else fake.first_name_female())[-1]
    return surname + given


def generate_persons(seed: int, count: int) -> list[DemoPerson]:
    """``count`` persons with unique, valid 公民身份号码; the same seed gives the same persons."""
    rng = random.Random(f"{seed}/persons")
    fake = _faker(seed, "persons")
    span = (_BIRTH_LAST - _BIRTH_FIRST).days
    seen: set[str] = set()
    persons: list[DemoPerson] = []
    while len(persons) < count:
        roll = rng.random()
        if roll < 0.86 or not (_RIC_OTHER_JIANGSU or _RIC_OTHER_PROVINCES):
            region = rng.choices(_CHANGZHOU_CODES, _CHANGZHOU_WEIGHTS)[0]
        elif roll < 0.94 and _RIC_OTHER_JIANGSU:
            region = rng.choice(_RIC_OTHER_JIANGSU)
        else:
            region = rng.choice(_RIC_OTHER_PROVINCES or _RIC_OTHER_JIANGSU)
        birth = _BIRTH_FIRST + dt.timedelta(days=rng.randrange(span + 1))
        sequence = rng.randrange(1000)
        ric = make_ric(region, birth, sequence)
        if ric in seen:
            continue
        seen.add(ric)
        persons.append(DemoPerson(ric, _person_name(fake, rng, male=sequence % 2 == 1), birth))
    return persons


# ---------------------------------------------------------------------------------------------
# Organisations
# ---------------------------------------------------------------------------------------------

# (authority, category, weight, label)
_ORG_KINDS: tuple[tuple[str, str, float, str], ...] = (
    ("9", "1", 0.70, "企业"),
    ("9", "2", 0.15, "个体工商户"),
    ("9", "3", 0.04, "农民专业合作社"),
    ("5", "1", 0.04, "社会团体"),
    ("5", "2", 0.04, "民办非企业单位"),
    ("1", "2", 0.03, "事业单位"),
)
_INDUSTRIES = (
    "机械制造", "精密模具", "建筑工程", "食品", "餐饮管理", "物流", "纺织", "新材料", "光伏科技", "电子", "商贸",
    "医药", "环保科技", "汽车零部件", "房地产开发", "装饰工程", "电气", "智能装备", "化工", "农业发展", "信息技术",
    "物业管理", "人力资源", "电缆", "轨道交通设备", "服饰", "家居", "新能源",
)
_SHOPS = (
    "便利店", "面馆", "小吃店", "五金店", "水果店", "理发店", "超市", "烟酒店", "服装店", "汽车修理部", "快餐店",
    "早餐店", "手机维修部", "副食品店", "茶叶店", "药房", "干洗店", "粮油店",
)
_COOP_PRODUCTS = (
    "茶叶", "果蔬", "水产养殖", "稻麦", "苗木", "葡萄", "草莓", "食用菌", "青虾", "螃蟹", "花卉", "生猪养殖", "白茶",
)
_ASSOCIATIONS = (
    "餐饮行业", "物流行业", "建筑业", "软件行业", "家政服务", "美容美发", "汽车维修", "电子商务", "个体劳动者",
    "消费者", "律师", "会计", "书法家", "摄影家", "老年体育", "青年企业家", "模具工业", "纺织服装", "旅游",
)
_NONPROFITS = ("培训中心", "幼儿园", "养老服务中心", "社会工作服务中心", "康复中心", "艺术培训学校", "职业技能培训学校")
_PUBLIC_INSTITUTIONS = (
    "人民医院", "中医医院", "妇幼保健院", "疾病预防控制中心", "实验小学", "高级中学", "图书馆", "文化馆",
    "公共资源交易中心", "市政设施管理中心", "园林绿化管理中心", "档案馆", "不动产登记中心", "社会福利院",
)
_NUMERALS = "一二三四五六七八九"


def _org_name(fake: Faker, rng: random.Random, authority: str, category: str, region: str) -> str:
    district = CHANGZHOU_DISTRICTS.get(region, "")
    brand = str(fake.company_prefix())
    if authority == "9" and category == "1":
        roll = rng.random()
        suffix = "股份有限公司" if rng.random() < 0.12 else "有限公司"
        if roll < 0.55:
            return f"常州{brand}{rng.choice(_INDUSTRIES)}{suffix}"
        if roll < 0.8 and district:
            return f"常州市{district}{brand}{rng.choice(_INDUSTRIES)}{suffix}"
        if roll < 0.92:
            return f"江苏{brand}{rng.choice(_INDUSTRIES)}集团有限公司"
        return f"常州{brand}{str(fake.company_suffix())}"
    if authority == "9" and category == "2":
        owner = str(fake.last_name()) + rng.choice(("记", "氏", "家", "")) if rng.random() < 0.6 else brand
        return f"{district or '天宁区'}{owner}{rng.choice(_SHOPS)}"
    if authority == "9" and category == "3":
        town = rng.choice(_TOWNS.get(region, ("",)))
        return f"{district}{town}{brand}{rng.choice(_COOP_PRODUCTS)}专业合作社"
    if authority == "5" and category == "1":
        kind = rng.choice(("协会", "商会", "学会", "联合会"))
        return f"常州市{district if rng.random() < 0.3 else ''}{rng.choice(_ASSOCIATIONS)}{kind}"
    if authority == "5" and category == "2":
        return f"常州市{district}{brand}{rng.choice(_NONPROFITS)}"
    institution = rng.choice(_PUBLIC_INSTITUTIONS)
    if institution.endswith("医院") and rng.random() < 0.5:
        return f"常州市第{rng.choice(_NUMERALS)}人民医院"
    return f"常州市{district}{institution}"


def _org_code_body(rng: random.Random, authority: str) -> str:
    letters = USCC_CHARSET
    if authority == "9" and rng.random() < 0.7:
        # Codes issued after 2015 start with MA (市场监管 new-registration range).
        return "MA" + rng.choice("1234") + "".join(rng.choice(letters) for _ in range(5))
    lead = {"9": "7", "5": "5", "1": "4"}.get(authority, "0")
    return lead + "".join(rng.choice("0123456789") for _ in range(7))


def generate_organizations(seed: int, count: int) -> list[DemoOrganization]:
    """``count`` organisations with unique, valid 统一社会信用代码 and unique names."""
    rng = random.Random(f"{seed}/organizations")
    fake = _faker(seed, "organizations")
    regions = _known((*_CHANGZHOU_CODES, "320400"), USCC_REGION_CODES)
    region_weights = [*_CHANGZHOU_WEIGHTS, 8][: len(regions)]
    kinds = [(a, c) for a, c, _, _ in _ORG_KINDS]
    weights = [w for _, _, w, _ in _ORG_KINDS]
    codes: set[str] = set()
    names: set[str] = set()
    found: list[DemoOrganization] = []
    while len(found) < count:
        authority, category = rng.choices(kinds, weights)[0]
        region = rng.choices(regions, region_weights)[0]
        uscc = make_uscc(authority, category, region, _org_code_body(rng, authority))
        if uscc in codes:
            continue
        name = _org_name(fake, rng, authority, category, region)
        if name in names:
            continue
        codes.add(uscc)
        names.add(name)
        found.append(DemoOrganization(uscc, name, authority + category))
    return found


# ---------------------------------------------------------------------------------------------
# Pattern sampling: a value that matches a field's regular expression
# ---------------------------------------------------------------------------------------------

_re_parser: Any = importlib.import_module("re._parser")
_re_constants: Any = importlib.import_module("re._constants")
_COMMON_HANZI = "常州市天宁钟楼新北武进金坛溧阳苏南江中华人民共和国政务信用服务管理经营建设发展科技教育文化卫生安全"
_ASCII_POOL = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


def _pick_char(rng: random.Random, items: list[tuple[Any, Any]], negate: bool) -> str:
    c = _re_constants

    def allowed(ch: str) -> bool:
        code = ord(ch)
        for op, arg in items:
            if op is c.LITERAL and code == arg:
                return True
            if op is c.RANGE and arg[0] <= code <= arg[1]:
                return True
            if op is c.CATEGORY and _in_category(ch, arg):
                return True
        return False

    if negate:
        for _ in range(200):
            ch = rng.choice(_ASCII_POOL)
            if not allowed(ch):
                return ch
        raise ValueError("cannot sample a negated character class")
    op, arg = rng.choice([item for item in items if item[0] is not c.NEGATE])
    if op is c.LITERAL:
        return chr(arg)
    if op is c.RANGE:
        low, high = arg
        hanzi = [ch for ch in _COMMON_HANZI if low <= ord(ch) <= high]
        if high - low > 200 and hanzi:
            return rng.choice(hanzi)
        return chr(rng.randint(low, high))
    if op is c.CATEGORY:
        return _category_char(rng, arg)
    raise ValueError(f"unsupported character class item {op}")


def _in_category(ch: str, category: Any) -> bool:
    c = _re_constants
    if category is c.CATEGORY_DIGIT:
        return ch.isdigit()
    if category is c.CATEGORY_NOT_DIGIT:
        return not ch.isdigit()
    if category is c.CATEGORY_WORD:
        return ch.isalnum() or ch == "_"
    if category is c.CATEGORY_NOT_WORD:
        return not (ch.isalnum() or ch == "_")
    if category is c.CATEGORY_SPACE:
        return ch.isspace()
    if category is c.CATEGORY_NOT_SPACE:
        return not ch.isspace()
    return False


def _category_char(rng: random.Random, category: Any) -> str:
    c = _re_constants
    if category is c.CATEGORY_DIGIT:
        return rng.choice("0123456789")
    if category is c.CATEGORY_WORD or category is c.CATEGORY_NOT_SPACE:
        return rng.choice(_ASCII_POOL)
    if category is c.CATEGORY_SPACE:
        return " "
    if category is c.CATEGORY_NOT_DIGIT or category is c.CATEGORY_NOT_WORD:
        return rng.choice("-·") if category is c.CATEGORY_NOT_WORD else rng.choice("ABCDEFGH")
    raise ValueError(f"unsupported category {category}")


def _emit(items: Any, rng: random.Random, groups: dict[int, str]) -> str:
    c = _re_constants
    out: list[str] = []
    for op, arg in items:
        if op is c.LITERAL:
            out.append(chr(arg))
        elif op is c.NOT_LITERAL:
            out.append(next(ch for ch in _ASCII_POOL if ord(ch) != arg))
        elif op is c.ANY:
            out.append(rng.choice(_ASCII_POOL))
        elif op is c.IN:
            negate = any(item[0] is c.NEGATE for item in arg)
            out.append(_pick_char(rng, list(arg), negate))
        elif op is c.CATEGORY:
            out.append(_category_char(rng, arg))
        elif op is c.BRANCH:
            out.append(_emit(rng.choice(arg[1]), rng, groups))
        elif op is c.SUBPATTERN:
            group, sub = arg[0], arg[-1]
            text = _emit(sub, rng, groups)
            if group is not None:
                groups[group] = text
            out.append(text)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT) or getattr(c, "POSSESSIVE_REPEAT", None) is op:
            low, high, sub = arg
            high = low + 3 if high is c.MAXREPEAT else high
            times = low + rng.randint(0, max(0, min(high - low, 4)))
            out.extend(_emit(sub, rng, groups) for _ in range(times))
        elif op is c.GROUPREF:
            out.append(groups.get(arg, ""))
        elif op is getattr(c, "ATOMIC_GROUP", None):
            out.append(_emit(arg, rng, groups))
        elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue  # anchors and look-arounds: the caller checks the result with fullmatch
        else:
            raise ValueError(f"unsupported regular expression construct {op}")
    return "".join(out)


def sample_pattern(pattern: str, rng: random.Random, *, max_length: int | None = None,
                   attempts: int = 50) -> str | None:
    """A random string that ``re.fullmatch``-es ``pattern`` (and fits ``max_length``), or None."""
    compiled = re.compile(pattern)
    try:
        tree = _re_parser.parse(pattern)
    except Exception:  # noqa: BLE001 - a construct the parser of this Python rejects
        return None
    for _ in range(attempts):
        try:
            text = _emit(tree, rng, {})
        except ValueError:
            return None
        if compiled.fullmatch(text) and (not max_length or len(text) <= max_length):
            return text
    return None


# ---------------------------------------------------------------------------------------------
# Field values
# ---------------------------------------------------------------------------------------------

_DOC_PREFIX = {
    "samr": "常市监", "tax": "常税", "police": "常公", "justice": "常司", "edu": "常教", "hrss": "常人社",
    "civil": "常民", "ecology": "常环", "housing": "常住建", "transport": "常交", "health": "常卫",
    "emergency": "常应急", "medical_security": "常医保", "fire": "常消", "post": "常邮管", "fund": "常公积金",
    "culture_tourism": "常文旅", "commerce": "常商务", "natural_resources": "常自然资源", "finance": "常财",
    "science": "常科", "credit_office": "常信用", "court": "常中法", "gov_service": "常政务", "youth_league": "常团",
    "charity": "常慈", "civilization_office": "常文明", "organization_dept": "常组", "staffing": "常编",
    "cac": "常网信", "water": "常水", "power": "常电", "gas": "常燃",
}
_COURT_CODES = ("苏04", "苏0402", "苏0404", "苏0411", "苏0412", "苏0413", "苏0481")
_COURT_KINDS = ("执", "民初", "执恢", "民终", "刑初", "行初")

_NEGATIVE_FACTS: dict[str, tuple[str, ...]] = {
    "税": ("未按规定期限办理纳税申报和报送纳税资料", "虚开增值税专用发票", "逃避缴纳税款", "未按规定开具发票",
          "欠缴税款且逾期未缴纳"),
    "食品": ("生产经营不符合食品安全标准的食品", "未取得食品经营许可从事食品经营活动", "经营超过保质期的食品",
           "未按规定进行进货查验"),
    "药": ("销售假药、劣药", "未按规定储存药品", "违法发布药品广告"),
    "医保": ("违规使用医保基金", "虚构医药服务项目骗取医保基金", "串换药品、医用耗材"),
    "环境": ("超标排放大气污染物", "未批先建", "未按规定设置危险废物识别标志", "通过暗管逃避监管排放水污染物"),
    "生态": ("超标排放大气污染物", "未按规定设置危险废物识别标志"),
    "安全": ("未按规定对从业人员进行安全生产教育和培训", "未及时消除生产安全事故隐患", "特种作业人员未持证上岗"),
    "消防": ("占用、堵塞、封闭疏散通道、安全出口", "消防设施未保持完好有效"),
    "工资": ("拖欠农民工工资", "克扣劳动者工资报酬"),
    "社会保险": ("未按规定缴纳社会保险费", "骗取社会保险待遇"),
    "公积金": ("未按规定为职工缴存住房公积金", "骗提住房公积金"),
    "执行": ("有履行能力而拒不履行生效法律文书确定的义务", "违反限制消费令", "以虚假诉讼规避执行"),
    "法院": ("有履行能力而拒不履行生效法律文书确定的义务", "违反限制消费令"),
    "考试": ("在国家教育考试中使用通讯设备作弊", "代替他人参加考试", "伪造考试报名材料"),
    "作弊": ("在国家教育考试中使用通讯设备作弊", "代替他人参加考试"),
    "学术": ("论文抄袭剽窃", "伪造篡改科研数据", "代写代投论文"),
    "科研": ("伪造篡改科研数据", "违规使用科研经费"),
    "交通": ("超限超载运输", "未取得道路运输经营许可擅自从事道路运输经营", "逃缴车辆通行费"),
    "欠": ("逾期未缴纳水费", "逾期未缴纳电费", "逾期未缴纳燃气费", "拖欠物业服务费"),
    "电商": ("刷单炒信", "虚假宣传", "销售假冒伪劣商品"),
    "价格": ("价格欺诈", "不明码标价"),
    "建": ("违法建设", "工程质量不符合强制性标准", "无资质承揽工程"),
    "合同": ("合同欺诈", "恶意拖欠货款"),
}
_NEGATIVE_GENERIC = (
    "未取得许可擅自从事经营活动", "虚假宣传", "提供虚假材料骗取登记", "未按规定公示年度报告", "销售不合格产品",
    "违反安全生产管理规定", "拒不执行行政处罚决定", "伪造、变造有关证明材料",
)
_POSITIVE_FACTS = (
    "在志愿服务中表现突出", "见义勇为，事迹突出", "获评诚信经营示范单位", "连续三年无偿献血", "积极参与慈善捐赠",
    "获评纳税信用A级纳税人", "获评江苏省守合同重信用企业", "获评常州市文明家庭", "参加抗疫志愿服务",
    "参与防汛抗旱抢险救灾",
)
_BASIC_FACTS = ("依法办理", "按规定登记", "材料齐全，准予办理", "经审查符合条件")
_PENALTY_CONTENT = ("警告", "通报批评", "罚款", "没收违法所得、罚款", "责令停产停业", "暂扣许可证件", "警告、罚款")
_HONOURS = (
    "常州市优秀志愿者", "常州市诚信经营示范单位", "江苏省守合同重信用企业", "常州市文明家庭", "常州好人",
    "全国无偿献血奉献奖", "常州市五一劳动奖章", "常州市见义勇为先进个人",
)
_PROJECTS = (
    "“龙城义工”社区服务", "关爱留守儿童", "文明交通劝导", "敬老院助老服务", "垃圾分类宣传", "大运河清洁行动",
    "图书馆志愿服务", "马拉松赛事服务", "防疫志愿服务", "红十字应急救护培训",
)
_BASES = (
    "《中华人民共和国行政处罚法》第二十八条", "《中华人民共和国食品安全法》第一百二十四条",
    "《中华人民共和国税收征收管理法》第六十二条", "《中华人民共和国大气污染防治法》第九十九条",
    "《中华人民共和国安全生产法》第九十七条", "《江苏省社会信用条例》第二十七条",
    "《中华人民共和国民事诉讼法》第二百六十六条", "《保障农民工工资支付条例》第五十四条",
)
_REMARKS = ("无", "已整改", "已履行完毕", "按期整改到位", "当事人已缴纳罚款", "详见原始文书")
_SCHOOLS = ("常州大学", "常州工学院", "江苏理工学院", "常州信息职业技术学院", "常州市第一中学", "常州高级中学",
            "江苏省前黄高级中学", "常州市北郊高级中学")
_POSITIONS = ("法定代表人", "总经理", "财务负责人", "项目经理", "执业医师", "教师", "律师", "导游", "驾驶员")
_UNITS = ("个", "人", "次", "项", "件")


def _tokens(spec: FieldSpec) -> tuple[set[str], str]:
    return set(re.split(r"[_\W]+", spec.code.lower())), (spec.code.lower() + " " + spec.label_zh + " "
                                                          + spec.label_en.lower())


def _has(tokens: set[str], text: str, words: Sequence[str]) -> bool:
    """Short ASCII hints must be whole code tokens; longer or Chinese hints may be substrings."""
    for word in words:
        if word.isascii() and len(word) <= 3:
            if word in tokens:
                return True
        elif word in text:
            return True
    return False


@dataclass(slots=True)
class _RowContext:
    rng: random.Random
    day: dt.date
    department: str
    version: ItemVersion
    subject_name: str
    serial: int


FieldGen = Callable[[_RowContext], object]


class _Values:
    """Field-value generators for every item version, compiled once per (version, field)."""

    def __init__(self, platform: Platform, persons: Sequence[DemoPerson],
                 organizations: Sequence[DemoOrganization]) -> None:
        self.catalog = platform.catalog
        self.persons = persons
        self.organizations = organizations
        self._cache: dict[tuple[int, str], FieldGen] = {}

    def generator(self, version: ItemVersion, spec: FieldSpec) -> FieldGen:
        key = (id(version), spec.code)
        gen = self._cache.get(key)
        if gen is None:
            gen = self._cache[key] = self._build(version, spec)
        return gen

    # -- by type ------------------------------------------------------------------------------

    def _build(self, version: ItemVersion, spec: FieldSpec) -> FieldGen:
        kind = spec.type
        if kind is FieldType.ENUM:
            values = [option.value for option in spec.options]
            return lambda ctx: ctx.rng.choice(values)
        if kind is FieldType.BOOLEAN:
            return lambda ctx: ctx.rng.random() < 0.5
        if kind is FieldType.DECIMAL:
            return self._decimal(spec)
        if kind is FieldType.INTEGER:
            return self._integer(spec)
        if kind is FieldType.DATE:
            return self._date(spec)
        if kind is FieldType.RIC:
            persons = self.persons
            return lambda ctx: ctx.rng.choice(persons).ric
        if kind is FieldType.USCC:
            orgs = self.organizations
            return lambda ctx: ctx.rng.choice(orgs).uscc
        if kind is FieldType.GTIN:
            return lambda ctx: _gtin13(ctx.rng)
        return self._string(version, spec)

    def _decimal(self, spec: FieldSpec) -> FieldGen:
        tokens, text = _tokens(spec)
        scale = spec.scale if spec.scale is not None else 2
        if _has(tokens, text, ("hours", "hour", "时长", "小时", "学时")):
            low, high, log = 1.0, 300.0, True
        elif _has(tokens, text, ("rate", "ratio", "比例", "%", "percent", "率")):
            low, high, log = 0.0, 100.0, False
        elif _has(tokens, text, ("score", "分", "points")):
            low, high, log = 0.0, 100.0, False
        elif _has(tokens, text, ("tax", "税", "arrears", "欠", "owed")):
            low, high, log = 500.0, 2_000_000.0, True
        elif _has(tokens, text, ("donat", "捐")):
            low, high, log = 100.0, 200_000.0, True
        else:
            low, high, log = 200.0, 500_000.0, True
        low, high = _clamp_range(low, high, spec.minimum, spec.maximum)
        if low <= 0:
            log = False
        quantum = Decimal(1).scaleb(-scale)
        low_d = Decimal(repr(low)).quantize(quantum)
        high_d = Decimal(repr(high)).quantize(quantum)
        if low_d < Decimal(repr(low)):
            low_d += quantum
        if high_d > Decimal(repr(high)):
            high_d -= quantum
        round_to = 100.0 if high >= 10_000 and low >= 100 else 1.0

        def gen(ctx: _RowContext) -> object:
            rng = ctx.rng
            if log and low > 0:
                value = math.exp(rng.uniform(math.log(low), math.log(high)))
                if round_to > 1 and rng.random() < 0.8:
                    value = round(value / round_to) * round_to
            else:
                value = rng.uniform(low, high)
            number = Decimal(repr(value)).quantize(quantum)
            number = min(max(number, low_d), high_d)
            return format(number, "f")

        return gen

    def _integer(self, spec: FieldSpec) -> FieldGen:
        tokens, text = _tokens(spec)
        year_field = _has(tokens, text, ("year", "年度", "年份"))
        if _has(tokens, text, ("hours", "hour", "时长", "小时", "学时")):
            low, high = 1, 500
        elif _has(tokens, text, ("score", "分", "points")):
            low, high = 0, 100
        elif _has(tokens, text, ("month", "月")):
            low, high = 1, 12
        elif _has(tokens, text, ("times", "次", "count", "数", "人")):
            low, high = 1, 30
        elif _has(tokens, text, ("days", "day", "天", "日")):
            low, high = 1, 365
        else:
            low, high = 1, 100
        lo_f, hi_f = _clamp_range(float(low), float(high), spec.minimum, spec.maximum)
        lo, hi = math.ceil(lo_f), math.floor(hi_f)
        if lo > hi:
            lo = hi = math.ceil(spec.minimum) if spec.minimum is not None else 0

        def gen(ctx: _RowContext) -> object:
            if year_field:
                year = ctx.day.year - (1 if ctx.rng.random() < 0.3 else 0)
                if (spec.minimum is None or year >= spec.minimum) and (spec.maximum is None or year <= spec.maximum):
                    return year
            return ctx.rng.randint(lo, hi)

        return gen

    def _date(self, spec: FieldSpec) -> FieldGen:
        tokens, text = _tokens(spec)
        after = _has(tokens, text, ("end", "to", "until", "expire", "expiry", "expires", "valid", "due", "deadline",
                                    "止", "至", "到期", "截止", "有效期", "届满", "终止"))
        start = _has(tokens, text, ("start", "from", "begin", "issue", "issued", "起", "开始", "发证", "颁发"))

        def gen(ctx: _RowContext) -> object:
            rng = ctx.rng
            if after and not start:
                day = ctx.day + dt.timedelta(days=rng.choice((365, 730, 1095, 1825)) - rng.randint(0, 1))
            elif start:
                day = ctx.day
            else:
                day = ctx.day - dt.timedelta(days=rng.randint(0, 90))
            return day.isoformat()

        return gen

    def _string(self, version: ItemVersion, spec: FieldSpec) -> FieldGen:
        hinted = self._hinted_string(version, spec)
        max_length = spec.max_length or 0
        pattern = re.compile(spec.pattern) if spec.pattern else None

        def gen(ctx: _RowContext) -> object:
            text = hinted(ctx)
            if max_length and len(text) > max_length:
                text = text[:max_length]
            if pattern is not None and not pattern.fullmatch(text):
                sampled = sample_pattern(pattern.pattern, ctx.rng, max_length=max_length or None)
                return sampled  # None: the field is left out (a required one then shows up as a rejection)
            return text

        return gen

    def _hinted_string(self, version: ItemVersion, spec: FieldSpec) -> Callable[[_RowContext], str]:
        tokens, text = _tokens(spec)
        departments = self.catalog.departments
        name = version.name_zh
        persons = self.persons
        if _has(tokens, text, ("case", "案号")):
            return lambda ctx: _case_number(ctx)
        if _has(tokens, text, ("licence", "license", "certificate", "cert", "permit", "许可证", "证书", "证号",
                               "执照")):
            return lambda ctx: _certificate_number(ctx)
        if _has(tokens, text, ("no", "number", "num", "文号", "编号", "字号", "doc", "document", "code")):
            return lambda ctx: _doc_number(ctx)
        if _has(tokens, text, ("authority", "organ", "agency", "机关", "部门", "单位", "issuer", "发证", "颁发",
                               "department", "dept")):
            return lambda ctx: departments[ctx.department].name_zh if ctx.department in departments else "常州市人民政府"
        if _has(tokens, text, ("basis", "依据", "legal", "law")):
            return lambda ctx: ctx.rng.choice(_BASES)
        if _has(tokens, text, ("reason", "事由", "fact", "facts", "事实", "违法", "行为", "情形", "cause",
                               "description", "描述", "简介", "summary", "situation")):
            facts = _facts_for(version)
            return lambda ctx: ctx.rng.choice(facts)
        if _has(tokens, text, ("content", "内容", "result", "结果", "measure", "措施", "处罚种类", "type")):
            if version.category is Category.NEGATIVE:
                return lambda ctx: ctx.rng.choice(_PENALTY_CONTENT)
            return lambda ctx: ctx.rng.choice(_BASIC_FACTS)
        if _has(tokens, text, ("honour", "honor", "title", "称号", "荣誉", "奖项", "award")):
            return lambda ctx: ctx.rng.choice(_HONOURS)
        if _has(tokens, text, ("project", "activity", "项目", "活动", "服务")):
            return lambda ctx: ctx.rng.choice(_PROJECTS)
        if _has(tokens, text, ("school", "学校", "院校", "university", "institution")):
            return lambda ctx: ctx.rng.choice(_SCHOOLS)
        if _has(tokens, text, ("position", "职务", "岗位", "role", "职业", "occupation")):
            return lambda ctx: ctx.rng.choice(_POSITIONS)
        if _has(tokens, text, ("address", "地址", "住所", "场所", "location", "place")):
            return lambda ctx: _address(ctx.rng)
        if _has(tokens, text, ("phone", "tel", "电话", "手机", "mobile")):
            return lambda ctx: f"0519-8{ctx.rng.randrange(10**7):07d}"
        if _has(tokens, text, ("person", "contact", "representative", "legal", "代表人", "负责人", "联系人", "姓名",
                               "owner", "经办人")):
            return lambda ctx: ctx.rng.choice(persons).name
        if _has(tokens, text, ("remark", "note", "notes", "备注", "comment", "说明")):
            return lambda ctx: ctx.rng.choice(_REMARKS)
        if _has(tokens, text, ("amount", "金额")):
            return lambda ctx: f"{ctx.rng.randint(1, 500) * 100}元"
        if _has(tokens, text, ("name", "名称")):
            return lambda ctx: f"{name}（{ctx.rng.choice(_PROJECTS)}）"
        if spec.type is FieldType.TEXT:
            facts = _facts_for(version)
            return lambda ctx: f"经查，当事人{ctx.rng.choice(facts)}。{ctx.rng.choice(_REMARKS)}。"
        facts = _facts_for(version)
        return lambda ctx: ctx.rng.choice(facts)


def _clamp_range(low: float, high: float, minimum: float | None, maximum: float | None) -> tuple[float, float]:
    """The hint range cut to the field's bounds; the bounds alone when the two do not meet."""
    lo = low if minimum is None else max(low, float(minimum))
    hi = high if maximum is None else min(high, float(maximum))
    if lo > hi:
        lo = float(minimum) if minimum is not None else min(low, float(maximum or 0))
        hi = float(maximum) if maximum is not None else max(high, lo)
    return lo, hi


def _facts_for(version: ItemVersion) -> tuple[str, ...]:
    if version.category is Category.POSITIVE:
        return _POSITIVE_FACTS
    if version.category is Category.BASIC:
        return _BASIC_FACTS
    text = version.name_zh + version.description_zh
    for keyword, facts in _NEGATIVE_FACTS.items():
        if keyword in text:
            return facts
    return _NEGATIVE_GENERIC


def _doc_word(version: ItemVersion) -> str:
    name = version.name_zh
    for keyword, word in (("处罚", "罚"), ("许可", "许"), ("登记", "登"), ("注册", "注"), ("资格", "资"),
                          ("资质", "资"), ("表彰", "表"), ("奖励", "奖")):
        if keyword in name:
            return word
    return "决" if version.category is Category.NEGATIVE else "字"


def _doc_number(ctx: _RowContext) -> str:
    if ctx.department == "court":
        return _case_number(ctx)
    prefix = _DOC_PREFIX.get(ctx.department, "常")
    return f"{prefix}{_doc_word(ctx.version)}〔{ctx.day.year}〕{ctx.serial % 9000 + 1}号"


def _case_number(ctx: _RowContext) -> str:
    court = ctx.rng.choice(_COURT_CODES)
    return f"（{ctx.day.year}）{court}{ctx.rng.choice(_COURT_KINDS)}{ctx.serial % 9000 + 1}号"


def _certificate_number(ctx: _RowContext) -> str:
    return f"苏常{_doc_word(ctx.version)}{ctx.day.year}{ctx.serial % 1_000_000:06d}"


def _address(rng: random.Random) -> str:
    code = rng.choice(_CHANGZHOU_CODES)
    return f"江苏省常州市{CHANGZHOU_DISTRICTS[code]}{rng.choice(_ROADS)}{rng.randint(1, 999)}号"


def _gtin13(rng: random.Random) -> str:
    data = "69" + "".join(rng.choice("0123456789") for _ in range(10))
    total = 3 * sum(map(int, data[::-2])) + sum(map(int, data[-2::-2]))
    return data + str(-total % 10)


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------

# Item weights by what the item is about (Chinese name or code); the first matching rule wins.
_WEIGHT_RULES: tuple[tuple[tuple[str, ...], float], ...] = (
    (("作弊", "学术", "cheat", "academic", "plagiar"), 0.3),
    (("处罚", "penalty"), 10.0),
    (("许可", "licen", "permit"), 8.0),
    (("登记", "注册", "registration", "register"), 7.0),
    (("资格", "资质", "qualification", "certif"), 6.0),
    (("志愿", "volunteer"), 6.0),
    (("捐", "donation", "charity"), 4.0),
    (("欠", "arrears", "owe"), 6.0),
    (("失信被执行", "dishonest_judgment", "执行"), 4.0),
)
_DEFAULT_WEIGHT = 2.5
_SEVERITY_WEIGHTS = {Severity.GENERAL: 0.6, Severity.SERIOUS: 0.25, Severity.MINOR: 0.15}


def _item_weight(item: CatalogItem) -> float:
    text = (item.code + " " + item.name_zh + " " + item.name_en).lower()
    for words, weight in _WEIGHT_RULES:
        if any(word in text for word in words):
            return weight
    return _DEFAULT_WEIGHT


def _allocate(total: int, weights: Sequence[float], minimum: int) -> list[int]:
    """Split ``total`` by ``weights`` (largest remainder), giving each share at least ``minimum``."""
    n = len(weights)
    if n == 0:
        return []
    floor = min(minimum, total // n)
    rest = total - floor * n
    whole = sum(weights)
    raw = [rest * w / whole for w in weights]
    shares = [int(x) for x in raw]
    order = sorted(range(n), key=lambda i: raw[i] - shares[i], reverse=True)
    for i in order[: rest - sum(shares)]:
        shares[i] += 1
    return [floor + s for s in shares]


class _Picker:
    """Subjects for records: every subject once (in shuffled order), then a skewed draw
    (a few subjects have many records, as in a real city)."""

    def __init__(self, rng: random.Random, size: int) -> None:
        self.rng = rng
        self.size = size
        self.order = list(range(size))
        rng.shuffle(self.order)
        self.next = 0

    def pick(self) -> int:
        if self.next < self.size:
            self.next += 1
            return self.order[self.next - 1]
        return self.order[int(self.size * self.rng.random() ** 2.2)]


@dataclass(slots=True)
class _Row:
    values: dict[str, object]
    department: str
    year: int
    good: bool


@dataclass
class DemoSummary:
    persons: int
    organizations: int
    records_submitted: int
    accepted: int
    rejected: int
    corrected: int
    unchanged: int
    batches: int
    seconds: float
    users: tuple[str, ...]
    phase_seconds: dict[str, float] = field(default_factory=dict)


class _Loader:
    def __init__(self, platform: Platform, persons: list[DemoPerson], organizations: list[DemoOrganization],
                 *, seed: int, today: dt.date, progress: Progress | None, task: TaskID | None) -> None:
        self.platform = platform
        self.persons = persons
        self.organizations = organizations
        self.today = today
        self.rng = random.Random(f"{seed}/records")
        self.values = _Values(platform, persons, organizations)
        self.people = _Picker(random.Random(f"{seed}/people-order"), len(persons))
        self.orgs = _Picker(random.Random(f"{seed}/org-order"), len(organizations))
        self.progress = progress
        self.task = task
        self.earliest = _years_before(today, YEARS_BACK)
        self.summary = DemoSummary(len(persons), len(organizations), 0, 0, 0, 0, 0, 0, 0.0, ())
        self.generate_seconds = 0.0
        self.ingest_seconds = 0.0

    # -- generation ---------------------------------------------------------------------------

    def window(self, item: CatalogItem) -> tuple[dt.date, dt.date] | None:
        start = max(self.earliest, item.versions[0].effective_from)
        if start > self.today:
            return None
        if not any(v.effective_from <= self.today and (v.effective_to is None or v.effective_to >= start)
                   for v in item.versions):
            return None
        return start, self.today

    def draw_day(self, item: CatalogItem, start: dt.date, end: dt.date) -> tuple[dt.date, ItemVersion] | None:
        span = (end - start).days
        for _ in range(12):
            # Slightly more recent records than old ones, as collection grows year by year.
            day = end - dt.timedelta(days=int(span * self.rng.random() ** 1.15))
            version = item.version_on(day)
            if version is not None and version.departments:
                return day, version
        return None

    def make_row(self, item: CatalogItem, item_no: int, counters: dict[str, int]) -> tuple[str, _Row] | None:
        window = self.window(item)
        if window is None:
            return None
        drawn = self.draw_day(item, *window)
        if drawn is None:
            return None
        day, version = drawn
        rng = self.rng
        kinds = [k for k in (SubjectKind.ORGANIZATION, SubjectKind.PERSON) if k in version.subject_kinds]
        if not kinds or (SubjectKind.PERSON in kinds and not self.persons) or (
                SubjectKind.ORGANIZATION in kinds and not self.organizations):
            kinds = [k for k in kinds if (self.persons if k is SubjectKind.PERSON else self.organizations)]
            if not kinds:
                return None
        department = rng.choice(sorted(version.departments))
        serial = counters[department] = counters.get(department, 0) + 1
        source_id = f"CZ-{department.upper()[:24]}-{item_no:03d}-{day.year}-{serial:06d}"
        kind = kinds[0] if len(kinds) == 1 else rng.choice(kinds)
        values: dict[str, object] = {"source_id": source_id, "decision_date": day.isoformat()}
        if kind is SubjectKind.PERSON:
            person = self.persons[self.people.pick()]
            values["ric"], values["subject_name"] = person.ric, person.name
        else:
            org = self.organizations[self.orgs.pick()]
            values["uscc"], values["subject_name"] = org.uscc, org.name
        if version.category is Category.NEGATIVE and version.severities:
            severities = version.severities
            values["severity"] = rng.choices(severities, [_SEVERITY_WEIGHTS[s] for s in severities])[0].value
        ctx = _RowContext(rng, day, department, version, str(values["subject_name"]), serial)
        self.fill_fields(values, version, ctx)
        return department, _Row(values, department, day.year, True)

    def fill_fields(self, values: dict[str, object], version: ItemVersion, ctx: _RowContext,
                    only: FieldSpec | None = None) -> None:
        for spec in version.fields if only is None else (only,):
            if only is None and not spec.required and ctx.rng.random() < 0.15:
                continue
            value = self.values.generator(version, spec)(ctx)
            if value is not None:
                values[spec.code] = value
            else:
                values.pop(spec.code, None)

    def spoil(self, row: _Row, item: CatalogItem) -> None:
        """Make a row invalid the way real submissions are: bad check digit, missing required
        value, unreadable date, unknown option."""
        values = row.values
        row.good = False
        version = item.version_on(dt.date.fromisoformat(str(values["decision_date"])))
        assert version is not None
        required = [s.code for s in version.fields if s.required]
        enums = [s for s in version.fields if s.type is FieldType.ENUM]
        choice = self.rng.choice(("check_digit", "missing", "date", "enum"))
        if choice == "missing" and not required:
            choice = "check_digit"
        if choice == "enum" and not enums:
            choice = "date"
        if choice == "check_digit":
            column = "ric" if "ric" in values else "uscc"
            code = str(values[column])
            last = code[-1]
            alphabet = "0123456789X" if column == "ric" else USCC_CHARSET
            values[column] = code[:-1] + next(c for c in self.rng.sample(alphabet, len(alphabet)) if c != last)
        elif choice == "missing":
            values[self.rng.choice(required)] = ""
        elif choice == "date":
            year = str(values["decision_date"])[:4]
            values["decision_date"] = self.rng.choice((f"{year}-02-30", f"{year}年13月5日", f"{year}/00/12", "2023.9.31"))
        else:
            values[self.rng.choice(enums).code] = self.rng.choice(("其他", "不详", "待定"))

    def corrected(self, row: _Row, item: CatalogItem) -> dict[str, object] | None:
        """The same source record with changed content (a correction), or None if none is possible."""
        values = dict(row.values)
        day = dt.date.fromisoformat(str(values["decision_date"]))
        version = item.version_on(day)
        assert version is not None
        ctx = _RowContext(self.rng, day, row.department, version, str(values["subject_name"]),
                          self.rng.randrange(1, 9000))
        candidates = [s for s in version.fields if not (s.type is FieldType.ENUM and len(s.options) < 2)]
        self.rng.shuffle(candidates)
        for spec in candidates:
            for _ in range(5):
                self.fill_fields(values, version, ctx, only=spec)
                if values.get(spec.code) != row.values.get(spec.code) and values.get(spec.code) is not None:
                    return values
        if version.category is Category.NEGATIVE and len(version.severities) > 1:
            others = [s.value for s in version.severities if s.value != values.get("severity")]
            values["severity"] = self.rng.choice(others)
            return values
        for shift in (1, 2, 3, 7):
            earlier = day - dt.timedelta(days=shift)
            if earlier >= self.earliest and item.version_on(earlier) is version:
                values["decision_date"] = earlier.isoformat()
                return values
        return None

    # -- submission ---------------------------------------------------------------------------

    def submit(self, department: str, item_code: str, rows: list[dict[str, object]]) -> None:
        if not rows:
            return
        started = time.perf_counter()

        def advance(n: int) -> None:
            if self.progress is not None and self.task is not None:
                self.progress.advance(self.task, n)

        receipt: Receipt = ingest(
            self.platform.db,
            (ApiRow(row_no=i, values=values) for i, values in enumerate(rows, start=1)),
            catalog=self.platform.catalog,
            keyring=self.platform.keyring,
            department=department,
            item_code=item_code,
            actor=SYSTEM,
            channel=CHANNEL,
            today=self.today,
            chunk_rows=self.platform.settings.ingest_chunk_rows,
            progress=advance,
        )
        s = self.summary
        s.records_submitted += receipt.received
        s.accepted += receipt.accepted
        s.rejected += receipt.rejected
        s.corrected += receipt.corrected
        s.unchanged += receipt.unchanged
        s.batches += 1
        self.ingest_seconds += time.perf_counter() - started

    def run_item(self, item: CatalogItem, item_no: int, count: int) -> None:
        started = time.perf_counter()
        counters: dict[str, int] = {}
        groups: dict[str, list[_Row]] = {}
        for _ in range(count):
            made = self.make_row(item, item_no, counters)
            if made is None:
                continue
            department, row = made
            if self.rng.random() < BAD_ROW_RATE:
                self.spoil(row, item)
            groups.setdefault(department, []).append(row)
        resubmissions: dict[str, list[dict[str, object]]] = {}
        for department, rows in groups.items():
            again: list[dict[str, object]] = []
            for row in rows:
                if not row.good:
                    continue
                roll = self.rng.random()
                if roll < CORRECTION_RATE:
                    changed = self.corrected(row, item)
                    if changed is not None:
                        again.append(changed)
                elif roll < CORRECTION_RATE + UNCHANGED_RATE:
                    again.append(dict(row.values))
            resubmissions[department] = again
        self.generate_seconds += time.perf_counter() - started
        for department in sorted(groups):
            for batch in _batches(groups[department]):
                self.submit(department, item.code, batch)
            for batch in _chunks(resubmissions[department], MAX_BATCH_ROWS):
                self.submit(department, item.code, batch)


def _batches(rows: list[_Row]) -> Iterator[list[dict[str, object]]]:
    """One department's rows of one item as its yearly submissions (each at most MAX_BATCH_ROWS)."""
    by_year: dict[int, list[dict[str, object]]] = {}
    for row in rows:
        by_year.setdefault(row.year, []).append(row.values)
    for year in sorted(by_year):
        yield from _chunks(by_year[year], MAX_BATCH_ROWS)


def _chunks(rows: list[dict[str, object]], size: int) -> Iterator[list[dict[str, object]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# ---------------------------------------------------------------------------------------------
# Staff accounts
# ---------------------------------------------------------------------------------------------


def demo_usernames(platform: Platform) -> list[str]:
    """admin, office and one clerk per department that is a source of some catalog item."""
    departments = sorted({d for item in platform.catalog.items.values() for v in item.versions for d in v.departments})
    return ["admin", "office", *(f"clerk_{d}" for d in departments)]


def _ensure_users(platform: Platform) -> tuple[str, ...]:
    password = os.environ.get(DEMO_PASSWORD_ENV) or DEFAULT_DEMO_PASSWORD
    wanted = demo_usernames(platform)
    departments = platform.catalog.departments
    with platform.db.write() as session:
        existing = set(session.execute(select(StaffUser.username).where(StaffUser.username.in_(wanted))).scalars())
        for username in wanted:
            if username in existing:
                continue
            if username == "admin":
                role, department, display = Role.ADMIN, None, "系统管理员"
            elif username == "office":
                role = Role.CREDIT_OFFICE
                department = "credit_office" if "credit_office" in departments else None
                display = "市信用办工作人员"
            else:
                role, department = Role.CLERK, username.removeprefix("clerk_")
                dept = departments.get(department)
                display = f"{dept.short_zh or dept.name_zh}经办人" if dept else username
            create_user(session, username=username, password=password, role=role, display_name=display,
                        department_code=department, actor=SYSTEM)
    return tuple(wanted)


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def database_is_empty(platform: Platform) -> bool:
    """True when the database holds no subjects and no records (the demo may be loaded)."""
    with platform.db.read() as session:
        has_subject = session.execute(select(Subject.id).limit(1)).first() is not None
        has_record = session.execute(select(Record.id).limit(1)).first() is not None
    return not (has_subject or has_record)


def load_demo(
    platform: Platform,
    *,
    progress: Progress | None = None,
    persons: int | None = None,
    organizations: int | None = None,
    records: int | None = None,
    today: dt.date | None = None,
) -> DemoSummary:
    """Load the demo data set through the normal ingest path; reproducible from ``demo_seed``.

    Loading again with the same seed adds no records: every row is a resubmission (unchanged,
    or a correction flipping back and forth), and the bad rows are rejected again.
    """
    started = time.perf_counter()
    settings = platform.settings
    seed = settings.demo_seed
    n_persons = settings.demo_persons if persons is None else persons
    n_orgs = settings.demo_organizations if organizations is None else organizations
    n_records = settings.demo_records if records is None else records
    day = today or dt.date.today()
    phases: dict[str, float] = {}

    mark = time.perf_counter()
    users = _ensure_users(platform)
    phases["users"] = time.perf_counter() - mark

    mark = time.perf_counter()
    subjects_task = progress.add_task("生成主体", total=n_persons + n_orgs) if progress is not None else None
    people = generate_persons(seed, n_persons)
    if progress is not None and subjects_task is not None:
        progress.advance(subjects_task, n_persons)
    orgs = generate_organizations(seed, n_orgs)
    if progress is not None and subjects_task is not None:
        progress.advance(subjects_task, n_orgs)
    phases["subjects"] = time.perf_counter() - mark

    items = [item for _, item in sorted(platform.catalog.items.items())]
    records_task = progress.add_task("归集记录", total=n_records) if progress is not None else None
    loader = _Loader(platform, people, orgs, seed=seed, today=day, progress=progress, task=records_task)
    usable = [item for item in items if loader.window(item) is not None]
    weights = [_item_weight(item) for item in usable]
    counts = _allocate(n_records, weights, minimum=5)
    for number, (item, count) in enumerate(zip(usable, counts, strict=True), start=1):
        if count:
            loader.run_item(item, number, count)
    if progress is not None and records_task is not None:
        # Resubmissions add rows beyond the planned total; skipped rows leave it short.
        progress.update(records_task, total=loader.summary.records_submitted,
                        completed=loader.summary.records_submitted)
    phases["generate_records"] = loader.generate_seconds
    phases["ingest"] = loader.ingest_seconds

    summary = loader.summary
    summary.users = users
    summary.seconds = time.perf_counter() - started
    summary.phase_seconds = {name: round(value, 3) for name, value in phases.items()}
    return summary
