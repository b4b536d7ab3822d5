"""``chengxin ecommerce detect | risk recompute | assess`` — the jobs of e-commerce risk (run them from cron,
never inside web workers: DESIGN.md "Don't start a scheduler inside web workers").

- ``detect``: one detection run over the orders of the window (progress, then a summary per kind and the
  timings); the shop risk levels are recomputed after it.
- ``risk recompute``: every shop's risk level under the rule in force (nightly: records, lists and ratings
  move without a detection run).
- ``assess --period 2026-Q3``: the platform assessment of a period, printed as the comparable table.

The commands join the one ``chengxin ecommerce`` group of issue #7 (``ecommerce.trade.cli.ecommerce_app``);
importing this module registers them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from chengxin.core.clock import CHINA
from chengxin.core.errors import DomainError
from chengxin.ecommerce.trade.cli import _actor, _fail, console, ecommerce_app, err

__all__ = ["risk_app"]

risk_app = typer.Typer(help="商家信用风险预警 shop risk warning", no_args_is_help=True)
ecommerce_app.add_typer(risk_app, name="risk")


def _now(as_of: str | None) -> dt.datetime:
    """``--as-of YYYY-MM-DD``: the end of that Beijing day; default: now."""
    if not as_of:
        return dt.datetime.now(dt.UTC)
    try:
        day = dt.date.fromisoformat(as_of)
    except ValueError:
        raise typer.BadParameter("日期格式应为 YYYY-MM-DD", param_hint="--as-of") from None
    return dt.datetime.combine(day, dt.time(23, 59, 59), CHINA).astimezone(dt.UTC)


AsOf = Annotated[str | None, typer.Option("--as-of", help="按该日（北京时间）结束时计算，默认现在")]


@ecommerce_app.command("detect")
def detect(as_of: AsOf = None) -> None:
    """刷单炒信、虚假流量、恶意评价、空包裹监测：读取窗口内订单，运行检测，保存线索（重复运行不重复保存）。"""
    from chengxin.ecommerce.risk.service import detect as run
    from chengxin.platform import open_platform

    platform = open_platform()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err) as progress:
        task = progress.add_task("读取订单、评价、物流", total=None)
        read = {"n": 0}

        def step(stage: str, n: int) -> None:
            if stage == "read":
                read["n"] += n
                progress.update(task, description=f"读取订单 {read['n']:,} 笔")
            else:
                progress.update(task, description=f"运行检测（订单 {read['n']:,} 笔）")

        try:
            summary = run(platform.db, now=_now(as_of), actor=_actor(), progress=step)
        except DomainError as exc:
            _fail(exc)
            return
    console.print(f"监测批次 {summary.run_id}：订单 {summary.orders:,}，评价 {summary.ratings:,}，物流 {summary.shipments:,}；"
                  f"检出 {summary.detections} 条 —— 新增 {summary.new}，更新 {summary.updated}，未变 {summary.unchanged}，"
                  f"不再检出 {summary.resolved}")
    table = Table("线索类型", "条数")
    from chengxin.ecommerce.risk.rules import KIND_ZH

    for kind, n in sorted(summary.by_kind.items()):
        table.add_row(KIND_ZH.get(kind, kind), str(n))
    console.print(table)
    console.print("耗时：" + "，".join(f"{k} {v:.2f}s" for k, v in summary.timings.items()))


@risk_app.command("recompute")
def recompute(as_of: AsOf = None) -> None:
    """重算每家店铺的信用风险等级（等级变化推送给订阅的平台）。"""
    from chengxin.ecommerce.risk.rules import LEVEL_ZH
    from chengxin.ecommerce.risk.warning import recompute as run
    from chengxin.platform import open_platform

    platform = open_platform()
    summary = run(platform.db, now=_now(as_of), actor=_actor())
    console.print(f"已重算 {summary.shops:,} 家店铺（规则 {summary.parameter_version}），等级变化 {summary.changed} 家")
    console.print("，".join(f"{LEVEL_ZH.get(k, k)} {summary.by_level.get(k, 0):,}" for k in LEVEL_ZH))


@ecommerce_app.command("assess")
def assess(
    period: Annotated[str, typer.Option("--period", help="评估期间：2026-Q3、2026-H1、2026-07 或 2026")],
    as_of: AsOf = None,
) -> None:
    """电商平台信用状况评估（第三方评估）：按期间评估每个平台，打印可比较的评估表。"""
    from chengxin.ecommerce.risk.assessment import assess as run
    from chengxin.platform import open_platform

    platform = open_platform()
    try:
        rows = run(platform.db, period=period, now=_now(as_of), actor=_actor())
    except DomainError as exc:
        _fail(exc)
        return
    table = Table("平台", "得分", "等级", "店铺", "有线索店铺", "确认线索", "及时处置", "亮照覆盖", "投诉")
    for r in rows:
        table.add_row(f"{r.platform_name}（{r.platform_code}）", f"{r.score:.1f}", f"{r.grade} {r.grade_zh}",
                      str(r.shops_total), str(r.shops_with_findings), str(r.findings_confirmed), str(r.acted_timely),
                      f"{r.licensed_shops}/{r.open_shops}", "未接入" if r.complaints is None else str(r.complaints))
    console.print(f"{rows[0].period_label if rows else period} 电商平台信用状况评估")
    console.print(table)
