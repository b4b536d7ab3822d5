"""``chengxin lists`` — propose entries by rule (the scan), end entries whose term is over (run both
from cron, e.g. every night, after ``chengxin scores recompute``: score-band criteria read the stored
scores), show one entry, check the criteria file.

The credit check never waits for ``expire``: it reads each membership's term itself
(``lists.status.current_memberships``); the job moves the entries to ``ended`` and tells subscribers.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from chengxin.core.clock import CHINA

lists_app = typer.Typer(help="信用名单：按规则提出拟列入、期满移出、查看 lists", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _now(day: str | None) -> dt.datetime:
    if not day:
        return dt.datetime.now(dt.UTC)
    try:
        return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(12, 0), CHINA).astimezone(dt.UTC)
    except ValueError:
        raise typer.BadParameter("日期格式应为 YYYY-MM-DD", param_hint="--as-of") from None


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=False)


@lists_app.command("propose")
def propose(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只列出将提出的拟列入，不写入")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="按该日（北京时间）的认定标准扫描，默认今天")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="每类名单本次最多提出的条数（其余下次继续）")] = None,
) -> None:
    """按现行认定标准扫描全部主体的有效信用记录和已存的信用积分等级，提出拟列入（幂等：不重复提出）。

    以积分等级为条件的标准（如 red.civic_excellent）读取已存的积分（score_current），请先运行
    `chengxin scores recompute` 再扫描；没有已存积分的主体不符合此类条件。
    """
    from chengxin.core.audit import Actor
    from chengxin.lists.service import propose_by_rules
    from chengxin.platform import open_platform

    platform = open_platform()
    actor = Actor(kind="cli", name=os.environ.get("USER") or getpass.getuser() or "cli")
    with _progress() as progress:
        task = progress.add_task("扫描主体 scanning subjects", total=None)

        def tick(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        if dry_run:
            with platform.db.read() as session:
                run = propose_by_rules(session, platform.catalog, now=_now(as_of), dry_run=True, actor=actor,
                                       limit=limit, progress=tick)
        else:
            with platform.db.write() as session:
                run = propose_by_rules(session, platform.catalog, now=_now(as_of), actor=actor, limit=limit,
                                       progress=tick)
    table = Table("主体", "名单", "认定标准", "依据记录", "条目")
    for p in run.proposals[:50]:
        table.add_row(p.subject_name, p.list_kind, p.criterion_code, ", ".join(map(str, p.record_ids)),
                      str(p.entry_id or "（试运行）"))
    if run.proposals:
        console.print(table)
    verb = "将提出" if dry_run else "已提出"
    console.print(f"{run.day.isoformat()}：扫描 {run.subjects_scanned} 个主体，{verb}拟列入 {len(run.proposals)} 条；"
                  f"已有办理中或有效条目跳过 {run.skipped_open} 条，同一记录此前已处理跳过 {run.skipped_seen} 条")


@lists_app.command("expire")
def expire(
    as_of: Annotated[str | None, typer.Option("--as-of", help="按该日（北京时间）处理，默认今天")] = None,
) -> None:
    """将有效期已届满的条目移出（最后一日为 term_to，次日起不再有效）。"""
    from chengxin.lists.service import expire as expire_entries
    from chengxin.platform import open_platform

    platform = open_platform()
    with _progress() as progress, platform.db.write() as session:
        task = progress.add_task("期满移出 expiring", total=None)
        ids = expire_entries(session, now=_now(as_of),
                             progress=lambda done, total: progress.update(task, completed=done, total=total))
    console.print(f"期满移出 {len(ids)} 条" + (f"（编号 {', '.join(map(str, ids[:50]))}）" if ids else ""))


@lists_app.command("show")
def show(entry_id: Annotated[int, typer.Argument(help="条目编号")]) -> None:
    """查看一个名单条目（主体为脱敏形式），含办理记录。"""
    from chengxin.core.audit import Actor
    from chengxin.core.errors import DomainError
    from chengxin.lists.service import entry_detail
    from chengxin.platform import open_platform

    platform = open_platform()
    actor = Actor(kind="cli", name=os.environ.get("USER") or getpass.getuser() or "cli")
    try:
        with platform.db.write() as session:
            e = entry_detail(session, platform.catalog, entry_id=entry_id, actor=actor)
    except DomainError as exc:
        err.print(f"[red]错误[/red] {exc.message}  [dim]({exc.code})[/dim]")
        raise typer.Exit(2) from None
    console.print(f"[bold]{e.list_zh} #{e.id}[/bold] · {e.subject_name} ({e.subject_display_id}) · {e.state_zh}")
    console.print(f"认定标准：{e.criterion_code} {e.criteria_version or ''} · 认定部门：{e.department_name_zh}")
    console.print(f"理由：{e.reasons_zh}")
    console.print(f"依据：{e.basis_zh}")
    if e.decision_no:
        console.print(f"决定文号：{e.decision_no} · 有效期：{e.term_from} 至 {e.term_to or '决定移出时'}")
    if e.ended_on:
        console.print(f"移出：{e.ended_on} · {e.end_reason}")
    for h in e.history:
        console.print(f"  {h.at:%Y-%m-%d %H:%M} {h.label_zh} → {h.to_state_zh} · {h.actor}"
                      + (f" · {h.reason}" if h.reason else ""))


@lists_app.command("criteria")
def criteria(as_of: Annotated[str | None, typer.Option("--as-of", help="某日有效的标准，默认今天")] = None) -> None:
    """检查并列出认定标准（data/criteria.yaml）。"""
    from chengxin.catalog.loader import load_catalog
    from chengxin.lists.criteria import CriteriaError, load_criteria

    try:
        found = load_criteria(load_catalog())
    except CriteriaError as exc:
        err.print(f"[red]认定标准有误[/red] {exc}")
        raise typer.Exit(2) from None
    day = _now(as_of).astimezone(CHINA).date()
    table = Table("代码", "版本", "名单", "名称", "有效期", "告知/公示")
    for c in found.in_force(day):
        table.add_row(c.code, c.version, c.list_kind, c.name_zh, c.term.text if c.term else "至移出",
                      "告知" if c.notice_required else "公示")
    console.print(table)
    console.print(f"陈述申辩期 {found.defence_working_days(day)} 个工作日；红名单公示期 {found.red_publicity_days(day)} 日")
