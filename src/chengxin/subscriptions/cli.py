"""``chengxin webhooks`` — the outbox worker of the subscriptions and its state.

``chengxin webhooks run`` runs until Ctrl-C (or SIGTERM): the attempt in flight finishes and is
recorded, leased deliveries not yet sent are handed back, nothing is lost. ``--once`` does one pass
(dispatch everything, send what is due) and exits — for cron or a systemd timer. Several workers may
run at once on PostgreSQL (rows are leased with SKIP LOCKED); on SQLite run one. It is deliberately
not started inside ``chengxin serve``: uvicorn runs one copy per worker process, and the API should
not share its threads with slow receivers (DESIGN.md, "don't start a scheduler inside web workers").
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

webhooks_app = typer.Typer(help="名单变动订阅推送 webhooks (outbox worker)", no_args_is_help=True)
console = Console()


@webhooks_app.command("run")
def run(once: Annotated[bool, typer.Option("--once", help="只处理一轮后退出 one pass, then exit")] = False) -> None:
    """生成并发送待推送的名单变动通知（重试按退避计划）。Dispatch list changes and send due webhooks."""
    from chengxin.platform import open_platform
    from chengxin.subscriptions.sender import PassStats, run_forever, run_once

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # our own line per attempt says more
    platform = open_platform()
    if once:
        stats = run_once(platform)
        console.print(f"新建推送 {stats.dispatched} 条；发送 {stats.attempted} 次：送达 {stats.delivered}，"
                      f"待重试 {stats.retried}，失败 {stats.failed}")
        return
    stop = threading.Event()

    def _stop(_signum: int, _frame: object) -> None:
        console.print("收到停止信号，完成当前发送后退出 (stopping after the attempt in flight)…")
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    def _report(stats: PassStats) -> None:
        console.print(f"新建推送 {stats.dispatched}；发送 {stats.attempted}（送达 {stats.delivered}，"
                      f"重试 {stats.retried}，失败 {stats.failed}）")

    console.print("推送进程已启动，Ctrl-C 停止 (webhook worker running; Ctrl-C to stop)")
    total = run_forever(platform, stop, on_pass=_report)
    console.print(f"已停止。共新建推送 {total.dispatched}，发送 {total.attempted}，送达 {total.delivered}")


@webhooks_app.command("status")
def status() -> None:
    """每个订阅的状态与推送统计。Subscriptions and their delivery counts."""
    from chengxin.platform import open_platform
    from chengxin.subscriptions.service import office_overview

    with open_platform().db.read() as session:
        views = office_overview(session)
    table = Table("编号", "订阅方", "地址", "状态", "待推送", "已送达", "失败")
    for v in views:
        table.add_row(str(v.id), v.owner_code, v.url, v.state_zh, str(v.counts["pending"]),
                      str(v.counts["delivered"]), f"[bold red]{v.counts['failed']}[/bold red]" if v.counts["failed"]
                      else "0")
    console.print(table)


@webhooks_app.command("redeliver")
def redeliver(delivery_id: Annotated[int, typer.Argument(help="推送编号 delivery id")]) -> None:
    """重新推送一条失败的推送（新一轮重试）。Send a failed delivery again."""
    import getpass

    from chengxin.core.audit import Actor
    from chengxin.core.db import utcnow
    from chengxin.core.errors import DomainError
    from chengxin.platform import open_platform
    from chengxin.subscriptions.service import redeliver as do_redeliver

    actor = Actor(kind="staff", name=f"cli:{getpass.getuser()}", role="admin")
    try:
        with open_platform().db.write() as session:
            view = do_redeliver(session, actor=actor, delivery_id=delivery_id, now=utcnow())
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/red] ({exc.code})")
        raise typer.Exit(1) from None
    console.print(f"推送 {view.id} 已重新排队 (queued again)")
