"""``chengxin ecommerce complaints ingest FILE -d samr`` — a complaint department's file of complaints about
shops (JSON Lines, CSV or Excel), with a progress bar and the receipt.

The command joins the one ``chengxin ecommerce`` group of issue #7 (``ecommerce.trade.cli.ecommerce_app``);
importing this module registers it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chengxin.ecommerce.trade.cli import _actor, ecommerce_app, ingest_with_receipt

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
    ingest_with_receipt(file, "报送投诉举报", lambda step: service.ingest_file(
        platform.db, file, actor=_actor(), department=department, channel="cli", now=utcnow(),
        filename=file.name, max_bytes=platform.settings.max_upload_bytes, progress=step), show_department=True)
