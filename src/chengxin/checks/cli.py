"""``chengxin checks`` — the batch check from the command line, the statistics, the measures list."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from chengxin.core import audit
from chengxin.core.clock import today_cn
from chengxin.core.errors import DomainError

checks_app = typer.Typer(help="联合奖惩核查：批量核查、成效统计、措施清单 credit checks", no_args_is_help=True)
console = Console()
PHASES = {"read": "读取文件", "lookup": "查找主体", "write": "写入核查记录"}


def _department_ok(department: str, departments: dict[str, object]) -> bool:
    if department.startswith("platform:"):
        from chengxin.core.identifiers import is_valid_uscc

        return is_valid_uscc(department[9:])
    return department in departments


@checks_app.command("batch")
def batch(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".csv / .xlsx / .jsonl，列：主体标识(subject)")],
    scenario: Annotated[str, typer.Option("--scenario", "-s", help="核查场景代码（chengxin checks measures 可查）")],
    department: Annotated[str, typer.Option("--department", "-d", help="发起核查的单位代码，或 platform:<USCC>")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="结果文件（.csv 或 .xlsx），默认与输入同目录")] = None,
) -> None:
    """批量核查一个文件中的主体（最多 10 万个），结果写入 CSV/xlsx（错误行附代码与中文说明）。"""
    from chengxin.checks.batch import result_csv, result_xlsx, run_batch
    from chengxin.checks.service import Checker, get_batch_row
    from chengxin.platform import open_platform

    platform = open_platform()
    if not _department_ok(department, platform.catalog.departments):  # type: ignore[arg-type]
        console.print(f"[red]未知的单位：{department}[/red]")
        raise typer.Exit(2)
    actor = audit.Actor(kind="cli", name=getpass.getuser(), department_code=department)
    checker = Checker(platform.db, platform.keyring, mode="sync")
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as bar:
            task = bar.add_task("读取文件", total=None)

            def progress(phase: str, done: int, total: int) -> None:
                bar.update(task, description=PHASES.get(phase, phase), completed=done, total=total or None)

            summary = run_batch(checker, actor, file, file.name, scenario, progress=progress)
        data = result_csv(checker, get_batch_row(checker, summary.id))
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/red] ({exc.code})")
        raise typer.Exit(1) from None
    finally:
        checker.close()
    target = out or file.with_name(f"{file.stem}.核查结果.csv")
    target.write_bytes(result_xlsx(data) if target.suffix.lower() == ".xlsx" else data)
    console.print(f"批量核查 {summary.id}：{summary.rows:,} 行，登记主体 {summary.found:,}，命中名单 {summary.hits:,}，"
                  f"行错误 {summary.errors:,}，用时 {summary.seconds:.1f} 秒；结果：{target}")


@checks_app.command("stats")
def stats(department: Annotated[str | None, typer.Option("--department", "-d")] = None) -> None:
    """联合奖惩成效统计（各单位、各场景）。"""
    from chengxin.checks.service import check_stats
    from chengxin.measures.loader import measure_book
    from chengxin.platform import open_platform

    platform = open_platform()
    with platform.db.read() as session:
        result = check_stats(session, measure_book(), today_cn(), department=department)
    table = Table("单位", "场景", "核查", "命中", "返回措施", "已反馈", f"超{result.due_days}天未反馈", "惩戒", "激励")
    for x in [*result.lines, result.totals]:
        table.add_row(x.department_code or "合计", x.scenario, str(x.checks), str(x.hits), str(x.with_measures),
                      str(x.feedback), str(x.unanswered), str(x.applied_by_kind.get("restriction", 0)),
                      str(x.applied_by_kind.get("convenience", 0)))
    console.print(table)


@checks_app.command("measures")
def measures(scenario: Annotated[str | None, typer.Option("--scenario", "-s")] = None) -> None:
    """列出今日有效的奖惩措施（及场景）。"""
    from chengxin.measures.loader import measure_book

    book = measure_book()
    day = today_cn()
    table = Table("代码", "名单", "类别", "措施", "场景")
    for m in book.measures_on(day):
        if scenario is None or scenario in m.scenarios:
            table.add_row(m.code, m.list_kind, m.kind, m.name_zh, ",".join(m.scenarios))
    console.print(table)
    console.print("场景：" + "，".join(f"{s.code} {s.name_zh}" for s in book.scenarios_on(day)))
