"""``chengxin ecommerce`` — register platforms, ingest platforms' files of shops, orders and ratings (with a
progress bar and the receipt), write their Excel templates, and load the e-commerce demo into an existing
installation.

``ecommerce_app`` is the one ``chengxin ecommerce`` group of issue #7: the other e-commerce features add their
commands to it (``ecommerce_app.command(...)`` / ``ecommerce_app.add_typer(...)``) instead of a second group."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from chengxin.core import audit
from chengxin.core.errors import DomainError

if TYPE_CHECKING:
    from chengxin.records.service import Receipt

Step = Callable[[int, int], None]  # (bytes read, file size)

ecommerce_app = typer.Typer(help="电子商务信用：平台、店铺、订单、评价 e-commerce", no_args_is_help=True)
platform_app = typer.Typer(help="电商平台登记 platforms", no_args_is_help=True)
ecommerce_app.add_typer(platform_app, name="platform")
console = Console()
err = Console(stderr=True)


def _actor() -> audit.Actor:
    return audit.Actor(kind="cli", name=os.environ.get("USER") or getpass.getuser() or "cli")


def _fail(exc: DomainError) -> None:
    err.print(f"[red]错误[/red] {exc.message}  [dim]({exc.code}: {exc.message_en})[/dim]")
    raise typer.Exit(2)


def ingest_with_receipt(file: Path, description: str, ingest: Callable[[Step], Receipt], *,
                        show_department: bool = False) -> None:
    """What the e-commerce file commands share: a progress bar over the file's bytes while ``ingest(step)`` runs,
    then the receipt (the first 50 rejected rows with field and code), exit code 1 when a row was rejected and
    2 when the file itself was refused."""
    progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                        TimeRemainingColumn(), console=err, transient=False)
    try:
        with progress:
            task = progress.add_task(description, total=file.stat().st_size)
            receipt = ingest(lambda done, total: progress.update(task, completed=done, total=total))
    except DomainError as exc:
        _fail(exc)
        return
    who = f"（{receipt.department}）" if show_department else ""
    console.print(f"回执 batch {receipt.batch_id}{who}：收到 {receipt.received}，新增 {receipt.accepted}，"
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


@platform_app.command("add")
def platform_add(
    uscc: Annotated[str, typer.Option("--uscc", help="平台经营者的统一社会信用代码")],
    code: Annotated[str, typer.Option("--code", help="平台代码（网址用，如 tmall）")],
    name: Annotated[str, typer.Option("--name", help="平台名称")],
    url: Annotated[str | None, typer.Option("--url", help="平台网址")] = None,
    operator_name: Annotated[str | None, typer.Option("--operator-name", help="经营者名称（默认同平台名称）")] = None,
) -> None:
    """登记电商平台（或更新名称、网址）。之后用 ``chengxin api-keys create --platform USCC`` 签发平台密钥。"""
    from chengxin.ecommerce.trade import service
    from chengxin.platform import open_platform

    platform = open_platform()
    try:
        with platform.db.write() as session:
            ref = service.register_platform(session, platform.keyring, uscc=uscc, code=code, name=name, url=url,
                                            operator_name=operator_name, actor=_actor())
    except DomainError as exc:
        _fail(exc)
        return
    console.print(f"已登记电商平台 {ref.name}（{ref.code}），经营者 {ref.operator_name} {ref.uscc}")
    console.print(f"平台密钥：chengxin api-keys create --platform {ref.uscc}")


@platform_app.command("list")
def platform_list() -> None:
    """列出已登记的电商平台及店铺、订单、评价数。"""
    from chengxin.ecommerce.trade import service
    from chengxin.platform import open_platform

    platform = open_platform()
    with platform.db.read() as session:
        rows = service.platform_summaries(session)
    table = Table("代码", "名称", "经营者", "统一社会信用代码", "店铺", "营业中", "订单", "评价")
    for r in rows:
        table.add_row(r.ref.code, r.ref.name, r.ref.operator_name, r.ref.uscc, str(r.shops), str(r.open_shops),
                      str(r.orders), str(r.ratings))
    console.print(table)


@ecommerce_app.command("ingest")
def ingest(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help=".jsonl、.csv 或 .xlsx 文件（Excel 模板：chengxin ecommerce template）")],
    platform_id: Annotated[str, typer.Option("--platform", "-p", help="平台代码或经营者统一社会信用代码")],
    kind: Annotated[str, typer.Option("--kind", "-k", help="shops | orders | ratings")],
) -> None:
    """报送一个平台的店铺、订单或评价文件（进度条），打印回执；有被拒绝的行时退出码为 1。"""
    from chengxin.core.db import utcnow
    from chengxin.ecommerce.trade import service
    from chengxin.platform import open_platform

    if kind not in service.FILE_KINDS:
        raise typer.BadParameter("应为 shops、orders 或 ratings", param_hint="--kind")
    platform = open_platform()
    ingest_with_receipt(file, f"报送 {kind}", lambda step: service.ingest_file(
        platform.db, platform.keyring, file, kind, actor=_actor(), platform=platform_id, channel="cli",
        now=utcnow(), filename=file.name, max_bytes=platform.settings.max_upload_bytes, progress=step))


@ecommerce_app.command("template")
def template(
    kind: Annotated[str, typer.Argument(help="shops | orders | ratings")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="输出文件，默认 ecommerce_<kind>.xlsx")] = None,
) -> None:
    """下载平台报送 Excel 模板（中文表头，批注和“说明”表给出英文代码）；填好后用 ingest 报送。"""
    from chengxin.ecommerce.trade import files

    if kind not in files.KINDS:
        raise typer.BadParameter("应为 shops、orders 或 ratings", param_hint="KIND")
    output = output or Path(f"ecommerce_{kind}.xlsx")
    files.write_kind_template(kind, output)
    console.print(f"模板已写入 {output}（{files.TEMPLATE_TITLES[kind]}）")


@ecommerce_app.command("demo")
def demo() -> None:
    """为已有演示数据的平台补充电商演示数据（3 个平台、约 200 家店铺、数千笔订单和评价；已有则跳过）。"""
    from chengxin.ecommerce.trade.demo import load_trade_demo
    from chengxin.platform import open_platform

    summary = load_trade_demo(open_platform())
    console.print(summary)
