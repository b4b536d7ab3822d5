"""``chengxin monitor`` — abnormal-access detection (run ``chengxin monitor scan`` from cron every few minutes)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

monitor_app = typer.Typer(help="异常访问监测 abnormal access detection", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@monitor_app.command("scan")
def monitor_scan(
    hours: Annotated[float, typer.Option("--hours", min=0.01, help="回看时长（小时） look-back window")] = 24,
) -> None:
    """扫描查询使用登记，生成异常访问告警（可重复运行，不会重复告警）。"""
    from chengxin.monitoring.service import scan
    from chengxin.platform import open_platform

    platform = open_platform()
    now = dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(hours=hours)
    with err.status("扫描中…"), platform.db.write() as session:
        result = scan(session, since, now, now, progress=lambda msg: err.print(f"[dim]{msg}[/dim]"))
    table = Table(title="异常访问监测 scan", show_header=False)
    table.add_row("窗口 window", f"{since:%Y-%m-%d %H:%M} – {now:%Y-%m-%d %H:%M} UTC")
    table.add_row("规则版本 rules", result.rules_version)
    table.add_row("访问记录 reads", str(result.events))
    table.add_row("命中 findings", str(result.findings))
    table.add_row("新告警 new alerts", str(result.raised))
    table.add_row("更新 updated", str(result.updated))
    console.print(table)


@monitor_app.command("list")
def monitor_list(show_all: Annotated[bool, typer.Option("--all", help="包括已处理的告警")] = False) -> None:
    """列出告警（默认只列未处理的）。"""
    from chengxin.monitoring.service import list_alerts
    from chengxin.platform import open_platform

    with open_platform().db.read() as session:
        rows = list_alerts(session, status=None if show_all else "open")
        for a in rows:  # one line per alert: easy to grep or mail from cron
            console.print(f"#{a.id}\t{a.status}\t{a.severity}\t{a.kind}\t{a.reader}\t"
                          f"{a.first_at:%Y-%m-%d %H:%M} – {a.last_at:%Y-%m-%d %H:%M} UTC\t×{a.count}",
                          soft_wrap=True, markup=False, highlight=False)
    err.print(f"共 {len(rows)} 条告警")
