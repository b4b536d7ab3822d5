"""``chengxin calendar`` — the working-day schedule (enter a year from the State Council notice)."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from chengxin.core import audit
from chengxin.core.clock import today_cn
from chengxin.core.errors import DomainError

calendar_app = typer.Typer(help="工作日与节假日安排 working-day calendar", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
SOURCE_ZH = {"chinese_calendar": "chinese-calendar 收录", "platform": "本平台录入", None: "未录入（按周一至周五估算）"}


@calendar_app.command("status")
def calendar_status() -> None:
    """近几年节假日安排的录入情况（缺少的年份会导致期限只能估算）。"""
    from chengxin.platform import open_platform
    from chengxin.workdays.service import years_overview

    with open_platform().db.read() as session:
        years = years_overview(session, today_cn())
    for y in years:
        style = "green" if y.published else "bold red"
        console.print(f"[{style}]{y.year}[/{style}]\t{SOURCE_ZH[y.source]}\t{y.notice or ''}")
    if any(not y.published for y in years):
        err.print("[bold red]警告[/bold red] 有年份尚未录入节假日安排：落在这些年份的期限按周一至周五估算。"
                  "国务院办公厅通知发布后请用 `chengxin calendar set YEAR FILE --notice …` 录入。")


@calendar_app.command("show")
def calendar_show(year: int) -> None:
    """打印某年的安排（可编辑后用 set 录入）。"""
    from chengxin.platform import open_platform
    from chengxin.workdays.service import year_schedule

    with open_platform().db.read() as session:
        schedule = year_schedule(session, year)
    err.print(f"# {year}：{SOURCE_ZH[schedule.source]} {schedule.notice or ''}")
    if schedule.days:
        console.print(schedule.text, markup=False, highlight=False)


@calendar_app.command("set")
def calendar_set(
    year: int,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="每行“日期[~日期] 名称 休/班”，UTF-8")],
    notice: Annotated[str, typer.Option("--notice", help="所依据的通知名称或文号")],
) -> None:
    """录入（或替换）某年的节假日与调休安排。"""
    from chengxin.platform import open_platform
    from chengxin.workdays.service import set_year_schedule

    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        err.print("[red]错误[/red] 文件不是 UTF-8 编码  [dim](calendar.encoding)[/dim]")
        raise typer.Exit(2) from None
    actor = audit.Actor(kind="cli", name=os.environ.get("USER") or getpass.getuser() or "cli")
    try:
        with open_platform().db.write() as session:
            schedule = set_year_schedule(session, year=year, text=text, notice=notice, actor=actor,
                                         now=dt.datetime.now(dt.UTC))
    except DomainError as exc:
        err.print(f"[red]错误[/red] {exc.message}  [dim]({exc.code}: {exc.message_en})[/dim]")
        raise typer.Exit(2) from None
    off = sum(d.kind == "holiday" for d in schedule.days)
    err.print(f"已录入 {year} 年安排：放假 {off} 天，调休上班 {len(schedule.days) - off} 天（{schedule.notice}）")
