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
import hashlib
import importlib
import itertools
import math
import os
import random
import re
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from faker import Faker
from rich.progress import Progress, TaskID
from sqlalchemy import select

from chengxin.accounts.models import StaffUser
from chengxin.accounts.rules import password_problem
from chengxin.accounts.service import Role
from chengxin.accounts.sign_in import password_hasher
from chengxin.catalog.model import CatalogItem, Category, FieldSpec, FieldType, ItemVersion, Severity, SubjectKind
from chengxin.core import audit
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
    "CHANGZHOU_DISTRICTS",
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
BASIC_SECTION = "基本信息"  # items of this report section have at most one record per subject (while subjects last)
YEARLY_MIN_ROWS = 1_000  # a department with fewer rows of an item submits them in one batch
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
    ("3", "1", 0.01, "律师执业机构"),
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


def _place(region: str) -> str:
    """常州市天宁区 …, but 溧阳市 (a county-level city) on its own; 常州市 for the city level."""
    district = CHANGZHOU_DISTRICTS.get(region, "")
    return district if district.endswith("市") else f"常州市{district}"


def _brand(fake: Faker) -> str:
    """A trade name (字号) from Faker's company prefixes, without a legal form inside it."""
    while True:
        brand = str(fake.company_prefix())
        if "公司" not in brand:
            return brand


def _org_name(fake: Faker, rng: random.Random, authority: str, category: str, region: str) -> str:
    district = CHANGZHOU_DISTRICTS.get(region, "")
    place = _place(region)
    brand = _brand(fake)
    if authority == "9" and category == "1":
        roll = rng.random()
        suffix = "股份有限公司" if rng.random() < 0.12 else "有限公司"
        if roll < 0.55:
            return f"常州{brand}{rng.choice(_INDUSTRIES)}{suffix}"
        if roll < 0.8 and district:
            return f"{place}{brand}{rng.choice(_INDUSTRIES)}{suffix}"
        if roll < 0.92:
            return f"江苏{brand}{rng.choice(_INDUSTRIES)}集团有限公司"
        return f"常州{brand}{fake.company_suffix()}"
    if authority == "9" and category == "2":
        owner = str(fake.last_name()) + rng.choice(("记", "氏", "家", "")) if rng.random() < 0.6 else brand
        return f"{district or '天宁区'}{owner}{rng.choice(_SHOPS)}"
    if authority == "9" and category == "3":
        town = rng.choice(_TOWNS.get(region, ("",)))
        return f"{district}{town}{brand}{rng.choice(_COOP_PRODUCTS)}专业合作社"
    if authority == "5" and category == "1":
        kind = rng.choice(("协会", "商会", "学会", "联合会"))
        return f"{place if rng.random() < 0.3 else '常州市'}{rng.choice(_ASSOCIATIONS)}{kind}"
    if authority == "5" and category == "2":
        return f"{place}{brand}{rng.choice(_NONPROFITS)}"
    if authority == "3":
        return f"江苏{brand}律师事务所" if rng.random() < 0.7 else f"江苏{brand}（常州）律师事务所"
    institution = rng.choice(_PUBLIC_INSTITUTIONS)
    if institution.endswith("医院") and rng.random() < 0.5:
        return f"常州市第{rng.choice(_NUMERALS)}人民医院"
    return f"{place}{institution}"


def _org_code_body(rng: random.Random, authority: str) -> str:
    letters = USCC_CHARSET
    if authority == "9" and rng.random() < 0.7:
        # Codes issued after 2015 start with MA (市场监管 new-registration range).
        return "MA" + rng.choice("1234") + "".join(rng.choice(letters) for _ in range(5))
    lead = {"9": "7", "5": "5", "1": "4", "3": "3"}.get(authority, "0")
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
# Vocabulary for field values
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
_COURTS = (
    ("常州市中级人民法院", "苏04"), ("常州市天宁区人民法院", "苏0402"), ("常州市钟楼区人民法院", "苏0404"),
    ("常州市新北区人民法院", "苏0411"), ("常州市武进区人民法院", "苏0412"), ("常州市金坛区人民法院", "苏0413"),
    ("溧阳市人民法院", "苏0481"), ("常州经济开发区人民法院", "苏0491"),
)
_CASE_KINDS = ("民初", "民初", "民初", "执", "执", "民终", "刑初", "行初", "执恢")
_CAUSES = (
    "买卖合同纠纷", "民间借贷纠纷", "劳动争议", "机动车交通事故责任纠纷", "房屋租赁合同纠纷", "金融借款合同纠纷",
    "建设工程施工合同纠纷", "服务合同纠纷", "物业服务合同纠纷", "追索劳动报酬纠纷", "信用卡纠纷", "承揽合同纠纷",
)
_COURT_RESULTS = (
    "判决被告于本判决生效之日起十日内支付原告货款人民币{amount}元及逾期付款利息",
    "判决被告于本判决生效之日起十日内偿还原告借款本金人民币{amount}元",
    "驳回原告的诉讼请求",
    "双方当事人自愿达成调解协议，被告分期支付原告人民币{amount}元",
    "准许原告撤回起诉",
    "驳回上诉，维持原判",
)
_OBLIGATIONS = (
    "支付货款人民币{amount}元及逾期付款利息", "偿还借款本金人民币{amount}元及利息", "支付劳动报酬人民币{amount}元",
    "支付工程款人民币{amount}元", "赔偿损失人民币{amount}元", "支付租金人民币{amount}元及违约金",
)

# Facts of a negative record: by what the item is about (its code), else by the source department.
_ITEM_FACTS: dict[str, tuple[str, ...]] = {
    "tax": ("未按照规定期限办理纳税申报和报送纳税资料", "虚开增值税专用发票", "采取隐匿收入方式逃避缴纳税款",
            "未按规定开具发票", "欠缴税款经责令限期缴纳逾期仍未缴纳"),
    "food_drug": ("经营超过保质期的食品", "生产经营不符合食品安全标准的食品", "未取得食品经营许可从事食品经营活动",
                  "销售劣药", "未按规定进行进货查验并保存相关凭证", "经营标签不符合规定的预包装食品"),
    "work_safety": ("未按规定对从业人员进行安全生产教育和培训", "未及时发现并消除生产安全事故隐患",
                    "特种作业人员未按规定取得相应资格上岗作业", "未按规定设置明显的安全警示标志"),
    "wage": ("拖欠农民工工资，经责令限期支付逾期未支付", "以转移财产、逃匿等方式逃避支付农民工工资"),
    "social_insurance": ("未按时足额缴纳社会保险费，经责令限期缴纳逾期仍未缴纳",),
    "housing_fund": ("未按规定为职工足额缴存住房公积金",),
    "debtor": ("有履行能力而拒不履行生效法律文书确定的义务", "违反限制消费令", "以伪造证据等方法妨碍执行"),
    "exam": ("在考试过程中携带并使用通讯设备", "由他人代替参加考试", "抄袭他人答案", "伪造报名资格证明材料"),
    "academic": ("发表论文存在大段抄袭他人成果的情形", "伪造、篡改科研数据", "由他人代写论文并署名发表"),
    "counterfeit": ("销售假冒注册商标的商品", "销售不合格产品", "伪造产地", "冒用认证标志"),
    "fake_traffic": ("通过技术手段虚构商品浏览量和点击量", "组织虚假关注以提高店铺排名"),
    "malicious_review": ("以给予差评相威胁索取额外利益", "组织人员对竞争对手店铺发布恶意差评"),
    "not_as_described": ("实际交付商品的材质与页面描述不符", "商品实物规格小于页面标示", "商品颜色、款式与展示图片明显不符"),
    "order_brushing": ("组织虚假交易提高店铺销量和信誉", "通过刷单方式虚构交易和好评"),
    "price_fraud": ("虚构原价进行降价促销", "以低价招揽顾客后以高价结算", "收取未予标明的费用"),
    "logistics": ("以空包裹方式虚构物流信息", "未按规定验视快件", "泄露用户个人信息", "快件延误丢失且未妥善处理"),
    "commitment_breach": ("未按承诺期限补齐申报材料", "承诺内容与实际情况不符", "违反信用修复承诺再次发生同类失信行为"),
    "abnormal": ("未按规定期限公示年度报告", "通过登记的住所或经营场所无法联系", "公示企业信息隐瞒真实情况、弄虚作假"),
    "utility": ("逾期未缴纳水费，经催缴仍未缴纳", "逾期未缴纳电费，经催缴仍未缴纳", "逾期未缴纳燃气费，经催缴仍未缴纳"),
    "student_loan": ("国家助学贷款逾期未还款", "毕业后未按合同约定偿还助学贷款本息"),
}
_DEPARTMENT_FACTS: dict[str, tuple[str, ...]] = {
    "samr": ("经营超过保质期的食品", "发布虚假广告", "未按规定明码标价", "销售不合格产品", "未按规定公示年度报告",
             "擅自使用与他人有一定影响的商品名称相同的标识"),
    "tax": ("未按照规定期限办理纳税申报和报送纳税资料", "未按规定开具发票", "丢失发票未按规定报告"),
    "ecology": ("超过大气污染物排放标准排放大气污染物", "未依法进行环境影响评价擅自开工建设",
                "未按规定设置危险废物识别标志", "通过暗管逃避监管排放水污染物"),
    "emergency": ("未按规定对从业人员进行安全生产教育和培训", "未及时消除生产安全事故隐患"),
    "fire": ("占用、堵塞、封闭疏散通道和安全出口", "消防设施、器材未保持完好有效"),
    "transport": ("超限超载运输", "未取得道路运输经营许可擅自从事道路运输经营", "驾驶员未按规定取得从业资格"),
    "health": ("未取得医疗机构执业许可证擅自执业", "公共场所从业人员未取得有效健康合格证明"),
    "culture_tourism": ("旅行社未与旅游者签订旅游合同", "互联网上网服务营业场所接纳未成年人"),
    "hrss": ("未按规定支付劳动者工资", "违反规定延长劳动者工作时间"),
    "medical_security": ("违规使用医保基金", "串换药品、医用耗材进行医保结算"),
    "housing": ("未取得施工许可证擅自施工", "违反工程建设强制性标准", "无资质承揽工程"),
    "police": ("违反治安管理规定", "未按规定登记住宿旅客信息"),
    "post": ("未按规定验视快件", "收寄禁止寄递物品"),
    "commerce": ("预付卡发卡企业未按规定备案", "未按规定落实单用途预付卡资金存管"),
    "natural_resources": ("非法占用土地建设", "未经批准擅自改变土地用途"),
    "edu": ("未经批准擅自举办校外培训机构",),
    "civil": ("社会组织未按规定参加年度检查", "违规开展评比表彰活动"),
    "justice": ("律师私自接受委托收取费用",),
    "finance": ("未依法设置会计账簿",),
    "cac": ("未落实网络安全等级保护制度", "未按规定留存网络日志"),
}
_GENERIC_FACTS = ("未取得许可擅自从事经营活动", "提供虚假材料骗取登记", "销售不合格产品", "拒不执行行政处罚决定",
                  "伪造、变造有关证明材料")
_LAWS: dict[str, tuple[str, ...]] = {
    "samr": ("《中华人民共和国食品安全法》", "《中华人民共和国广告法》", "《中华人民共和国产品质量法》",
             "《中华人民共和国价格法》", "《中华人民共和国反不正当竞争法》"),
    "tax": ("《中华人民共和国税收征收管理法》", "《中华人民共和国发票管理办法》"),
    "ecology": ("《中华人民共和国大气污染防治法》", "《中华人民共和国水污染防治法》",
                "《中华人民共和国固体废物污染环境防治法》"),
    "emergency": ("《中华人民共和国安全生产法》",),
    "fire": ("《中华人民共和国消防法》",),
    "transport": ("《中华人民共和国道路运输条例》", "《公路安全保护条例》"),
    "health": ("《医疗机构管理条例》", "《公共场所卫生管理条例》"),
    "culture_tourism": ("《中华人民共和国旅游法》", "《互联网上网服务营业场所管理条例》"),
    "hrss": ("《保障农民工工资支付条例》", "《劳动保障监察条例》"),
    "medical_security": ("《医疗保障基金使用监督管理条例》",),
    "housing": ("《建设工程质量管理条例》", "《中华人民共和国建筑法》"),
    "police": ("《中华人民共和国治安管理处罚法》",),
    "post": ("《快递暂行条例》", "《中华人民共和国邮政法》"),
    "commerce": ("《单用途商业预付卡管理办法（试行）》",),
    "natural_resources": ("《中华人民共和国土地管理法》",),
    "edu": ("《中华人民共和国民办教育促进法》",),
    "civil": ("《社会团体登记管理条例》",),
    "justice": ("《中华人民共和国律师法》",),
    "finance": ("《中华人民共和国会计法》",),
    "cac": ("《中华人民共和国网络安全法》",),
    "court": ("《中华人民共和国民事诉讼法》", "《最高人民法院关于公布失信被执行人名单信息的若干规定》"),
}
_ITEM_LAWS: dict[str, tuple[str, ...]] = {
    "tax": ("《中华人民共和国税收征收管理法》",),
    "food_drug": ("《中华人民共和国食品安全法》", "《中华人民共和国药品管理法》"),
    "work_safety": ("《中华人民共和国安全生产法》",),
    "wage": ("《保障农民工工资支付条例》",),
    "exam": ("《国家教育考试违规处理办法》",),
    "academic": ("《高等学校预防与处理学术不端行为办法》",),
    "counterfeit": ("《中华人民共和国商标法》", "《中华人民共和国产品质量法》"),
    "fake_traffic": ("《中华人民共和国反不正当竞争法》", "《中华人民共和国电子商务法》"),
    "malicious_review": ("《中华人民共和国电子商务法》",),
    "not_as_described": ("《中华人民共和国消费者权益保护法》", "《中华人民共和国电子商务法》"),
    "order_brushing": ("《中华人民共和国反不正当竞争法》", "《中华人民共和国电子商务法》"),
    "price_fraud": ("《中华人民共和国价格法》", "《明码标价和禁止价格欺诈规定》"),
    "logistics": ("《快递暂行条例》", "《中华人民共和国邮政法》"),
    "commitment": ("《江苏省社会信用条例》",),
    "abnormal": ("《企业信息公示暂行条例》", "《中华人民共和国市场主体登记管理条例》"),
}
_GENERIC_LAWS = ("《中华人民共和国行政处罚法》", "《江苏省社会信用条例》")
_POSITIVE_FACTS = (
    "在社区志愿服务中表现突出", "见义勇为，事迹突出", "诚信经营，获得消费者广泛好评", "连续多年无偿献血",
    "积极参与慈善捐赠", "在抗洪抢险中表现突出", "热心公益，长期资助困难学生", "恪守职业道德，服务群众成绩显著",
)
_HONOURS = (  # (name, honour_level option)
    ("常州市优秀志愿者", "municipal"), ("常州市诚信经营示范单位", "municipal"), ("江苏省守合同重信用企业", "provincial"),
    ("常州市文明家庭", "municipal"), ("常州好人", "municipal"), ("全国无偿献血奉献奖", "national"),
    ("常州市五一劳动奖章", "municipal"), ("常州市见义勇为先进个人", "municipal"), ("江苏省文明单位", "provincial"),
    ("常州市劳动模范", "municipal"), ("常州市三八红旗手", "municipal"), ("天宁区优秀志愿者", "district"),
    ("武进区文明家庭", "district"), ("新北区诚信示范商户", "district"), ("全国文明家庭", "national"),
)
_VOLUNTEER_PROJECTS = (
    "“龙城义工”社区服务", "关爱留守儿童", "文明交通劝导", "敬老院助老服务", "垃圾分类宣传", "大运河清洁行动",
    "图书馆志愿服务", "常州西太湖半程马拉松赛事服务", "疫情防控志愿服务", "红十字应急救护培训", "爱心助考",
)
_VOLUNTEER_ORGS = (
    "常州市青年志愿者协会", "龙城义工联合会", "常州市红十字志愿服务队", "常州市巾帼志愿者协会",
    "天宁区茶山街道志愿服务站", "武进区湖塘镇新时代文明实践站", "新北区薛家镇志愿服务队", "钟楼区五星街道志愿者服务队",
)
_VOLUNTEER_PLATFORMS = ("志愿江苏", "全国志愿服务信息系统", "常州文明实践云平台")
_DONEES = ("常州市慈善总会", "常州市红十字会", "常州市青少年发展基金会", "武进区慈善总会", "溧阳市慈善总会",
           "常州市教育发展基金会")
_DONATION_PROJECTS = ("慈善一日捐", "助学帮困", "抗洪救灾", "关爱困难职工", "乡村振兴", "大病救助", "爱心助老")
_DONATION_PURPOSES = ("用于资助困难家庭学生", "用于救灾物资采购", "用于困难群众帮扶", "用于社区养老服务")
_LICENCES: dict[str, tuple[tuple[str, str], ...]] = {  # department → (licence, what it allows)
    "samr": (("食品经营许可证", "准予从事食品经营（预包装食品销售、散装食品销售）"),
             ("药品经营许可证", "准予从事药品零售"), ("特种设备使用登记证", "准予特种设备投入使用")),
    "transport": (("道路运输经营许可证", "准予从事普通货物道路运输经营"),),
    "ecology": (("排污许可证", "准予按许可要求排放污染物"),),
    "housing": (("建筑工程施工许可证", "准予建设工程施工"), ("商品房预售许可证", "准予商品房预售")),
    "health": (("医疗机构执业许可证", "准予医疗机构执业登记"), ("公共场所卫生许可证", "准予从事公共场所经营")),
    "emergency": (("危险化学品经营许可证", "准予从事危险化学品经营（不带储存设施）"),),
    "culture_tourism": (("娱乐经营许可证", "准予从事歌舞娱乐场所经营"), ("出版物经营许可证", "准予从事出版物零售")),
    "hrss": (("人力资源服务许可证", "准予从事职业中介、人力资源供求信息收集和发布"),),
    "fire": (("公众聚集场所投入使用、营业前消防安全检查合格证", "准予公众聚集场所投入使用、营业"),),
    "edu": (("民办学校办学许可证", "准予举办民办培训学校"),),
    "police": (("特种行业许可证", "准予从事旅馆业经营"),),
    "post": (("快递业务经营许可证", "准予在常州市范围内经营快递业务"),),
    "natural_resources": (("建设用地规划许可证", "准予建设用地规划"),),
    "medical_security": (("医疗保障定点医药机构服务协议", "准予纳入医保定点管理"),),
}
_LICENCE_NAMES = (
    "食品经营许可证", "道路运输经营许可证", "排污许可证", "建筑工程施工许可证", "医疗机构执业许可证",
    "危险化学品经营许可证", "出版物经营许可证", "娱乐经营许可证", "药品经营许可证", "人力资源服务许可证",
    "消防安全检查合格证", "城镇污水排入排水管网许可证",
)
_LICENCE_CONTENTS = (
    "准予从事食品经营（预包装食品销售、散装食品销售）", "准予从事普通货物道路运输经营", "准予按许可要求排放污染物",
    "准予建设工程施工", "准予医疗机构执业登记", "准予从事危险化学品经营（不带储存设施）", "准予从事出版物零售",
    "准予从事人力资源服务", "准予公众聚集场所投入使用、营业",
)
_COMMITMENT_MATTERS = (
    "食品经营许可告知承诺", "企业登记告知承诺", "信用修复承诺", "证明事项告知承诺", "行业自律承诺",
    "公共资源交易信用承诺", "财政资金申报信用承诺",
)
_COMMITMENT_CONTENTS = (
    "本单位承诺所提交的材料真实、合法、有效，如有虚假，愿意承担相应的法律责任，并接受信用惩戒。",
    "本人承诺严格遵守相关法律法规，依法诚信经营，自愿接受社会监督。",
    "本单位承诺在规定期限内补齐相关材料，逾期未补齐的，同意撤销相关许可。",
    "本单位承诺已纠正失信行为并消除不良影响，自愿接受信用修复后的监督检查。",
)
_MEASURES = ("约谈并责令限期整改", "列入重点关注名单", "取消告知承诺资格", "撤销相关许可", "依法予以行政处罚")
_EVALUATION_SYSTEMS = {
    "housing": "常州市建筑市场信用评价管理办法", "ecology": "江苏省企业环境信用评价办法",
    "culture_tourism": "常州市旅行社信用评价办法", "medical_security": "医疗保障定点医药机构信用评价办法",
    "transport": "江苏省交通运输企业信用评价办法", "samr": "常州市市场主体信用风险分类管理办法",
    "fund": "住房公积金缴存单位信用评价办法", "health": "常州市医疗机构信用评价办法",
    "emergency": "安全生产诚信评价办法", "hrss": "劳动保障守法诚信等级评价办法", "post": "快递企业信用评价办法",
    "commerce": "商贸流通企业信用评价办法",
}
_GRADES = ("AAA", "AA", "A", "B", "C")
_EXAMS = (
    "全国硕士研究生招生考试", "普通高等学校招生全国统一考试", "全国大学英语四、六级考试", "全国会计专业技术资格考试",
    "国家医师资格考试", "国家统一法律职业资格考试", "江苏省公务员录用考试", "全国一级建造师执业资格考试",
    "高等教育自学考试", "全国计算机等级考试",
)
_EXAM_HANDLING = ("取消本次考试各科目成绩", "取消本次考试全部科目成绩，并停考一年", "取消当年考试成绩，停考三年",
                  "该科目考试成绩无效")
_ACADEMIC_HANDLING = ("撤销相关学术奖励，追回奖金", "取消三年内申报科研项目资格", "撤回论文并通报批评",
                      "取消职称评审资格两年")
_WORK_TITLES = ("基于深度学习的工业缺陷检测研究", "长三角城市群协同发展研究", "新型光伏材料制备工艺研究",
                "中小学生课业负担实证研究", "社区居家养老服务模式研究", "大运河文化带建设路径研究")
_PLATFORMS: dict[str, str] = {
    "淘宝": "taobao.com", "天猫": "tmall.com", "京东": "jd.com", "拼多多": "pinduoduo.com", "抖音电商": "douyin.com",
    "快手电商": "kuaishou.com", "美团": "meituan.com", "闲鱼": "goofish.com",
}
_PRODUCTS: dict[str, tuple[str, ...]] = {  # product → brands it is sold under
    "运动鞋": ("耐克", "阿迪达斯", "安踏", "李宁"), "蓝牙耳机": ("华为", "苹果", "小米"),
    "护肤精华液": ("欧莱雅", "雅诗兰黛", "兰蔻"), "羽绒服": ("波司登", "鸭鸭", "雪中飞"),
    "手机充电器": ("华为", "苹果", "小米"), "白酒": ("茅台", "五粮液", "洋河"), "儿童玩具": ("乐高", "奥迪双钻"),
    "奶粉": ("飞鹤", "君乐宝", "伊利"), "洗发水": ("海飞丝", "潘婷", "清扬"), "茶叶礼盒": ("天目湖白茶", "金坛雀舌"),
    "电动自行车电池": ("超威", "天能"),
}
_PRODUCT_NAMES = tuple(_PRODUCTS)
_ALL_BRANDS = tuple(sorted({brand for brands in _PRODUCTS.values() for brand in brands}))
_FOODS = ("散装酱卤肉制品", "桶装饮用水", "鲜牛奶", "速冻水饺", "糕点", "食用植物油", "大米", "感冒灵颗粒", "阿莫西林胶囊",
          "医用外科口罩", "面霜", "维生素C片")
_EXPRESS = ("顺丰速运", "中通快递", "圆通速递", "韵达快递", "申通快递", "京东物流", "极兔速递", "邮政EMS")
_LENDERS = ("国家开发银行江苏省分行", "中国银行常州分行", "江苏银行常州分行", "江南农村商业银行", "中国农业银行常州分行")
_SCHOOLS = ("常州大学", "河海大学常州校区", "常州工学院", "江苏理工学院", "常州信息职业技术学院", "常州市第一中学",
            "江苏省常州高级中学", "江苏省前黄高级中学", "常州市北郊高级中学", "常州市第二中学")
_TAX_TYPES = ("增值税", "企业所得税", "个人所得税", "城市维护建设税", "房产税", "城镇土地使用税", "印花税")
_SUBJECTS_TAUGHT = ("语文", "数学", "英语", "物理", "化学", "生物", "历史", "地理", "道德与法治", "体育", "音乐",
                    "美术", "信息技术")
_CIVIL_RANKS = ("一级科员", "四级主任科员", "三级主任科员", "二级主任科员", "一级主任科员", "四级调研员")
_POSITIONS: dict[str, tuple[str, ...]] = {
    "occ_civil_servant": ("科员", "副科长", "科长", "副处长", "办公室主任"),
    "occ_teacher": ("教师", "班主任", "教研组长", "年级组长", "副校长"),
    "occ_physician": ("住院医师", "主治医师", "科室主任", "副主任"),
    "occ_lawyer": ("专职律师", "合伙人", "主任"),
    "occ_accountant": ("项目经理", "审计经理", "合伙人"),
}
_DEFAULT_POSITIONS = ("职员", "业务经理", "部门负责人", "技术员", "主管")
_TITLES = ("主任医师", "副主任医师", "主治医师", "住院医师")
_PRACTICE_SCOPES = ("内科专业", "外科专业", "妇产科专业", "儿科专业", "口腔专业", "中医专业", "眼耳鼻咽喉科专业")
_QUALIFICATIONS = (
    ("一级建造师", "建筑工程"), ("二级建造师", "市政公用工程"), ("注册安全工程师", "化工安全"),
    ("特种作业操作证", "低压电工作业"), ("道路运输从业资格证", "危险货物运输"), ("建筑业企业资质", "施工总承包"),
    ("安全生产许可证", "建筑施工"), ("医疗器械经营备案", "第二类医疗器械"), ("人力资源服务许可", "职业中介"),
)
_QUALIFICATION_LEVELS = ("一级", "二级", "三级", "甲级", "乙级")
_LANGUAGES = ("普通话", "普通话", "普通话", "英语", "日语", "韩语")
_REMOVAL_REASONS = ("已补报未报年份的年度报告并公示", "已更正公示信息", "通过登记的住所可以重新取得联系")
_BUSINESS_SCOPES = (
    "一般项目：机械零部件加工；五金产品批发；技术服务、技术开发、技术咨询。",
    "许可项目：食品销售；一般项目：日用百货销售；餐饮管理。",
    "许可项目：建设工程施工；一般项目：园林绿化工程施工；建筑材料销售。",
    "一般项目：新材料技术研发；塑料制品制造；货物进出口。",
    "一般项目：普通货物仓储服务；国内货物运输代理；装卸搬运。",
)
_ENTITY_WORDS = ("authority", "conferrer", "acceptor", "evaluator", "issuer", "rater", "机关", "授予", "受理",
                 "评价单位", "认定单位", "处理机关", "发证")
# Employers that fit an occupation (item code → name pattern and USCC authority/category).
_EMPLOYERS: dict[str, tuple[tuple[str, ...], str]] = {
    "occ_accountant": (("江苏{b}会计师事务所有限公司", "常州{b}会计师事务所（普通合伙）"), "91"),
    "occ_appraiser": (("常州{b}资产评估有限公司", "江苏{b}房地产土地估价有限公司"), "91"),
    "occ_fire_engineer": (("常州{b}消防技术服务有限公司", "江苏{b}消防工程有限公司"), "91"),
    "occ_lawyer": (("江苏{b}律师事务所", "江苏{b}（常州）律师事务所"), "31"),
    "occ_pharmacist": (("常州{b}大药房有限公司", "江苏{b}医药连锁有限公司"), "91"),
    "occ_physician": (("常州市第{n}人民医院", "{p}人民医院", "{p}中医医院", "常州市儿童医院", "常州市妇幼保健院"), "12"),
    "occ_public_institution": (("{p}疾病预防控制中心", "{p}图书馆", "{p}公共资源交易中心",
                                "{p}不动产登记中心"), "12"),
    "occ_real_estate_agent": (("常州{b}房地产经纪有限公司", "常州{b}置业顾问有限公司"), "91"),
    "occ_teacher": (("{p}实验小学", "{p}第{n}中学", "{p}{b}幼儿园", "{p}高级中学"), "12"),
    "occ_tour_guide": (("常州{b}国际旅行社有限公司", "常州{b}旅行社有限公司"), "91"),
}
_OPTION_WEIGHTS: dict[str, dict[str, float]] = {
    "accident_level": {"none": 30, "ordinary": 6, "larger": 1, "major": 0.2, "especially_major": 0.05},
    "honour_level": {"national": 0.5, "provincial": 2, "municipal": 6, "district": 5},
    "grade": {"A": 3, "B": 5, "M": 2, "C": 1, "D": 0.5},
    "star_level": {"1": 6, "2": 5, "3": 3, "4": 1.5, "5": 0.7},
    "performance": {"in_progress": 3, "fulfilled": 6, "breached": 0.3, "none": 3, "partial": 1},
    "procedure": {"simple": 1, "ordinary": 3},
    "penalty_type": {"warning": 5, "fine": 12, "confiscation": 2, "criticism": 1.5, "suspend_license": 0.6},
    "donation_kind": {"money": 8, "goods": 2, "service": 1},
    "case_type": {"civil": 8, "enforcement": 4, "criminal": 1, "administrative": 1, "state_compensation": 0.1},
    "party_role": {"plaintiff": 3, "defendant": 5, "appellant": 1, "appellee": 1, "applicant": 1},
    "listing_reason": {"annual_report": 8, "unreachable": 4, "instant_info": 1, "false_info": 0.5},
}
_STATUS_CODES = frozenset({"status", "register_status", "registration_status"})
_ORG_TYPES = {"91": "enterprise", "92": "individual_business", "93": "farmer_cooperative", "51": "social_organization",
              "52": "social_organization", "12": "public_institution", "31": "law_firm"}
_UTILITIES = {"water": "water", "power": "electricity", "gas": "gas"}
_DEPARTMENT_WEIGHTS = {
    "samr": 10.0, "tax": 4.0, "ecology": 3.0, "emergency": 3.0, "transport": 3.0, "housing": 2.5, "health": 2.0,
    "culture_tourism": 2.0, "fire": 2.0, "police": 2.0, "hrss": 2.0, "civil": 2.0, "youth_league": 3.0,
}
_CN_DIGITS = "零一二三四五六七八九"


def _cn_number(n: int) -> str:
    """1 → 一, 24 → 二十四, 124 → 一百二十四 (for article numbers)."""
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _CN_DIGITS[n // 10] + "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    rest = n % 100
    tail = "" if rest == 0 else ("零" + _CN_DIGITS[rest] if rest < 10 else
                                 ("一" + _cn_number(rest) if rest < 20 else _cn_number(rest)))
    return _CN_DIGITS[n // 100] + "百" + tail


def _tokens(spec: FieldSpec) -> tuple[frozenset[str], str]:
    return (frozenset(re.split(r"[_\W]+", spec.code.lower())),
            f"{spec.code.lower()} {spec.label_zh} {spec.label_en.lower()}")


def _has(tokens: frozenset[str], text: str, words: Sequence[str]) -> bool:
    """Short ASCII hints must be whole code tokens; longer or Chinese hints may be substrings."""
    for word in words:
        if word.isascii() and len(word) <= 3:
            if word in tokens:
                return True
        elif word in text:
            return True
    return False


def _stable(text: str) -> int:
    return zlib.crc32(text.encode())


def _pseudo_uscc(name: str, pair: str) -> str:
    """A valid, stable USCC for an organisation that only appears inside records (a department, an employer)."""
    digest = hashlib.sha256(name.encode()).digest()
    body = ("0" if pair[0] == "1" else "MA") + "".join(USCC_CHARSET[b % 31] for b in digest[:8])
    return make_uscc(pair[0], pair[1], "320400", body[:8])


# ---------------------------------------------------------------------------------------------
# Field-value generators
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _RowContext:
    rng: random.Random
    today: dt.date
    day: dt.date
    department: str
    version: ItemVersion
    serial: int
    person: DemoPerson | None
    org: DemoOrganization | None
    values: dict[str, object]
    memo: dict[str, Any] = field(default_factory=dict)  # choices several fields share (the fact, the law)


Gen = Callable[[_RowContext], object]  # a value, or None to leave the field out
PairGen = Callable[[_RowContext], "tuple[str, str] | None"]  # (name, identifier)


@dataclass(frozen=True, slots=True)
class _Step:
    """Fills one field, or a name and its identifier together (an employer and its USCC)."""

    codes: tuple[str, ...]
    required: bool
    run: Callable[[_RowContext], dict[str, object]]


class _Values:
    """Field-value generators for every item version, compiled once per version."""

    def __init__(self, platform: Platform, persons: Sequence[DemoPerson],
                 organizations: Sequence[DemoOrganization], seed: int) -> None:
        self.departments = platform.catalog.departments
        self.persons = persons
        self.organizations = organizations
        self._plans: dict[int, tuple[ItemVersion, tuple[_Step, ...]]] = {}
        self._employers: dict[str, list[tuple[str, str]]] = {}
        self._department_uscc = {
            code: _pseudo_uscc(d.name_zh, "91" if code in _UTILITIES else "51" if code == "charity" else "11")
            for code, d in self.departments.items()
        }
        fake = _faker(seed, "employers")
        brands = [_brand(fake) for _ in range(400)]
        rng = random.Random(f"{seed}/employers")
        for item_code, (patterns, pair) in _EMPLOYERS.items():
            names: dict[str, str] = {}
            for _ in range(60):
                place = _place(rng.choice((*_CHANGZHOU_CODES, "320400")))
                name = rng.choice(patterns).format(b=rng.choice(brands), p=place, n=rng.choice(_NUMERALS))
                names.setdefault(name, _pseudo_uscc(name, pair))
            self._employers[item_code] = list(names.items())
        self._employers["occ_civil_servant"] = [
            (d.name_zh, self._department_uscc[code]) for code, d in sorted(self.departments.items())
            if code not in _UTILITIES and code not in ("charity", "youth_league")
        ]
        self._businesses = [o for o in organizations if o.category in ("91", "92")] or list(organizations)

    def plan(self, version: ItemVersion) -> tuple[_Step, ...]:
        entry = self._plans.get(id(version))
        if entry is None or entry[0] is not version:
            entry = self._plans[id(version)] = (version, self._compile(version))
        return entry[1]

    # -- compiling a version ------------------------------------------------------------------

    def _compile(self, version: ItemVersion) -> tuple[_Step, ...]:
        by_code = {spec.code: spec for spec in version.fields}
        partner_of: dict[str, FieldSpec] = {}  # name field code → its identifier field
        for spec in version.fields:
            for suffix, kind in (("_uscc", FieldType.USCC), ("_ric", FieldType.RIC)):
                if spec.type is kind and spec.code.endswith(suffix):
                    base = spec.code.removesuffix(suffix)
                    for name_code in (base, base + "_name"):
                        other = by_code.get(name_code)
                        if other is not None and other.type in (FieldType.STRING, FieldType.TEXT):
                            partner_of[name_code] = spec
        paired = {spec.code for spec in partner_of.values()}
        steps: list[_Step] = []
        for spec in version.fields:
            if spec.code in paired:
                continue
            ident = partner_of.get(spec.code)
            if ident is not None:
                steps.append(self._pair_step(version, spec, ident))
            else:
                steps.append(self._single_step(version, spec))
        return tuple(steps)

    def _single_step(self, version: ItemVersion, spec: FieldSpec) -> _Step:
        gen = self._field(version, spec)
        code = spec.code

        def run(ctx: _RowContext) -> dict[str, object]:
            value = gen(ctx)
            return {} if value is None else {code: value}

        return _Step((code,), spec.required, run)

    def _pair_step(self, version: ItemVersion, name: FieldSpec, ident: FieldSpec) -> _Step:
        pair = self._pair(version, name, ident)
        name_code, ident_code = name.code, ident.code
        max_length = name.max_length or 0
        ident_required = ident.required

        def run(ctx: _RowContext) -> dict[str, object]:
            found = pair(ctx)
            if found is None:
                return {}
            text, identifier = found
            out: dict[str, object] = {name_code: text[:max_length] if max_length else text}
            if ident_required or ctx.rng.random() < 0.75:
                out[ident_code] = identifier
            return out

        return _Step((name_code, ident_code), name.required or ident.required, run)

    def _pair(self, version: ItemVersion, name: FieldSpec, ident: FieldSpec) -> PairGen:
        tokens, text = _tokens(name)
        persons, orgs = self.persons, self.organizations
        if ident.type is FieldType.RIC:
            required = name.required or ident.required

            def person(ctx: _RowContext) -> tuple[str, str] | None:
                if not persons or (ctx.org is None and not required):
                    return None  # a person's own record names no legal representative
                if ctx.org is not None:  # the same people stand behind an organisation every time
                    chosen = persons[_stable(ctx.org.uscc + name.code) % len(persons)]
                else:
                    chosen = ctx.rng.choice(persons)
                return chosen.name, chosen.ric

            return person
        if _has(tokens, text, _ENTITY_WORDS):
            return lambda ctx: (self.department_name(ctx.department), self._department_uscc.get(
                ctx.department, _pseudo_uscc(ctx.department, "11")))
        employers = self._employers.get(version.item_code)
        if employers and _has(tokens, text, ("employer", "单位", "机构", "学校")):
            return lambda ctx: ctx.rng.choice(employers)

        pool = self._businesses if _has(tokens, text, ("employer", "所属单位")) else orgs

        def organisation(ctx: _RowContext) -> tuple[str, str] | None:
            if not pool:
                return None
            chosen = ctx.rng.choice(pool)
            return chosen.name, chosen.uscc

        return organisation

    def department_name(self, code: str) -> str:
        department = self.departments.get(code)
        return department.name_zh if department else "常州市人民政府"

    def _field(self, version: ItemVersion, spec: FieldSpec) -> Gen:
        kind = spec.type
        if kind is FieldType.ENUM:
            return _enum(spec)
        if kind is FieldType.BOOLEAN:
            return lambda ctx: ctx.rng.random() < 0.5
        if kind is FieldType.DECIMAL:
            return _decimal(spec, version)
        if kind is FieldType.INTEGER:
            return _integer(spec)
        if kind is FieldType.DATE:
            return _date(spec)
        if kind is FieldType.RIC:
            persons = self.persons
            return lambda ctx: ctx.rng.choice(persons).ric if persons else None
        if kind is FieldType.USCC:
            orgs = self.organizations
            return lambda ctx: ctx.rng.choice(orgs).uscc if orgs else None
        if kind is FieldType.GTIN:
            return lambda ctx: _gtin13(ctx.rng)
        return self._string(version, spec)

    def _string(self, version: ItemVersion, spec: FieldSpec) -> Gen:
        hinted = self._text(version, spec)
        max_length = spec.max_length or 0
        pattern = re.compile(spec.pattern) if spec.pattern else None

        def gen(ctx: _RowContext) -> object:
            text = hinted(ctx)
            if text is None:
                return None
            if max_length and len(text) > max_length:
                text = text[:max_length]
            if pattern is not None and not pattern.fullmatch(text):
                # None leaves the field out; a required one then shows up as a rejection.
                return sample_pattern(pattern.pattern, ctx.rng, max_length=max_length or None)
            return text

        return gen

    def _text(self, version: ItemVersion, spec: FieldSpec) -> Callable[[_RowContext], str | None]:
        """Realistic text for a string field, chosen by its code first, then by hints in code and label."""
        code = spec.code
        item = version.item_code
        tokens, text = _tokens(spec)
        persons = self.persons
        pick = _pick
        specific: dict[str, Callable[[_RowContext], str | None]] = {
            "account_no": lambda ctx: f"{ctx.rng.randrange(10**9, 10**10)}",
            "address": lambda ctx: _address(ctx.rng),
            "announcement_no": lambda ctx: _doc_number(ctx, "欠公"),
            "basis_document_no": lambda ctx: _case_number(ctx, "民初"),
            "basis_issuer": lambda ctx: ctx.rng.choice(_COURTS)[0],
            "batch_no": lambda ctx: f"{ctx.day:%Y%m%d}{ctx.rng.randrange(100):02d}",
            "brand": (lambda ctx: pick(ctx, _EXPRESS)) if "快递" in spec.label_zh
            else (lambda ctx: pick(ctx, _PRODUCTS.get(str(ctx.values.get("product_name")), _ALL_BRANDS))),
            "business_scope": lambda ctx: pick(ctx, _BUSINESS_SCOPES),
            "candidate_no": lambda ctx: f"{ctx.day.year % 100:02d}320{ctx.rng.randrange(10**9):09d}",
            "case_name": lambda ctx: f"{_subject_name(ctx)}{_fact(ctx)}案",
            "violation_type": _fact,
            "decision_no": lambda ctx: _doc_number(ctx, None),
            "case_no": lambda ctx: _case_number(ctx, "执" if "执行" in spec.label_zh else None),
            "cause": lambda ctx: pick(ctx, _CAUSES),
            "commitment_source_id": lambda ctx: f"CN-{ctx.day.year}-{ctx.rng.randrange(1, 10**6):06d}",
            "contract_no": lambda ctx: f"GJZXDK{ctx.day.year - ctx.rng.randint(3, 8)}{ctx.rng.randrange(10**8):08d}",
            "court_name": lambda ctx: pick(ctx, _COURTS)[0],
            "cpa_no": lambda ctx: f"3204{ctx.rng.randrange(10**8):08d}",
            "discrepancy": lambda ctx: pick(ctx, _ITEM_FACTS["not_as_described"]),
            "document_no": lambda ctx: _doc_number(ctx, "发"),
            "donee": lambda ctx: pick(ctx, _DONEES),
            "evaluation_system": lambda ctx: _EVALUATION_SYSTEMS.get(ctx.department, "常州市公共信用综合评价办法"),
            "exam_name": lambda ctx: f"{ctx.day.year}年{pick(ctx, _EXAMS)}",
            "financial_officer": lambda ctx: pick(ctx, persons).name if persons else None,
            "grade": lambda ctx: pick(ctx, _GRADES),
            "guide_cert_no": lambda ctx: f"D-3204-{ctx.rng.randrange(10**6):06d}",
            "household_region": lambda ctx: ctx.person.ric[:6] if ctx.person else pick(ctx, _CHANGZHOU_CODES),
            "institution": lambda ctx: pick(ctx, _SCHOOLS),
            "intermediary": lambda ctx: f"常州{pick(ctx, _INDUSTRY_BRANDS)}税务师事务所有限公司",
            "language": lambda ctx: pick(ctx, _LANGUAGES),
            "lender": lambda ctx: pick(ctx, _LENDERS),
            "license_affected": lambda ctx: f"{pick(ctx, _LICENCE_NAMES)}（{_certificate_number(ctx)}）",
            "license_name": lambda ctx: _licence(ctx)[0],
            "matter": lambda ctx: pick(ctx, _COMMITMENT_MATTERS),
            "measures": lambda ctx: pick(ctx, _MEASURES),
            "notice_no": lambda ctx: _doc_number(ctx, "限缴"),
            "obligation": lambda ctx: pick(ctx, _OBLIGATIONS).format(amount=_money(ctx.rng, 2_000, 2_000_000)),
            "order_no": lambda ctx: f"{ctx.rng.randrange(10**17, 10**18)}",
            "organization_name": lambda ctx: pick(ctx, _VOLUNTEER_ORGS),
            "platform": lambda ctx: pick(ctx, _VOLUNTEER_PLATFORMS),
            "platform_name": lambda ctx: pick(ctx, tuple(_PLATFORMS)),
            "practice_cert_no": lambda ctx: f"1103204{ctx.rng.randrange(10**8):08d}",
            "practice_scope": lambda ctx: pick(ctx, _PRACTICE_SCOPES),
            "project": lambda ctx: pick(ctx, _DONATION_PROJECTS),
            "purpose": lambda ctx: pick(ctx, _DONATION_PURPOSES),
            "qualification_level": lambda ctx: pick(ctx, _QUALIFICATION_LEVELS),
            "qualification_name": lambda ctx: _memo(ctx, "qualification", lambda: pick(ctx, _QUALIFICATIONS))[0],
            "rank": lambda ctx: pick(ctx, _CIVIL_RANKS),
            "receipt_no": lambda ctx: f"3204{ctx.day.year}{ctx.rng.randrange(10**8):08d}",
            "removal_reason": lambda ctx: pick(ctx, _REMOVAL_REASONS) if "removal_date" in ctx.values else None,
            "result": lambda ctx: pick(ctx, _COURT_RESULTS).format(amount=_money(ctx.rng, 2_000, 2_000_000)),
            "school": lambda ctx: pick(ctx, _SCHOOLS),
            "shop_id": lambda ctx: f"{ctx.rng.randrange(10**8, 10**11)}",
            "shop_name": lambda ctx: _shop_name(ctx),
            "shop_url": lambda ctx: _shop_url(ctx),
            "specialty": lambda ctx: _memo(ctx, "qualification", lambda: pick(ctx, _QUALIFICATIONS))[1],
            "subject": lambda ctx: pick(ctx, _SUBJECTS_TAUGHT),
            "target_shop": lambda ctx: f"{pick(ctx, _INDUSTRY_BRANDS)}旗舰店",
            "tax_type": lambda ctx: pick(ctx, _TAX_TYPES),
            "title": lambda ctx: pick(ctx, _TITLES),
            "work_title": lambda ctx: pick(ctx, _WORK_TITLES),
            "position": lambda ctx: pick(ctx, _POSITIONS.get(item, _DEFAULT_POSITIONS)),
            "honour_name": lambda ctx: _memo(ctx, "honour", lambda: pick(ctx, _HONOURS))[0],
            "project_name": (lambda ctx: pick(ctx, _VOLUNTEER_PROJECTS)) if "志愿" in version.name_zh
            else (lambda ctx: f"{_place(pick(ctx, _CHANGZHOU_CODES))}{pick(ctx, _INDUSTRY_BRANDS)}"
                              f"花园{pick(ctx, _NUMERALS)}期工程"),
            "product_name": (lambda ctx: pick(ctx, _FOODS)) if "food" in item
            else (lambda ctx: pick(ctx, _PRODUCT_NAMES)),
            "handling": (lambda ctx: pick(ctx, _ACADEMIC_HANDLING)) if "academic" in item
            else (lambda ctx: pick(ctx, _EXAM_HANDLING)),
            "content": (lambda ctx: pick(ctx, _COMMITMENT_CONTENTS)) if "commitment" in item
            else (lambda ctx: _licence(ctx)[1]),
            "registration_authority": lambda ctx: self.department_name(ctx.department),
            "employer": lambda ctx: pick(ctx, self.organizations).name if self.organizations else None,
            "description": lambda ctx: f"{_subject_name(ctx)}{pick(ctx, _POSITIVE_FACTS)}。",
        }
        found = specific.get(code)
        if found is not None:
            return found
        # Hints in the code and label, for fields this table does not know.
        if _has(tokens, text, ("案号",)):
            return lambda ctx: _case_number(ctx, None)
        if _has(tokens, text, ("licence", "license", "certificate", "cert", "permit", "许可证", "证书", "证号",
                               "执照", "registration", "注册", "登记编号")):
            return _certificate_number
        if _has(tokens, text, ("no", "number", "num", "文号", "编号", "字号", "文书号")):
            return lambda ctx: _doc_number(ctx, None)
        if _has(tokens, text, _ENTITY_WORDS + ("organ", "agency", "部门", "department")):
            return lambda ctx: self.department_name(ctx.department)
        if _has(tokens, text, ("basis", "依据", "legal", "law")):
            return _legal_basis
        if _has(tokens, text, ("fact", "facts", "finding", "violation", "breach", "事实", "违法", "行为", "情形",
                               "reason", "事由", "cause", "situation")):
            if spec.type is FieldType.TEXT:
                return _facts_text
            return _fact
        if _has(tokens, text, ("content", "内容", "result", "结果", "measure", "措施")):
            return lambda ctx: pick(ctx, _MEASURES)
        if _has(tokens, text, ("honour", "honor", "称号", "荣誉", "奖项", "award")):
            return lambda ctx: _memo(ctx, "honour", lambda: pick(ctx, _HONOURS))[0]
        if _has(tokens, text, ("project", "activity", "项目", "活动")):
            return lambda ctx: pick(ctx, _VOLUNTEER_PROJECTS)
        if _has(tokens, text, ("school", "学校", "院校", "university")):
            return lambda ctx: pick(ctx, _SCHOOLS)
        if _has(tokens, text, ("position", "职务", "岗位", "职业", "occupation")):
            return lambda ctx: pick(ctx, _DEFAULT_POSITIONS)
        if _has(tokens, text, ("address", "地址", "住所", "场所", "location")):
            return lambda ctx: _address(ctx.rng)
        if _has(tokens, text, ("phone", "tel", "电话", "手机", "mobile")):
            return lambda ctx: f"0519-8{ctx.rng.randrange(10**7):07d}"
        if _has(tokens, text, ("person", "contact", "representative", "代表人", "负责人", "联系人", "姓名",
                               "owner", "经办人")):
            return lambda ctx: pick(ctx, persons).name if persons else None
        if _has(tokens, text, ("employer", "单位", "机构", "company", "企业")):
            return lambda ctx: pick(ctx, self.organizations).name if self.organizations else None
        if _has(tokens, text, ("remark", "note", "notes", "备注", "comment", "说明")):
            return lambda ctx: pick(ctx, ("无", "已整改", "已履行完毕", "按期整改到位"))
        if spec.type is FieldType.TEXT:
            return _facts_text
        return lambda ctx: pick(ctx, _facts(ctx))


_INDUSTRY_BRANDS = ("华盛", "恒瑞", "天合", "金源", "龙城", "东方", "新业", "永泰", "中吴", "运河", "鑫达", "常发")


def _pick(ctx: _RowContext, options: Sequence[Any]) -> Any:
    return options[int(ctx.rng.random() * len(options))]


def _subject_name(ctx: _RowContext) -> str:
    if ctx.org is not None:
        return ctx.org.name
    return "当事人" if ctx.person is None else ctx.person.name


def _memo(ctx: _RowContext, key: str, make: Callable[[], Any]) -> Any:
    """One choice per row that several fields share (the facts and the case name tell one story)."""
    if key not in ctx.memo:
        ctx.memo[key] = make()
    return ctx.memo[key]


def _facts(ctx: _RowContext) -> tuple[str, ...]:
    version = ctx.version
    if version.category is Category.POSITIVE:
        return _POSITIVE_FACTS
    code = version.item_code
    for key, facts in _ITEM_FACTS.items():
        if key in code:
            return facts
    return _DEPARTMENT_FACTS.get(ctx.department, _GENERIC_FACTS)


def _licence(ctx: _RowContext) -> tuple[str, str]:
    def make() -> tuple[str, str]:
        known = _LICENCES.get(ctx.department)
        if known:
            name, allows = _pick(ctx, known)
            return name, allows
        return _pick(ctx, _LICENCE_NAMES), _pick(ctx, _LICENCE_CONTENTS)

    name, allows = _memo(ctx, "licence", make)
    return str(name), str(allows)


def _fact(ctx: _RowContext) -> str:
    return str(_memo(ctx, "fact", lambda: _pick(ctx, _facts(ctx))))


def _legal_basis(ctx: _RowContext) -> str:
    def make() -> str:
        laws = next((laws for key, laws in _ITEM_LAWS.items() if key in ctx.version.item_code), None)
        law = _pick(ctx, laws or _LAWS.get(ctx.department, _GENERIC_LAWS))
        return f"{law}第{_cn_number(ctx.rng.randint(8, 130))}条"

    return str(_memo(ctx, "law", make))


def _facts_text(ctx: _RowContext) -> str:
    fact = _fact(ctx)
    if ctx.version.category is Category.POSITIVE:
        return f"{_subject_name(ctx)}{fact}。"
    happened = ctx.day - dt.timedelta(days=ctx.rng.randint(15, 120))
    return (f"经查，{_subject_name(ctx)}于{happened.year}年{happened.month}月{happened.day}日{fact}。"
            f"上述行为违反了{_legal_basis(ctx)}的规定。")


def _doc_word(version: ItemVersion) -> str:
    name = version.name_zh
    for keyword, word in (("处罚", "处罚"), ("许可", "许"), ("登记", "登"), ("注册", "注"), ("资格", "资"),
                          ("资质", "资"), ("表彰", "表"), ("奖励", "奖"), ("执行", "执")):
        if keyword in name:
            return word
    return "决" if version.category is Category.NEGATIVE else "字"


def _doc_number(ctx: _RowContext, word: str | None) -> str:
    if ctx.department == "court":
        return _case_number(ctx, None)
    prefix = _DOC_PREFIX.get(ctx.department, "常")
    return f"{prefix}{word or _doc_word(ctx.version)}〔{ctx.day.year}〕{ctx.serial % 9000 + 1}号"


def _case_number(ctx: _RowContext, kind: str | None) -> str:
    court = _pick(ctx, _COURTS)[1]
    return f"（{ctx.day.year}）{court}{kind or _pick(ctx, _CASE_KINDS)}{ctx.rng.randint(1, 9999)}号"


def _certificate_number(ctx: _RowContext) -> str:
    return f"苏常{_doc_word(ctx.version)[:1]}{ctx.day.year}{ctx.rng.randrange(10**6):06d}"


def _address(rng: random.Random) -> str:
    code = rng.choice(_CHANGZHOU_CODES)
    return f"江苏省常州市{CHANGZHOU_DISTRICTS[code]}{rng.choice(_ROADS)}{rng.randint(1, 999)}号"


_LEGAL_FORMS = ("集团有限公司", "股份有限公司", "有限公司", "专业合作社")


def _shop_name(ctx: _RowContext) -> str:
    if ctx.org is not None and ctx.org.category == "91" and ctx.rng.random() < 0.7:
        name = ctx.org.name
        for form in _LEGAL_FORMS:
            name = name.removesuffix(form)
        for place in ("江苏", "常州市", "常州", *CHANGZHOU_DISTRICTS.values()):
            name = name.removeprefix(place)
        return f"{name[:10]}官方旗舰店"
    return f"{_pick(ctx, _INDUSTRY_BRANDS)}{_pick(ctx, ('优选', '小店', '专营店', '好物馆'))}"


def _shop_url(ctx: _RowContext) -> str:
    domain = _PLATFORMS.get(str(ctx.values.get("platform_name", "")), "taobao.com")
    return f"https://shop{ctx.rng.randrange(10**7, 10**9)}.{domain}"


def _money(rng: random.Random, low: float, high: float) -> str:
    value = math.exp(rng.uniform(math.log(low), math.log(high)))
    return f"{round(value / 100) * 100:.0f}" if value >= 10_000 else f"{value:.0f}"


def _gtin13(rng: random.Random) -> str:
    data = "69" + "".join(rng.choice("0123456789") for _ in range(10))
    total = 3 * sum(map(int, data[::-2])) + sum(map(int, data[-2::-2]))
    return data + str(-total % 10)


def _enum(spec: FieldSpec) -> Gen:
    values = [option.value for option in spec.options]
    known = _OPTION_WEIGHTS.get(spec.code, {})
    weights = [
        known.get(value, 10.0 if spec.code in _STATUS_CODES and i == 0 else 0.3 if value == "other" else 1.0)
        for i, value in enumerate(values)
    ]
    cumulative = list(itertools.accumulate(weights))
    code = spec.code

    def gen(ctx: _RowContext) -> object:
        if code == "org_type" and ctx.org is not None:
            wanted = _ORG_TYPES.get(ctx.org.category)
            if wanted in values:
                return wanted
        elif code == "gender" and ctx.person is not None:
            wanted = "male" if int(ctx.person.ric[16]) % 2 else "female"
            if wanted in values:
                return wanted
        elif code == "utility" and ctx.department in _UTILITIES and _UTILITIES[ctx.department] in values:
            return _UTILITIES[ctx.department]
        elif code == "honour_level" and "honour" in ctx.memo and ctx.memo["honour"][1] in values:
            return ctx.memo["honour"][1]
        return ctx.rng.choices(values, cum_weights=cumulative)[0]

    return gen


def _clamp_range(low: float, high: float, minimum: float | None, maximum: float | None) -> tuple[float, float]:
    """The hint range cut to the field's bounds; the bounds alone when the two do not meet."""
    lo = low if minimum is None else max(low, float(minimum))
    hi = high if maximum is None else min(high, float(maximum))
    if lo > hi:
        lo = float(minimum) if minimum is not None else float(maximum or 0) - (high - low)
        hi = float(maximum) if maximum is not None else lo + (high - low)
    return lo, hi


def _decimal(spec: FieldSpec, version: ItemVersion) -> Gen:
    tokens, text = _tokens(spec)
    scale = spec.scale if spec.scale is not None else 2
    log = True
    round_to = 0.0  # 0: by size
    if _has(tokens, text, ("hours", "hour", "时长", "小时", "学时")):
        low, high = 1.0, 300.0
    elif _has(tokens, text, ("rate", "ratio", "比例", "percent", "率")):
        low, high, log = 0.0, 100.0, False
    elif _has(tokens, text, ("score", "得分", "points")):
        low, high, log = 60.0, 100.0, False
    elif "万元" in text:
        low, high = 1.0, 5_000.0
        round_to = 10.0 if "capital" in text or "资本" in text else 0.0
        if round_to:
            low = max(low, 1.0)
    elif _has(tokens, text, ("principal", "本金", "loan", "贷款")):
        low, high = 1_000.0, 50_000.0
    elif _has(tokens, text, ("interest", "利息")):
        low, high = 10.0, 5_000.0
    elif _has(tokens, text, ("overcharge", "多收")):
        low, high = 10.0, 20_000.0
    elif "utility" in version.item_code or "公共事业" in version.name_zh:
        low, high = 50.0, 50_000.0
    elif _has(tokens, text, ("tax", "税", "arrears", "欠")):
        low, high = 500.0, 2_000_000.0
    elif _has(tokens, text, ("donat", "捐")):
        low, high = 100.0, 200_000.0
    else:
        low, high = 200.0, 500_000.0
    low, high = _clamp_range(low, high, spec.minimum, spec.maximum)
    if low <= 0:
        log = log and False
    quantum = Decimal(1).scaleb(-scale)
    low_d = Decimal(repr(low)).quantize(quantum, rounding=ROUND_CEILING)
    high_d = Decimal(repr(high)).quantize(quantum, rounding=ROUND_FLOOR)
    if not round_to:
        round_to = 100.0 if high >= 10_000 and low >= 100 else 1.0
    person_high = max(low * 2, high / 20)

    def gen(ctx: _RowContext) -> object:
        rng = ctx.rng
        top = person_high if ctx.person is not None and log else high
        if log:
            value = math.exp(rng.uniform(math.log(low), math.log(top)))
            if round_to > 1 and rng.random() < 0.8:
                value = max(1.0, round(value / round_to) * round_to if value >= round_to else round(value))
        else:
            value = rng.uniform(low, top)
        number = min(max(Decimal(repr(value)).quantize(quantum), low_d), high_d)
        return format(number, "f")

    return gen


def _integer(spec: FieldSpec) -> Gen:
    tokens, text = _tokens(spec)
    year_field = _has(tokens, text, ("year", "年度", "年份"))
    skew = 1.0
    if _has(tokens, text, ("deaths", "死亡")):
        low, high, skew = 0, 3, 6.0
    elif _has(tokens, text, ("injuries", "受伤")):
        low, high, skew = 0, 10, 4.0
    elif _has(tokens, text, ("years", "年限")):
        low, high = 1, 3
    elif _has(tokens, text, ("hours", "hour", "时长", "小时", "学时")):
        low, high = 1, 500
    elif _has(tokens, text, ("score", "分", "points")):
        low, high = 60, 100
    elif _has(tokens, text, ("months", "月数")):
        low, high, skew = 1, 36, 2.0
    elif _has(tokens, text, ("人数", "workers", "employees")):
        low, high, skew = 1, 120, 2.0
    elif _has(tokens, text, ("orders", "笔数", "volume", "quantity", "数量", "count", "条数")):
        low, high, skew = 1, 5_000, 3.0
    elif _has(tokens, text, ("days", "天数", "日数")):
        low, high, skew = 1, 1_000, 2.0
    else:
        low, high = 1, 100
    lo_f, hi_f = _clamp_range(float(low), float(high), spec.minimum, spec.maximum)
    lo, hi = math.ceil(lo_f), math.floor(hi_f)
    if lo > hi:
        hi = lo

    def gen(ctx: _RowContext) -> object:
        rng = ctx.rng
        if year_field:
            year = ctx.day.year - (1 if rng.random() < 0.6 else 0)
            if (spec.minimum is None or year >= spec.minimum) and (spec.maximum is None or year <= spec.maximum):
                return year
        return lo + int((hi - lo + 1) * rng.random() ** skew)

    return gen


def _date(spec: FieldSpec) -> Gen:
    tokens, text = _tokens(spec)
    code = spec.code
    monthly = "月份" in spec.label_zh or "所属期" in spec.label_zh
    validity = _has(tokens, text, ("valid", "until", "expire", "expiry", "有效期至", "届满", "期限至"))
    start_of_validity = validity and _has(tokens, text, ("from", "自", "起"))
    sibling_from = code[: -len("_to")] + "_from" if code.endswith("_to") else None
    rarely = _has(tokens, text, ("removal", "移出"))  # most listed organisations are still listed
    if code == "birth_date" or "出生" in spec.label_zh:
        rule = "birth"
    elif start_of_validity:
        rule = "decision"
    elif validity:
        rule = "future"
    elif _has(tokens, text, ("establishment", "成立", "设立")):
        rule = "years_before"
    elif _has(tokens, text, ("removal", "移出", "verified", "核查", "effective", "生效", "settled")):
        rule = "after"
    elif _has(tokens, text, ("exam", "考试")):
        rule = "weeks_before"
    elif _has(tokens, text, ("filing", "立案")):
        rule = "year_before"
    elif _has(tokens, text, ("from", "since", "起始", "开始", "issue", "发证")):
        rule = "long_before"
    elif sibling_from is not None or _has(tokens, text, ("截止", "止", "end")):
        rule = "until_decision"
    elif _has(tokens, text, ("notice", "催缴", "last")):
        rule = "weeks_before"
    else:
        rule = "before"

    def gen(ctx: _RowContext) -> object:
        rng, day = ctx.rng, ctx.day
        if rule == "birth":
            result = ctx.person.birth if ctx.person else day - dt.timedelta(days=rng.randint(18 * 365, 70 * 365))
        elif rule == "decision":
            result = day
        elif rule == "future":
            result = _add_years(day, rng.choice((1, 2, 3, 5))) - dt.timedelta(days=1)
        elif rule == "years_before":
            result = max(dt.date(1984, 1, 1), day - dt.timedelta(days=rng.randint(30, 25 * 365)))
        elif rule == "after":
            result = day + dt.timedelta(days=rng.randint(10, 200))
            if result > ctx.today or (rarely and rng.random() < 0.6):
                return None
        elif rule == "weeks_before":
            result = day - dt.timedelta(days=rng.randint(7, 60))
        elif rule == "year_before":
            result = day - dt.timedelta(days=rng.randint(30, 400))
        elif rule == "long_before":
            result = day - dt.timedelta(days=rng.randint(60, 720))
        elif rule == "until_decision":
            start = ctx.values.get(sibling_from) if sibling_from else None
            earliest = dt.date.fromisoformat(start) if isinstance(start, str) else day - dt.timedelta(days=365)
            span = max(0, (day - earliest).days)
            result = earliest + dt.timedelta(days=rng.randint(min(30, span), span) if span else 0)
        else:
            result = day - dt.timedelta(days=rng.randint(0, 90))
        if monthly:
            result = result.replace(day=1)
        return result.isoformat()

    return gen


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


_CASE_TYPE_WORDS = {"civil": "民初", "criminal": "刑初", "administrative": "行初", "enforcement": "执",
                    "state_compensation": "委赔"}
_CASE_TYPE_CAUSES = {
    "criminal": ("危险驾驶罪", "盗窃罪", "诈骗罪", "帮助信息网络犯罪活动罪", "非法经营罪"),
    "administrative": ("行政处罚纠纷", "行政强制纠纷", "政府信息公开纠纷"),
    "state_compensation": ("行政赔偿", "刑事赔偿"),
}
_CASE_NO_RE = re.compile(r"(（\d{4}）苏\d{2,4})[^\d]+(\d+号)")


def _harmonize(ctx: _RowContext, values: dict[str, object]) -> None:
    """Make fields that describe each other agree (the penalty content and its amount, the case
    number and the kind of case)."""
    case_type, case_no = values.get("case_type"), values.get("case_no")
    if isinstance(case_type, str) and isinstance(case_no, str) and case_type in _CASE_TYPE_WORDS:
        values["case_no"] = _CASE_NO_RE.sub(lambda m: m.group(1) + _CASE_TYPE_WORDS[case_type] + m.group(2), case_no)
        if case_type in _CASE_TYPE_CAUSES and "cause" in values:
            values["cause"] = _CASE_TYPE_CAUSES[case_type][_stable(case_no) % len(_CASE_TYPE_CAUSES[case_type])]
    ban_years = values.get("ban_years")
    if isinstance(ban_years, int) and "handling" in values and "exam" in ctx.version.item_code:
        values["handling"] = (f"取消本次考试全部科目成绩，停考{_cn_number(ban_years)}年" if ban_years
                              else "取消本次考试各科目成绩")
    penalty = values.get("penalty_type")
    if isinstance(penalty, str) and "penalty_content" in values:
        spec = next((s for s in ctx.version.fields if s.code == "penalty_type"), None)
        label = next((o.label_zh for o in spec.options if o.value == penalty), "") if spec else ""
        if penalty == "fine" and "fine_amount" in values:
            values["penalty_content"] = f"罚款人民币{values['fine_amount']}元"
        elif penalty == "confiscation" and "confiscated_amount" in values:
            values["penalty_content"] = f"没收违法所得人民币{values['confiscated_amount']}元"
        elif label:
            values["penalty_content"] = label
        if penalty in ("warning", "criticism"):
            values.pop("fine_amount", None)
            values.pop("confiscated_amount", None)


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------

# Item weights (how common such records are): by code prefix, then by words in the code and names;
# the first matching rule wins.
_WEIGHT_PREFIXES: tuple[tuple[str, float], ...] = (("occ_", 2.0), ("ec_", 1.0))
_WEIGHT_RULES: tuple[tuple[tuple[str, ...], float], ...] = (
    (("作弊", "学术", "cheat", "academic", "exam"), 0.3),
    (("major_tax", "重大税收"), 0.8),
    (("commitment_breach", "承诺失信"), 0.5),
    (("处罚", "penalty"), 14.0),
    (("许可", "licen", "permit"), 10.0),
    (("登记", "注册", "registration"), 3.0),
    (("volunteer", "志愿"), 7.0),
    (("资格", "资质", "qualification"), 5.0),
    (("person_basic", "基本身份"), 5.0),
    (("捐", "donation", "charity"), 4.0),
    (("欠", "arrears"), 4.0),
    (("abnormal", "经营异常", "court_judgement", "司法裁判", "credit_commitment"), 3.0),
    (("commendation", "表彰", "tax_credit", "evaluation", "评价"), 2.5),
    (("dishonest_debtor", "food_drug", "work_safety"), 2.0),
)
_DEFAULT_WEIGHT = 1.0
_SEVERITY_WEIGHTS = {Severity.GENERAL: 0.6, Severity.SERIOUS: 0.25, Severity.MINOR: 0.15}


def _item_weight(item: CatalogItem) -> float:
    for prefix, weight in _WEIGHT_PREFIXES:
        if item.code.startswith(prefix):
            return weight
    text = f"{item.code} {item.name_zh} {item.name_en}".lower()
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
    """Subjects for records: every subject once (in shuffled order), then a skewed draw, so that a
    few subjects have many records (as in a real city) — a different few for good and bad records.

    With ``repeat=False`` it only cycles through the shuffled subjects: one identity record, one
    registration, one practising licence of a kind per subject (while subjects last).
    """

    def __init__(self, rng: random.Random, size: int, *, repeat: bool = True) -> None:
        self.rng = rng
        self.size = size
        self.repeat = repeat
        self.first = list(range(size))
        rng.shuffle(self.first)
        self.orders: dict[Category, list[int]] = {}
        for category in Category if repeat else ():
            order = list(range(size))
            rng.shuffle(order)
            self.orders[category] = order
        self.next = 0

    def pick(self, category: Category) -> int:
        if self.next >= self.size and not self.repeat:
            self.next = 0
        if self.next < self.size:
            self.next += 1
            return self.first[self.next - 1]
        return self.orders[category][int(self.size * self.rng.random() ** 1.2)]


@dataclass(slots=True)
class _Row:
    values: dict[str, object]
    department: str
    year: int
    person: DemoPerson | None
    org: DemoOrganization | None
    good: bool = True


@dataclass
class DemoSummary:
    """What :func:`load_demo` did (``users``: the demo staff accounts, created or already there)."""

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
        self.values = _Values(platform, persons, organizations, seed)
        self.seed = seed
        self.people = _Picker(random.Random(f"{seed}/people-order"), len(persons))
        self.orgs = _Picker(random.Random(f"{seed}/org-order"), len(organizations))
        self.progress = progress
        self.task = task
        self.earliest = _add_years(today, -YEARS_BACK)
        self.summary = DemoSummary(len(persons), len(organizations), 0, 0, 0, 0, 0, 0, 0.0, ())
        self.generate_seconds = 0.0
        self.ingest_seconds = 0.0
        self._choices: dict[int, tuple[ItemVersion, list[SubjectKind], list[str], list[float]]] = {}

    # -- generation ---------------------------------------------------------------------------

    def window(self, item: CatalogItem) -> tuple[dt.date, dt.date] | None:
        """Decision dates for the item: the last few years, but never before its first version."""
        start = max(self.earliest, item.versions[0].effective_from)
        if start > self.today or not any(
                v.effective_from <= self.today and (v.effective_to is None or v.effective_to >= start)
                and v.subject_kinds & {SubjectKind.PERSON, SubjectKind.ORGANIZATION}
                for v in item.versions):
            return None
        return start, self.today

    def draw_day(self, item: CatalogItem, start: dt.date, end: dt.date) -> tuple[dt.date, ItemVersion] | None:
        span = (end - start).days
        for _ in range(12):
            # Slightly more recent records than old ones, as collection grows year by year.
            day = end - dt.timedelta(days=int((span + 1) * self.rng.random() ** 1.15))
            version = item.version_on(day)
            if version is not None and version.departments:
                return day, version
        return None

    def version_choices(self, version: ItemVersion) -> tuple[list[SubjectKind], list[str], list[float]]:
        """Subject kinds with subjects to pick, departments and their cumulative weights (cached)."""
        found = self._choices.get(id(version))
        if found is None or found[0] is not version:
            kinds = [k for k, pool in ((SubjectKind.ORGANIZATION, self.organizations),
                                       (SubjectKind.PERSON, self.persons)) if k in version.subject_kinds and pool]
            departments = sorted(version.departments)
            weights = list(itertools.accumulate(_DEPARTMENT_WEIGHTS.get(d, 1.0) for d in departments))
            found = self._choices[id(version)] = (version, kinds, departments, weights)
        return found[1], found[2], found[3]

    def make_row(self, item: CatalogItem, item_no: int, counters: dict[str, int],
                 window: tuple[dt.date, dt.date], pickers: tuple[_Picker, _Picker]) -> _Row | None:
        drawn = self.draw_day(item, *window)
        if drawn is None:
            return None
        day, version = drawn
        rng = self.rng
        kinds, departments, cum_weights = self.version_choices(version)
        if not kinds:
            return None
        department = departments[0] if len(departments) == 1 else rng.choices(departments, cum_weights=cum_weights)[0]
        serial = counters[department] = counters.get(department, 0) + 1
        source_id = f"CZ-{department.upper()[:24]}-{item_no:03d}-{day.year}-{serial:06d}"
        kind = kinds[0] if len(kinds) == 1 else rng.choice(kinds)
        values: dict[str, object] = {"source_id": source_id}
        person: DemoPerson | None = None
        org: DemoOrganization | None = None
        if kind is SubjectKind.PERSON:
            person = self.persons[pickers[0].pick(version.category)]
            values["ric"], values["subject_name"] = person.ric, person.name
        else:
            org = self.organizations[pickers[1].pick(version.category)]
            values["uscc"], values["subject_name"] = org.uscc, org.name
        values["decision_date"] = day.isoformat()
        if version.category is Category.NEGATIVE and version.severities:
            severities = version.severities
            values["severity"] = rng.choices(severities, [_SEVERITY_WEIGHTS[s] for s in severities])[0].value
        ctx = _RowContext(rng, self.today, day, department, version, serial, person, org, values)
        for step in self.values.plan(version):
            if not step.required and rng.random() < 0.15:
                continue
            values.update(step.run(ctx))
        _harmonize(ctx, values)
        return _Row(values, department, day.year, person, org)

    def spoil(self, row: _Row, item: CatalogItem) -> None:
        """Make a row invalid the way real submissions are: a wrong check digit, a required value
        missing, an impossible date, a value that is not one of the options."""
        values = row.values
        row.good = False
        version = item.version_on(dt.date.fromisoformat(str(values["decision_date"])))
        assert version is not None
        required = [s.code for s in version.fields if s.required]
        enums = [s.code for s in version.fields if s.type is FieldType.ENUM and s.code in values]
        choice = self.rng.choice(("check_digit", "missing", "date", "enum"))
        if choice == "missing" and not required:
            choice = "check_digit"
        if choice == "enum" and not enums:
            choice = "date"
        if choice == "check_digit":
            column = "ric" if "ric" in values else "uscc"
            code = str(values[column])
            alphabet = "0123456789X" if column == "ric" else USCC_CHARSET
            values[column] = code[:-1] + self.rng.choice([c for c in alphabet if c != code[-1]])
        elif choice == "missing":
            values[self.rng.choice(required)] = ""
        elif choice == "date":
            year = str(values["decision_date"])[:4]
            values["decision_date"] = self.rng.choice((f"{year}-02-30", f"{year}年13月5日", f"{year}/00/12",
                                                       f"{year}.9.31"))
        else:
            values[self.rng.choice(enums)] = self.rng.choice(("其他情况", "不详", "待定"))

    def corrected(self, row: _Row, item: CatalogItem) -> dict[str, object] | None:
        """The same source record with changed content (a correction), or None if none is possible."""
        day = dt.date.fromisoformat(str(row.values["decision_date"]))
        version = item.version_on(day)
        assert version is not None
        steps = [s for s in self.values.plan(version) if not s.codes[0].endswith(("_uscc", "_ric"))]
        self.rng.shuffle(steps)
        for step in steps:
            for _ in range(4):
                values = dict(row.values)
                for code in step.codes:
                    values.pop(code, None)
                ctx = _RowContext(self.rng, self.today, day, row.department, version, self.rng.randrange(1, 9000),
                                  row.person, row.org, values)
                values.update(step.run(ctx))
                _harmonize(ctx, values)
                if values != row.values and (not step.required or step.codes[0] in values):
                    return values
        if version.category is Category.NEGATIVE and len(version.severities) > 1:
            values = dict(row.values)
            values["severity"] = self.rng.choice([s.value for s in version.severities if s.value != values.get("severity")])
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
        window = self.window(item)
        if window is None or count <= 0:
            return
        started = time.perf_counter()
        counters: dict[str, int] = {}
        groups: dict[str, list[_Row]] = {}
        pickers = (self.people, self.orgs)
        if item.report_section == BASIC_SECTION:
            pickers = (_Picker(random.Random(f"{self.seed}/{item.code}/people"), len(self.persons), repeat=False),
                       _Picker(random.Random(f"{self.seed}/{item.code}/orgs"), len(self.organizations), repeat=False))
        for _ in range(count):
            row = self.make_row(item, item_no, counters, window, pickers)
            if row is None:
                continue
            if self.rng.random() < BAD_ROW_RATE:
                self.spoil(row, item)
            groups.setdefault(row.department, []).append(row)
        resubmitted: dict[str, list[dict[str, object]]] = {}
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
            resubmitted[department] = again
        self.generate_seconds += time.perf_counter() - started
        for department in sorted(groups):
            for batch in _yearly_batches(groups[department]):
                self.submit(department, item.code, batch)
            # Corrections and plain resubmissions come later, as a department's follow-up upload.
            for batch in _chunks(resubmitted[department], MAX_BATCH_ROWS):
                self.submit(department, item.code, batch)


def _yearly_batches(rows: list[_Row]) -> Iterator[list[dict[str, object]]]:
    """One department's rows of one item as yearly submissions of at most MAX_BATCH_ROWS rows
    (small departments send everything at once)."""
    if len(rows) < YEARLY_MIN_ROWS:
        yield [row.values for row in rows]
        return
    by_year: dict[int, list[dict[str, object]]] = {}
    for row in rows:
        by_year.setdefault(row.year, []).append(row.values)
    for year in sorted(by_year):
        yield from _chunks(by_year[year], MAX_BATCH_ROWS)


def _chunks(rows: list[dict[str, object]], size: int) -> Iterator[list[dict[str, object]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


# ---------------------------------------------------------------------------------------------
# Staff accounts
# ---------------------------------------------------------------------------------------------


def demo_usernames(platform: Platform) -> list[str]:
    """admin, office and one clerk per department that is a source of some catalog item."""
    departments = sorted({d for item in platform.catalog.items.values() for v in item.versions for d in v.departments})
    return ["admin", "office", *(f"clerk_{d}" for d in departments)]


def _ensure_users(platform: Platform) -> tuple[str, ...]:
    """Create the demo staff accounts that are missing.

    They all share the demo password, so they share one argon2id hash: hashing it once per
    account through ``create_user`` would cost 0.2–0.4 s each (8–15 s for 34 accounts) and
    reveal nothing the README does not already say. The rows and their audit events are the
    ones ``create_user`` writes.
    """
    password = os.environ.get(DEMO_PASSWORD_ENV) or DEFAULT_DEMO_PASSWORD
    problem = password_problem("", password, field="password")
    if problem is not None:
        raise problem
    wanted = demo_usernames(platform)
    departments = platform.catalog.departments
    with platform.db.write() as session:
        existing = set(session.execute(select(StaffUser.username).where(StaffUser.username.in_(wanted))).scalars())
        missing = [username for username in wanted if username not in existing]
        if not missing:
            return tuple(wanted)
        password_hash = password_hasher().hash(password)
        for username in missing:
            department: str | None
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
            user = StaffUser(username=username, display_name=display, password_hash=password_hash, role=role.value,
                             department_code=department)
            session.add(user)
            session.flush()
            audit.write(session, actor=SYSTEM, action="user.create", object_type="staff_user", object_id=user.id,
                        detail={"username": username, "role": role.value, "department": department, "demo": True})
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


def _register_demo_notices(platform: Platform, items: Sequence[CatalogItem]) -> None:
    """The demo's arrears records came with their credit notices served on paper (as legacy data
    does): register those notices so the records are displayed like real ones (notices.hold)."""
    from chengxin.core.audit import SYSTEM
    from chengxin.notices.hold import register_offline_notices
    from chengxin.workdays.service import work_calendar

    with platform.db.write() as session:
        calendar = work_calendar(session)
        for item in items:
            if not any(v.notice_required for v in item.versions):
                continue
            for department in sorted({d for v in item.versions for d in v.departments}):
                register_offline_notices(session, calendar, department=department, item_code=item.code,
                                         basis="演示数据：告知书线下送达", actor=SYSTEM, now=dt.datetime.now(dt.UTC))


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

    ``records`` rows are planned over every catalog item in force during the last four years
    (plus about 2 % resubmissions: corrections and unchanged rows, in later batches; about
    0.5 % of the rows are deliberately invalid). Loading again with the same seed and ``today``
    creates no new records: every row is a resubmission and the bad rows are rejected again.
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

    planned = round(n_records * (1 + CORRECTION_RATE + UNCHANGED_RATE))
    records_task = progress.add_task("归集记录", total=planned) if progress is not None else None
    loader = _Loader(platform, people, orgs, seed=seed, today=day, progress=progress, task=records_task)
    usable = [item for _, item in sorted(platform.catalog.items.items()) if loader.window(item) is not None]
    counts = _allocate(n_records, [_item_weight(item) for item in usable], minimum=5)
    for number, (item, count) in enumerate(zip(usable, counts, strict=True), start=1):
        loader.run_item(item, number, count)
    if progress is not None and records_task is not None:
        done = loader.summary.records_submitted
        progress.update(records_task, total=done, completed=done)
    phases["generate_records"] = loader.generate_seconds
    phases["ingest"] = loader.ingest_seconds
    mark = time.perf_counter()
    _register_demo_notices(platform, usable)
    phases["notices"] = time.perf_counter() - mark
    # Issue #5: lists (the rule scan, then entries taken through the real service) and commitments.
    from chengxin.commitments.demo import load_demo_commitments
    from chengxin.lists.demo import load_list_demo

    mark = time.perf_counter()
    load_list_demo(platform, now=dt.datetime.combine(day, dt.time(4, 0), dt.UTC))
    phases["lists"] = time.perf_counter() - mark
    mark = time.perf_counter()
    load_demo_commitments(platform, today=day, seed=seed)
    phases["commitments"] = time.perf_counter() - mark
    # Issue #7: e-commerce trade — platforms push shops, orders and ratings through their ingest path (batches
    # with channel "demo", counted with the others).
    from chengxin.ecommerce.trade.demo import load_trade_demo

    mark = time.perf_counter()
    loader.summary.batches += load_trade_demo(platform, today=day, seed=seed).batches
    phases["ecommerce_trade"] = time.perf_counter() - mark
    # Issue #7: e-commerce risk — 12315 complaints, a detection run, shop risk levels, a notice, an assessment.
    from chengxin.ecommerce.risk.demo import load_risk_demo

    mark = time.perf_counter()
    loader.summary.batches += load_risk_demo(platform, today=day).batches
    phases["ecommerce_risk"] = time.perf_counter() - mark

    summary = loader.summary
    summary.users = users
    summary.seconds = time.perf_counter() - started
    summary.phase_seconds = {name: round(value, 3) for name, value in phases.items()}
    return summary
