"""``chengxin ecommerce complaints ingest FILE -d samr`` — a complaint department's file of complaints about
shops (JSON Lines, CSV or Excel), with a progress bar and the receipt.

The command joins the one ``chengxin ecommerce`` group of issue #7 (``ecommerce.trade.cli.ecommerce_app``);
importing this module registers it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from chengxin.core.errors import DomainError
from chengxin.ecommerce.trade.cli import _actor, _fail, console, ecommerce_app, err

__all__ = ["complaints_app"]

complaints_app = typer.Typer(help="电商投诉举报 complaints about shops", no_args_is_help=True)
ecommerce_app.add_typer(complaints_app, name="complaints")


@complaints_app.command("ingest")
def ingest(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help=".jsonl、.csv 或 .xlsx 文件（表头用中文或字段代码）")],
    department: Annotated[str, typer.Option("--department", "-d", help="报送单位代码，如 samr（12315）、gov_service（12345）")],
) -> None:
    """报送一个部门受理的电商投诉举报文件（进度条），打印回执；有被拒绝的行时退出码为 1。"""
    from chengxin.core.db import utcnow
    from chengxin.ecommerce.complaints import service
    from chengxin.platform import open_platform

    platform = open_platform()
    progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                        TimeRemainingColumn(), console=err, transient=False)
    try:
        with progress:
            task = progress.add_task("报送投诉举报", total=file.stat().st_size)
            receipt = service.ingest_file(
                platform.db, file, actor=_actor(), department=department, channel="cli", now=utcnow(),
                filename=file.name, max_bytes=platform.settings.max_upload_bytes,
                progress=lambda done, total: progress.update(task, completed=done, total=total))
    except DomainError as exc:
        _fail(exc)
        return
    console.print(f"回执 batch {receipt.batch_id}（{receipt.department}）：收到 {receipt.received}，新增 {receipt.accepted}，"
                  f"未变 {receipt.unchanged}，更正 {receipt.corrected}，拒绝 {receipt.rejected}")
    for w in receipt.warnings:
        console.print(f"[yellow]提示[/yellow] {w.message}")
    for r in receipt.rejections[:50]:
        for p in r.problems:
            console.print(f"  第 {r.row_no} 行 {r.source_id or ''} [{p.field or ''}] {p.message} [dim]({p.code})[/dim]")
    if receipt.rejected > 50:
        console.print(f"  …… 其余 {receipt.rejected - 50} 行见 GET /api/v1/ecommerce/batches/{receipt.batch_id}")
    if receipt.rejected:
        raise typer.Exit(1)
