"""``chengxin objections`` — the scheduled escalation of overdue objections (run it from cron, e.g.
every working day at 08:00) and the queues' counts. The console counts overdue cases on the query
path too, so a missed run delays only the escalation mark, never what the staff see."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from chengxin.core.clock import CHINA, today_cn

objections_app = typer.Typer(help="异议：逾期督办与队列统计 objections", no_args_is_help=True)
console = Console()


def _now(day: str | None) -> dt.datetime:
    if not day:
        return dt.datetime.now(dt.UTC)
    try:
        # A given day: as at the end of that Beijing day (every deadline of the day has passed).
        return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(23, 59), CHINA).astimezone(dt.UTC)
    except ValueError:
        raise typer.BadParameter("日期格式应为 YYYY-MM-DD", param_hint="--as-of") from None


@objections_app.command("escalate")
def escalate(
    as_of: Annotated[str | None, typer.Option("--as-of", help="按该日（北京时间）处理，默认今天")] = None,
) -> None:
    """把超过当前期限的异议标为逾期督办（系统操作，记入办理记录），并办结复核申请期已满的答复。"""
    from chengxin.objections.service import escalate_overdue
    from chengxin.platform import open_platform

    platform = open_platform()
    with platform.db.write() as session:
        done = escalate_overdue(session, platform.catalog, platform.keyring, now=_now(as_of))
    console.print(f"逾期督办 {len(done.escalated)} 件" + (f"（编号 {', '.join(map(str, done.escalated))}）"
                                                     if done.escalated else ""))
    console.print(f"复核申请期满办结 {len(done.finalized)} 件")


@objections_app.command("status")
def status(department: Annotated[str | None, typer.Option("-d", "--department", help="只看某单位")] = None) -> None:
    """各环节办理中、即将到期（2 个工作日内）、已逾期的件数。"""
    from chengxin.objections.service import console_counts
    from chengxin.platform import open_platform
    from chengxin.workdays.service import work_calendar

    with open_platform().db.read() as session:
        lines = console_counts(session, work_calendar(session), today_cn(), department)
    table = Table("队列", "办理中", "即将到期", "已逾期")
    for line in lines:
        table.add_row(line.label_zh, str(line.open), str(line.due_soon),
                      f"[bold red]{line.overdue}[/bold red]" if line.overdue else "0")
    console.print(table)
