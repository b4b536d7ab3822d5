"""``chengxin scores`` — civic credit points and grades: recompute everyone (nightly from cron), compare
two model versions before switching (distribution shift, band moves, largest movers, histogram SVG),
show the models, check a draft model file (the loader and the fairness guard), explain one subject."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from chengxin.core.clock import today_cn

scores_app = typer.Typer(help="文明信用积分与信用等级 civic credit points and grades", no_args_is_help=True)
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


def _actor() -> object:
    from chengxin.core import audit

    return audit.Actor(kind="cli", name=os.environ.get("USER") or getpass.getuser() or "cli")


@scores_app.command("recompute")
def recompute(
    model: Annotated[str | None, typer.Option("--model", help="模型版本，如 civic-2025.1（默认：各类主体现行模型）")] = None,
    day: Annotated[str | None, typer.Option("--today", help="按哪一天计算（YYYY-MM-DD，默认北京时间今天）")] = None,
) -> None:
    """重新计算全部主体的积分 / 等级（向量化批处理，每个模型一个事务）。"""
    from chengxin.core.audit import Actor
    from chengxin.core.errors import DomainError
    from chengxin.platform import open_platform
    from chengxin.scores import service

    today = _day(day)
    platform = open_platform()
    actor = _actor()
    assert isinstance(actor, Actor)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,} 条记录"),
                  TimeElapsedColumn(), console=err) as progress:
        task = progress.add_task("读取并计分", total=None)

        def advance(rows: int) -> None:
            progress.advance(task, rows)

        try:
            results = service.recompute(platform.db, platform.catalog, today, actor=actor, model_id=model,
                                        progress=advance)
        except DomainError as exc:
            err.print(f"[red]错误[/red] {exc.message}  [dim]({exc.code}: {exc.message_en})[/dim]")
            raise typer.Exit(2) from None
    for r in results:
        bands = "  ".join(f"{k}:{v:,}" for k, v in r.bands.items())
        console.print(f"{r.model_id}: {r.subjects:,} 个主体，{r.seconds:.1f} 秒  {bands}")


@scores_app.command("compare")
def compare(
    old: Annotated[str, typer.Argument(help="现行模型，如 civic-2025.1")],
    new: Annotated[str, typer.Argument(help="拟启用模型，如 civic-2026.1")],
    svg: Annotated[Path, typer.Option("--svg", help="直方图 SVG 写入此文件")] = Path("var/scores-compare.svg"),
    top: Annotated[int, typer.Option("--top", min=1, max=200, help="列出变动最大的主体数")] = 20,
    day: Annotated[str | None, typer.Option("--today", help="按哪一天计算（YYYY-MM-DD）")] = None,
) -> None:
    """对照两个模型版本：等级迁移矩阵、变动最大的主体（脱敏）、分布直方图（SVG，也显示在门户）。"""
    from chengxin.core.audit import Actor
    from chengxin.core.errors import DomainError
    from chengxin.platform import open_platform
    from chengxin.scores import service

    platform = open_platform()
    actor = _actor()
    assert isinstance(actor, Actor)
    try:
        with console.status("计算两个模型下的分布…"):
            c = service.compare(platform.db, platform.catalog, old, new, _day(day), actor=actor, top=top)
    except DomainError as exc:
        err.print(f"[red]错误[/red] {exc.message}  [dim]({exc.code}: {exc.message_en})[/dim]")
        raise typer.Exit(2) from None
    console.print(f"[bold]{c.old.id} → {c.new.id}[/bold]  {c.subjects:,} 个主体，按 {c.day} 计算，"
                  f"平均变动 {c.mean_delta:+.1f} 分")
    table = Table(title="等级迁移（行：现行模型；列：新模型）")
    table.add_column("")
    for b in c.new.bands:
        table.add_column(b.name_zh, justify="right")
    table.add_column("合计", justify="right")
    for i, b in enumerate(c.old.bands):
        row = c.matrix[i]
        table.add_row(b.name_zh, *[(f"[bold]{n:,}[/bold]" if i == j else f"{n:,}") for j, n in enumerate(row)],
                      f"{sum(row):,}")
    table.add_row("合计", *[f"{sum(r[j] for r in c.matrix):,}" for j in range(len(c.new.bands))], f"{c.subjects:,}")
    console.print(table)
    movers = Table(title="变动最大的主体（脱敏显示）")
    for col in ("主体", "名称", "现行", "新", "变动", "等级"):
        movers.add_column(col)
    for m in c.movers:
        movers.add_row(str(m.display_id), m.display_name, str(m.old_total), str(m.new_total), f"{m.delta:+d}",
                       f"{m.old_band} → {m.new_band}")
    console.print(movers)
    svg.parent.mkdir(parents=True, exist_ok=True)
    svg.write_text(c.svg, encoding="utf-8")
    console.print(f"直方图：{svg}（门户 /scores 显示最近一次对照）")


@scores_app.command("models")
def models() -> None:
    """列出全部模型版本及其生效日期。"""
    from chengxin.platform import open_platform
    from chengxin.scores.model import get_models

    platform = open_platform()
    table = Table(title="积分 / 等级模型")
    for col in ("模型", "名称", "主体", "生效", "失效", "基础分", "范围", "等级"):
        table.add_column(col)
    today = today_cn()
    for m in sorted(get_models(platform.catalog).by_id.values(), key=lambda m: (m.family, m.effective_from)):
        mark = " [green](现行)[/green]" if m.in_force_on(today) else ""
        table.add_row(m.id + mark, m.name_zh, m.subject_kind.value, str(m.effective_from), str(m.effective_to or "—"),
                      str(m.base), f"{m.range_min}–{m.range_max}", " ".join(b.name_zh for b in m.bands))
    console.print(table)


@scores_app.command("check")
def check(file: Annotated[Path, typer.Argument(help="模型文件（YAML）", exists=True, dir_okay=False)]) -> None:
    """检查一个模型文件（草案）：格式、目录项、公平性约束。"""
    from chengxin.catalog.loader import load_catalog
    from chengxin.scores.model import FairnessViolation, ModelError, read_model_text

    try:
        model = read_model_text(file.read_text(encoding="utf-8"), load_catalog(), file=file.name)
    except FairnessViolation as exc:
        err.print(f"[red]公平性约束[/red] {exc.where}: {exc.message_zh}  [dim]({exc.message_en})[/dim]")
        raise typer.Exit(2) from None
    except ModelError as exc:
        err.print(f"[red]错误[/red] {exc.where}: {exc.message_zh}  [dim]({exc.message_en})[/dim]")
        raise typer.Exit(2) from None
    console.print(f"{model.id}: 通过（{len(model.items)} 个目录项，{len(model.bands)} 个等级）")


@scores_app.command("explain")
def explain(
    subject_id: Annotated[int, typer.Argument(help="主体编号（subject id）")],
    purpose: Annotated[str, typer.Option("--purpose", help="查询目的（记入查询使用登记）")],
    model: Annotated[str | None, typer.Option("--model", help="模型版本（默认现行）")] = None,
    day: Annotated[str | None, typer.Option("--today", help="按哪一天计算（YYYY-MM-DD）")] = None,
) -> None:
    """一个主体的积分及其说明（记入查询使用登记）。"""
    from chengxin.core.audit import Actor
    from chengxin.core.errors import DomainError
    from chengxin.disclosure.service import log_query
    from chengxin.platform import open_platform
    from chengxin.scores import service

    platform = open_platform()
    actor = _actor()
    assert isinstance(actor, Actor)
    if not purpose.strip():
        err.print("[red]错误[/red] 请说明查询目的")
        raise typer.Exit(2)
    try:
        with platform.db.read() as session:
            score = service.compute_one(session, platform.catalog, subject_id, _day(day), model_id=model)
    except DomainError as exc:
        err.print(f"[red]错误[/red] {exc.message}  [dim]({exc.code}: {exc.message_en})[/dim]")
        raise typer.Exit(2) from None
    with platform.db.write() as session:
        log_query(session, subject_id=subject_id, reader_kind="staff", reader_name=actor.name, purpose=purpose.strip(),
                  basis=service.STAFF_BASIS, channel="api", detail={"read": "score", "via": "cli", "model": score.model_id})
    console.print(f"[bold]{score.model_id}[/bold] {score.day}: {score.total} 分 · {score.band_name_zh}")
    for d in score.dimensions:
        console.print(f"  {d.name_zh}: {d.total:+d}" + ("（已封顶）" if d.capped else ""))
    for c in score.contributions:
        console.print(f"  {c.decision_date} {c.name_zh} {c.severity or ''} {c.points:+d}"
                      f"（原始 {c.raw_points:+d} × {c.weight_milli / 1000:g}）")
    for ch in score.changes:
        console.print(f"  · {ch.text_zh}")
