"""``chengxin commitments`` — the templates in force, one commitment by its number, and the nightly
expiry job (run it from cron, e.g. daily at 01:00; readers see ``expired`` at once anyway, the job
only writes the state change into the case history)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from chengxin.core.clock import CHINA

commitments_app = typer.Typer(help="信用承诺：格式文本、查看、到期处理 commitments", no_args_is_help=True)
console = Console()


@commitments_app.command("templates")
def list_templates(
    as_of: Annotated[str | None, typer.Option("--as-of", help="按该日（YYYY-MM-DD）的现行版本，默认今天")] = None,
) -> None:
    """列出承诺书类型、现行版本、有效期、受理单位和依据（数据文件有误时报告错误所在）。"""
    from chengxin.commitments.templates import TemplateError, templates
    from chengxin.core.clock import today_cn

    day = _day(as_of) or today_cn()
    try:
        found = templates()
    except TemplateError as exc:
        console.print(f"[bold red]承诺书模板数据有误：[/bold red]{exc}")
        raise typer.Exit(1) from None
    table = Table("代码", "名称", "主体", "现行版本", "有效期", "受理单位", "摘要")
    for t in found.values():
        v = t.version_on(day)
        table.add_row(t.code, t.name_zh, "、".join({"person": "自然人", "organization": "单位"}[k]
                                                 for k in sorted(t.subject_kinds)),
                      v.version if v else "（无）", (v.validity.text if v.validity else "长期") if v else "",
                      f"{len(t.acceptors)} 个", v.sha256[:12] if v else "")
    console.print(table)
    for t in found.values():
        v = t.version_on(day)
        if v is not None:
            console.print(f"[bold]{t.code}[/bold] 依据：{v.basis}；受理单位：{', '.join(t.acceptors)}")


def _day(raw: str | None) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise typer.BadParameter("日期格式应为 YYYY-MM-DD", param_hint="--as-of") from None


@commitments_app.command("show")
def show(no: Annotated[str, typer.Argument(help="承诺编号，如 CN-2026-000123-3")]) -> None:
    """显示一项信用承诺的全文、摘要和状态（自然人的承诺：读取记入审计日志）。"""
    import getpass
    import os

    from chengxin.commitments import service
    from chengxin.core import audit
    from chengxin.core.clock import today_cn
    from chengxin.core.errors import DomainError
    from chengxin.platform import open_platform

    platform = open_platform()
    try:
        with platform.db.write() as session:
            c = service.staff_detail(session, platform.catalog, no=no, actor=audit.Actor(kind="cli", name=os.environ.get("USER") or getpass.getuser() or "cli"), today=today_cn(),
                                     purpose="命令行查看信用承诺")
    except DomainError as exc:
        console.print(f"[bold red]{exc.message}[/bold red]")
        raise typer.Exit(1) from None
    console.print(f"[bold]{c.template_name_zh}[/bold]  {c.no}  （{c.state_zh}）")
    console.print(f"承诺主体：{c.subject_name}（{c.subject_display_id}）  受理单位：{c.department_name_zh}")
    console.print(f"签署：{c.signed_on}  {c.channel_zh}  有效期至：{c.valid_until or '长期'}  "
                  f"文本版本：{c.template_version}  公示：{'是' if c.public else '否'}")
    if c.breach_facts:
        console.print(f"[red]违诺认定：{c.breach_facts}（{c.breach_department_name_zh} {c.breach_document_no}，"
                      f"失信记录 {c.breach_record_id}）[/red]")
    console.print()
    console.print(c.text, markup=False, highlight=False)
    console.print()
    console.print(f"SHA-256：{c.text_sha256}  {'与全文一致' if c.hash_ok else '[red]与全文不一致[/red]'}")


@commitments_app.command("expire")
def expire(
    as_of: Annotated[str | None, typer.Option("--as-of", help="按该日（北京时间）处理，默认今天")] = None,
) -> None:
    """把有效期已届满、仍为“履行中”的承诺标为“已到期”（系统操作，记入办理记录）。"""
    from chengxin.commitments.service import expire_due
    from chengxin.platform import open_platform

    day = _day(as_of)
    now = (dt.datetime.combine(day, dt.time(23, 59), CHINA).astimezone(dt.UTC) if day
           else dt.datetime.now(dt.UTC))
    platform = open_platform()
    with platform.db.write() as session:
        done = expire_due(session, now=now)
    console.print(f"到期 {len(done)} 项" + (f"（{', '.join(done[:20])}{' …' if len(done) > 20 else ''}）" if done else ""))
