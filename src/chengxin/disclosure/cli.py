"""``chengxin display`` — display periods (公示期限): note the records whose maximum display period
has ended (``expire``, daily from cron; idempotent, safe any time) and show how many left display
each day (``ended``). The public file hides an expired record on its own, job or no job."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from chengxin.core.clock import today_cn

display_app = typer.Typer(help="公示期限 display periods", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _day(raw: str | None) -> dt.date:
    if not raw:
        return today_cn()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        err.print(f"[red]错误[/red] 日期格式应为 YYYY-MM-DD：{raw}")
        raise typer.Exit(2) from None


@display_app.command("expire")
def display_expire(
    day: Annotated[str | None, typer.Option("--today", help="按哪一天计算（YYYY-MM-DD，默认北京时间今天）")] = None,
    batch: Annotated[int, typer.Option("--batch", min=1000, help="每个事务处理的记录编号范围")] = 50_000,
) -> None:
    """记载公示期满的记录（已记载的不重复记载；可随时重复运行）。"""
    from chengxin.core import audit
    from chengxin.disclosure.expiry import expire_displays
    from chengxin.platform import open_platform

    today = _day(day)
    platform = open_platform()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err) as progress:
        task = progress.add_task("公示期满", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = expire_displays(platform.db, platform.catalog, today=today, batch_ids=batch, progress=advance,
                                 actor=audit.Actor(kind="cli", name="display-expire"))
    err.print(f"{today.isoformat()}：检查记录编号 {result.scanned_ids:,} 个，新记载公示期满 {result.marked:,} 条，"
              f"用时 {result.seconds:.1f} 秒")
    for ended_on, count in sorted(result.by_day.items())[-10:]:
        console.print(f"{ended_on.isoformat()}\t{count}")


@display_app.command("ended")
def display_ended(
    days: Annotated[int, typer.Option("--days", min=1, max=3660, help="最近多少天")] = 30,
    day: Annotated[str | None, typer.Option("--today", help="截至哪一天（默认今天）")] = None,
) -> None:
    """每日停止公示（公示期满）的记录数。"""
    from chengxin.disclosure.expiry import ended_per_day
    from chengxin.platform import open_platform

    until = _day(day)
    with open_platform().db.read() as session:
        rows = ended_per_day(session, since=until - dt.timedelta(days=days - 1), until=until)
    for ended_on, count in rows:
        console.print(f"{ended_on.isoformat()}\t{count}")
    err.print(f"共 {sum(n for _, n in rows):,} 条")
