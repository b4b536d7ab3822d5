"""Set-up shared by the e-commerce browser tests: the platform 龙城优选 and its shops, through the service layer."""

from __future__ import annotations

from typing import Any

from chengxin.core.audit import SYSTEM
from chengxin.core.clock import today_cn
from chengxin.ecommerce.trade import service
from chengxin.platform import Platform
from chengxin.records.service import ApiRow
from factories import uscc_for


def register_longcheng(platform: Platform, operator_n: int) -> None:
    """The platform 龙城优选 (code ``longcheng``), its operator's USCC ``uscc_for(operator_n)``."""
    with platform.db.write() as session:
        service.register_platform(session, platform.keyring, uscc=uscc_for(operator_n), code="longcheng",
                                  name="龙城优选", url="https://longcheng.example",
                                  operator_name="常州龙城优选电子商务有限公司", actor=SYSTEM)


def push_shops(platform: Platform, shops: list[dict[str, Any]]) -> None:
    """The platform reports these shops (as its API would); every row must be accepted."""
    receipt = service.ingest_shops(platform.db, platform.keyring, [ApiRow(i, s) for i, s in enumerate(shops, start=1)],
                                   actor=SYSTEM, platform="longcheng", channel="api", today=today_cn())
    assert receipt.rejected == 0, receipt.rejections
