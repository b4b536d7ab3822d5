"""``chengxin notices`` — credit notices (信用告知): the daily job that marks notices whose response
period has passed (run from cron; idempotent). Display never waits for it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console

from chengxin.core.clock import today_cn

notices_app = typer.Typer(help="信用告知 credit notices", no_args_is_help=True)
err = Console(stderr=True)


@notices_app.command("expire")
def notices_expire(
    day: Annotated[str | None, typer.Option("--today", help="按哪一天计算（YYYY-MM-DD，默认北京时间今天）")] = None,
) -> None:
    """把陈述申辩期已满、未回复的信用告知标为“期满未回复”，转入单位决定（可重复运行）。"""
    from chengxin.notices.service import expire_notices
    from chengxin.platform import open_platform
    from chengxin.workdays.service import work_calendar

    today = dt.date.fromisoformat(day) if day else today_cn()
    with err.status("处理中…"), open_platform().db.write() as session:
        count = expire_notices(session, work_calendar(session), today=today, now=dt.datetime.now(dt.UTC))
    err.print(f"{today.isoformat()}：{count} 件信用告知期满未回复，已转入单位决定")
