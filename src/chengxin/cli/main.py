"""``chengxin`` — the command line of the platform (Typer + Rich; progress bars on long jobs)."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column, Table

from chengxin.core import audit
from chengxin.core.clock import today_cn
from chengxin.core.errors import DomainError

if TYPE_CHECKING:
    from chengxin.platform import Platform
    from chengxin.records.service import Receipt

app = typer.Typer(help="诚信 chengxin — 城市公共信用信息平台", no_args_is_help=True, add_completion=False)
users_app = typer.Typer(help="工作人员账号 staff users", no_args_is_help=True)
keys_app = typer.Typer(help="部门 API 密钥 department API keys", no_args_is_help=True)
crypto_app = typer.Typer(help="加密密钥 encryption keys", no_args_is_help=True)
records_app = typer.Typer(help="信用记录 records", no_args_is_help=True)
catalog_app = typer.Typer(help="信用信息目录 catalog", no_args_is_help=True)
demo_app = typer.Typer(help="演示数据 demo data", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="api-keys")
app.add_typer(crypto_app, name="keys")
app.add_typer(records_app, name="records")
app.add_typer(catalog_app, name="catalog")
app.add_typer(demo_app, name="demo")
from chengxin.monitoring.cli import monitor_app  # noqa: E402  (a separate sub-app)

app.add_typer(monitor_app, name="monitor")
from chengxin.workdays.cli import calendar_app  # noqa: E402  (a separate sub-app)

app.add_typer(calendar_app, name="calendar")
from chengxin.people.cli import orgs_app  # noqa: E402  (a separate sub-app)

app.add_typer(orgs_app, name="orgs")
from chengxin.objections.cli import objections_app  # noqa: E402  (a separate sub-app)

app.add_typer(objections_app, name="objections")
from chengxin.notices.cli import notices_app  # noqa: E402  (a separate sub-app)

app.add_typer(notices_app, name="notices")
from chengxin.disclosure.cli import display_app  # noqa: E402  (a separate sub-app)

app.add_typer(display_app, name="display")
# --- issue #5: lists (lists helper) ---
from chengxin.lists.cli import lists_app  # noqa: E402  (a separate sub-app)

app.add_typer(lists_app, name="lists")
# --- issue #5: measures and credit checks (checks helper) ---
from chengxin.checks.cli import checks_app  # noqa: E402  (a separate sub-app)

app.add_typer(checks_app, name="checks")
# --- issue #5: commitments (commitments helper) ---
from chengxin.commitments.cli import commitments_app  # noqa: E402  (a separate sub-app)

app.add_typer(commitments_app, name="commitments")
# --- issue #5: subscriptions (subscriptions helper) ---
from chengxin.subscriptions.cli import webhooks_app  # noqa: E402

app.add_typer(webhooks_app, name="webhooks")
# --- issue #6: scores (scores helper) ---
from chengxin.scores.cli import scores_app  # noqa: E402  (a separate sub-app)

app.add_typer(scores_app, name="scores")
# --- issue #7: trade (trade helper) ---
from chengxin.ecommerce.trade.cli import ecommerce_app  # noqa: E402  (one `chengxin ecommerce` group for issue #7)

app.add_typer(ecommerce_app, name="ecommerce")
# --- issue #7: risk (risk helper); complaints about shops (complaints helper) ---
from chengxin.ecommerce.complaints import cli as ecommerce_complaints_cli  # noqa: E402, F401  (adds `ecommerce complaints`)
from chengxin.ecommerce.risk import cli as ecommerce_risk_cli  # noqa: E402, F401  (adds detect, risk, assess to `ecommerce`)

console = Console()
err = Console(stderr=True)


def _cli_actor() -> audit.Actor:
    return audit.Actor(kind="cli", name=os.environ.get("USER") or getpass.getuser() or "cli")


def _say_error(exc: DomainError) -> None:
    err.print(f"[red]错误[/red] {exc.message}  [dim]({exc.code}: {exc.message_en})[/dim]")


def _fail(exc: DomainError) -> None:
    _say_error(exc)
    raise typer.Exit(2)


def _not_migrated() -> DomainError:
    return DomainError("db.not_migrated", "数据库尚未建立或不是最新结构，请先运行 chengxin migrate（或 make run）",
                       "The database schema is missing or behind: run `chengxin migrate` first")


def _platform() -> Platform:
    from chengxin.platform import open_platform

    return open_platform()


def main() -> None:
    """The ``chengxin`` command: :data:`app`, with a message a clerk can act on instead of a traceback when a
    setting cannot be read, or when the database has not been created or upgraded yet (every command but
    ``migrate`` / ``setup`` needs its tables)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from chengxin.core.settings import InvalidSettings

    try:
        app()
    except InvalidSettings as exc:  # outside the command now: exit by hand, as _fail does inside one
        _say_error(exc)
        raise SystemExit(2) from None
    except (OperationalError, ProgrammingError):  # SQLite: "no such table"; PostgreSQL: UndefinedTable
        from chengxin.core.migrate import pending

        try:
            behind = pending(_platform().db.engine)
        except Exception:  # the database itself is unreachable: the original error says more
            behind = False
        if not behind:
            raise
        _say_error(_not_migrated())  # outside the command now: exit by hand, as _fail does inside one
        raise SystemExit(2) from None


def _progress(amount: ProgressColumn | None = None) -> Progress:
    """The CLI's progress bar; ``amount`` shows how far it got (default: done / total, e.g. ``DownloadColumn()``
    for bytes). No percentage where the end is not known (a bar of unknown length read "0%" all the way)."""
    return Progress(TextColumn("{task.description}"), BarColumn(), amount or MofNCompleteColumn(), TaskProgressColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=False)


@app.command()
def migrate() -> None:
    """建库/升级数据库 Create or upgrade the database schema."""
    from chengxin.core.migrate import upgrade

    platform = _platform()
    upgrade(platform.db.engine)
    console.print(f"数据库已是最新结构 ({platform.db.dialect})")


@app.command()
def setup(
    demo: Annotated[bool, typer.Option(help="数据库为空时载入演示数据 load demo data into an empty database")] = True,
) -> None:
    """一步就绪: migrate, generate keys, create the demo staff accounts and load demo data when empty."""
    from chengxin.core.migrate import upgrade
    from chengxin.demo.load import database_is_empty, load_demo

    platform = _platform()
    upgrade(platform.db.engine)
    console.print(f"密钥目录 key directory: {platform.keyring.key_dir} (signing key {platform.keyring.key_id})")
    if demo and database_is_empty(platform):
        with _progress() as progress:
            load_demo(platform, progress=progress)
        console.print("演示数据已载入。演示账号 demo accounts: admin / office / clerk_samr (密码见 README)")
    else:
        console.print("数据库已有数据，跳过演示数据 (database not empty: demo data skipped)")


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int | None, typer.Option(help="工作进程数（默认 CHENGXIN_SERVE_WORKERS，0 = 每核一个，最多 4）")] = None,
) -> None:
    """启动门户和 API Serve the portal and the API."""
    import os

    import uvicorn

    from chengxin.core.migrate import pending
    from chengxin.core.settings import get_settings, serve_options, serve_workers

    if pending(_platform().db.engine):
        _fail(_not_migrated())

    settings = get_settings()
    count = workers if workers is not None else serve_workers(settings, os.cpu_count())
    typer.echo(f"门户和 API：http://{host}:{port}（{count} 个工作进程）")
    uvicorn.run("chengxin.api.app:create_served_app", factory=True, host=host, port=port, workers=count,
                log_level="info", **serve_options(settings))


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".xlsx / .csv / .jsonl")],
    department: Annotated[str, typer.Option("--department", "-d", help="数据提供单位代码")],
    item: Annotated[str, typer.Option("--item", "-i", help="目录项代码")],
    show: Annotated[int, typer.Option(help="显示前 N 条被拒绝的行")] = 20,
) -> None:
    """归集一个文件 Ingest one file; prints the receipt (回执)."""
    from chengxin.records.pipeline import ingest_file
    from chengxin.records.service import check_submission

    platform = _platform()
    rows_done = 0
    try:
        check_submission(platform.catalog, department, item, _cli_actor())  # an unknown code: no bar drawn first
        # Bytes read (in MB, not raw byte counts) drive the bar; the rows read so far go in the description.
        with _progress(DownloadColumn()) as progress:
            task = progress.add_task(f"归集 {file.name}", total=file.stat().st_size)

            def advance(rows: int, bytes_read: int, bytes_total: int) -> None:
                nonlocal rows_done
                rows_done += rows
                progress.update(task, completed=bytes_read, total=bytes_total,
                                description=f"归集 {file.name} · {rows_done:,} 行")

            receipt = ingest_file(
                platform.db, file, catalog=platform.catalog, keyring=platform.keyring, department=department,
                item_code=item, actor=_cli_actor(), channel="cli", today=today_cn(), filename=file.name,
                max_bytes=platform.settings.max_upload_bytes, chunk_rows=platform.settings.ingest_chunk_rows,
                progress=advance,
            )
            progress.update(task, completed=file.stat().st_size)
    except DomainError as exc:
        _fail(exc)
        return
    _print_receipt(receipt, show)
    if platform.db.dialect == "sqlite":  # the batch's commit left its write-ahead log for later (BulkWriter)
        with console.status("正在将写入日志并入数据库文件 Checkpointing the write-ahead log…"):
            platform.db.checkpoint()


def _print_receipt(receipt: Receipt, show: int) -> None:
    console.print(
        f"批次 batch [bold]{receipt.batch_id}[/bold]: 收到 {receipt.received}，新增 {receipt.accepted}，"
        f"未变 {receipt.unchanged}，更正 {receipt.corrected}，拒绝 [red]{receipt.rejected}[/red]"
    )
    for w in receipt.warnings:
        console.print(f"[yellow]提示[/yellow] {w.message} ({w.code})")
    if receipt.rejections and show:
        table = Table("行 row", "来源编号 source id", "字段 field", "原因 reason", "代码 code")
        for r in receipt.rejections[:show]:
            for p in r.problems:
                table.add_row(str(r.row_no), r.source_id or "", p.field or "", p.message, p.code)
        console.print(table)
        if receipt.rejected > show:
            console.print(f"… 共 {receipt.rejected} 行被拒绝，完整清单: chengxin records rejections {receipt.batch_id} "
                          f"-o 拒绝清单.csv（或 GET /api/v1/records/batches/{receipt.batch_id}）")


@app.command()
def template(
    item: Annotated[str, typer.Argument(help="目录项代码 catalog item code")],
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
    fmt: Annotated[str, typer.Option("--format", help="xlsx | csv")] = "xlsx",
) -> None:
    """下载报送模板 Write the item's template with Chinese column headers."""
    from chengxin.catalog.loader import load_catalog
    from chengxin.catalog.rules import template_columns
    from chengxin.records.fileio import write_csv_template, write_template

    catalog = load_catalog()
    try:
        version = catalog.item(item).latest
    except KeyError:
        _fail(DomainError("item.unknown", f"未知的目录项：{item}", f"Unknown catalog item {item}"))
        return
    output = output or Path(f"{item}.{fmt}")
    columns = template_columns(version)
    if fmt == "csv":
        with output.open("w", encoding="utf-8-sig", newline="") as fh:
            write_csv_template(columns, fh)
    else:
        write_template(columns, output, title_zh=f"{version.name_zh}（{version.item_code}）报送模板",
                       notes=[f"依据：{version.basis}"])
    console.print(f"模板已写入 {output}")


@app.command()
def verify(
    subjects: Annotated[bool, typer.Option(help="也核对主体密文与盲索引 also check subjects' ciphertexts")] = True,
) -> None:
    """校验账本 Recompute the ledger and name every row altered, inserted or removed."""
    from chengxin.ledger.service import ledger_length
    from chengxin.ledger.service import verify as verify_ledger

    platform = _platform()
    with platform.db.read() as session, _progress() as progress:
        # The head's count as the bar's end (rows added or removed behind the platform's back make it end
        # short or long: the findings say which).
        task = progress.add_task("校验账本 verifying", total=ledger_length(session) or None)
        report = verify_ledger(session, platform.keyring, check_subjects=subjects,
                               progress=lambda n: progress.advance(task, n))
        progress.update(task, completed=report.versions_checked)  # the last stretch: reported every 10,000
    console.print(
        f"已核对 {report.versions_checked} 个记录版本、{report.checkpoints_checked} 个签名检查点、"
        f"{report.records_checked} 条记录、{report.subjects_checked} 个主体"
    )
    if report.ok:
        console.print("[green]账本完整 ledger intact[/green]")
        return
    table = Table("类型 kind", "表 table", "行 row", "说明 detail")
    for f in report.findings[:200]:
        table.add_row(f.kind, f.table, "" if f.row_id is None else str(f.row_id), f.message)
    console.print(table)
    console.print(f"[red]发现 {len(report.findings)} 处不一致 {len(report.findings)} findings[/red]")
    raise typer.Exit(1)


@app.command("verify-report")
def verify_report_cmd(
    pdf: Annotated[Path, typer.Argument(help="信用报告 PDF 文件 the report PDF", exists=True, dir_okay=False)],
    public_key: Annotated[Path | None, typer.Option("--public-key", help="平台公钥 PEM（默认本平台 var/keys）")] = None,
) -> None:
    """离线核验信用报告 Verify a report PDF offline: signature, embedded content and the printed text."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from chengxin.core.crypto import get_keyring
    from chengxin.core.settings import get_settings
    from chengxin.reports.signing import verify_pdf

    if public_key is not None:
        key = serialization.load_pem_public_key(public_key.read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            err.print("[red]错误[/red] 公钥不是 Ed25519 公钥")
            raise typer.Exit(2)
    else:
        key_dir = get_settings().key_dir
        if not (key_dir / "keyring.json").exists():
            err.print(f"[red]错误[/red] 未找到平台密钥 {key_dir}；请用 --public-key 指定平台公钥")
            raise typer.Exit(2)
        key = get_keyring(key_dir).public_key
    result = verify_pdf(pdf.read_bytes(), key)
    if result.report_no:
        console.print(f"报告编号 {result.report_no} · 信用主体 {result.subject_name} · 生成时间 {result.generated_at}"
                      f" · 有效期至 {result.valid_until} · 签名密钥 {result.key_id}")
    if result.ok:
        console.print(f"[green]{result.reason}[/green]")
        return
    console.print(f"[red]验证失败：{result.reason}[/red]  [dim]({result.reason_en})[/dim]")
    raise typer.Exit(1)


# -- users and keys ----------------------------------------------------------------------------


@users_app.command("create")
def users_create(
    username: str,
    role: Annotated[str, typer.Option(help="admin | credit_office | clerk")],
    department: Annotated[str | None, typer.Option(help="部门代码 (clerk)")] = None,
    display_name: Annotated[str, typer.Option()] = "",
    password: Annotated[str | None, typer.Option(help="省略则交互输入 prompt when omitted")] = None,
    temporary: Annotated[bool, typer.Option("--temporary", help="初始密码交给本人：首次登录须修改")] = False,
) -> None:
    """新建工作人员账号 Create a staff user."""
    from chengxin.accounts.service import Role, create_user

    platform = _platform()
    if role not in {r.value for r in Role}:
        _fail(DomainError("user.role", f"未知角色：{role}", f"Unknown role {role}"))
    if department and department not in platform.catalog.departments:
        _fail(DomainError("department.unknown", f"未知的数据提供单位：{department}", f"Unknown department {department}"))
    pw = password or typer.prompt("密码 password", hide_input=True, confirmation_prompt=True)
    try:
        with platform.db.write() as session:
            create_user(session, username=username, password=pw, role=Role(role), display_name=display_name,
                        department_code=department, actor=_cli_actor(), temporary=temporary)
    except DomainError as exc:
        _fail(exc)
    console.print(f"已创建用户 {username} ({role})" + ("，首次登录须修改密码" if temporary else ""))


@users_app.command("list")
def users_list(query: Annotated[str, typer.Argument(help="用户名或姓名包含")] = "") -> None:
    """列出工作人员账号 List staff accounts (active first)."""
    from chengxin.accounts.service import Role, list_users
    from chengxin.core.clock import CHINA
    from chengxin.core.db import utcnow

    platform = _platform()
    role_zh = {r.value: r.label_zh for r in Role}
    now = utcnow()
    table = Table(Column("用户名 username", no_wrap=True), "姓名 name", "角色 role", "单位 department", "状态 status")
    with platform.db.read() as session:
        for user in list_users(session, query=query):
            state = ["在用 active" if user.active else "已停用 stopped"]
            if user.locked_until is not None and user.locked_until > now:
                state.append(f"锁定至 locked until {user.locked_until.astimezone(CHINA):%H:%M}")
            if user.must_change_password:
                state.append("待本人改密 password to change")
            table.add_row(user.username, user.display_name, role_zh.get(user.role, user.role),
                          user.department_code or "—", "；".join(state))
    console.print(table)


@users_app.command("deactivate")
def users_deactivate(username: str) -> None:
    """停用账号（其登录立即失效）Stop an account; its sessions end at once."""
    _set_active(username, False)


@users_app.command("activate")
def users_activate(username: str) -> None:
    """启用账号 Restart an account."""
    _set_active(username, True)


def _set_active(username: str, active: bool) -> None:
    from chengxin.accounts.service import set_user_active

    platform = _platform()
    try:
        with platform.db.write() as session:
            set_user_active(session, username, active, actor=_cli_actor())
    except DomainError as exc:
        _fail(exc)
    console.print(f"{'已启用' if active else '已停用'} {username}")


@users_app.command("unlock")
def users_unlock(username: str) -> None:
    """解除锁定（仍用原密码）Unlock an account locked by failed sign-ins."""
    from chengxin.accounts.service import unlock_user

    platform = _platform()
    try:
        with platform.db.write() as session:
            unlock_user(session, username, actor=_cli_actor())
    except DomainError as exc:
        _fail(exc)
    console.print(f"已解除锁定 {username}")


@users_app.command("addresses")
def users_addresses() -> None:
    """列出近期登录失败的网络地址（失败次数、是否已被限制）List addresses with recent failed sign-ins."""
    from chengxin.accounts.sign_in import failing_addresses
    from chengxin.core.clock import CHINA
    from chengxin.core.db import utcnow

    platform = _platform()
    table = Table(Column("地址 address", no_wrap=True), "失败次数 failures", "最近一次 last", "状态 state")
    with platform.db.read() as session:
        found = failing_addresses(session, utcnow())
    for entry in found:
        state = (f"受限至 refused until {entry.refused_until.astimezone(CHINA):%H:%M}" if entry.refused_until
                 else "未受限 not refused")
        table.add_row(entry.address, str(entry.failures), f"{entry.last_at.astimezone(CHINA):%m-%d %H:%M}", state)
    console.print(table if found else "近期没有登录失败的地址 No failed sign-ins in the window")


@users_app.command("release-address")
def users_release_address(address: str) -> None:
    """解除地址限制：清除该地址窗口内的登录失败计数（如多人共用出口地址的办公室）Let a refused address sign in again."""
    from chengxin.accounts.service import release_address

    platform = _platform()
    try:
        with platform.db.write() as session:
            dropped = release_address(session, address, actor=_cli_actor())
    except DomainError as exc:
        _fail(exc)
    console.print(f"已解除 {address} 的地址限制（清除失败记录 {dropped} 条）" if dropped
                  else f"{address} 在时间窗口内没有登录失败记录，无需解除")


@users_app.command("reset-password")
def users_reset_password(username: str) -> None:
    """重置密码：生成随机密码（只显示一次），本人首次登录须修改；解除锁定，结束其全部登录。
    Reset a password — e.g. the only administrator's — to a random one shown once."""
    from chengxin.accounts.service import reset_password

    platform = _platform()
    try:
        with platform.db.write() as session:
            password = reset_password(session, username, actor=_cli_actor())
    except DomainError as exc:
        _fail(exc)
    console.print(f"{username} 的新密码（只显示这一次；首次登录须修改）:")
    sys.stdout.write(password + "\n")


@keys_app.command("create")
def api_keys_create(
    department: Annotated[str | None, typer.Option("--department", "-d")] = None,
    label: Annotated[str, typer.Option()] = "",
    platform_uscc: Annotated[str | None, typer.Option("--platform", help="电商平台的统一社会信用代码：签发平台密钥"
                                                       "（可用于联合奖惩核查、反馈、批量核查，不能报送数据）")] = None,
    valid_until: Annotated[dt.datetime | None, typer.Option(
        "--valid-until", formats=["%Y-%m-%d"], help="有效期至 YYYY-MM-DD（含当日，北京时间）；不填：长期有效")] = None,
) -> None:
    """为部门或电商平台签发 API 密钥（只显示一次）Issue a department's or a platform's API key (shown once)."""
    from chengxin.accounts.rules import key_expiry
    from chengxin.accounts.service import create_api_key, key_owner
    from chengxin.core.clock import today_cn

    platform = _platform()
    try:
        owner = key_owner(platform.catalog.departments, department, platform_uscc)  # platforms check, never ingest
        expires_at = key_expiry(valid_until.date() if valid_until else None, today_cn())
    except DomainError as exc:
        _fail(exc)
    with platform.db.write() as session:
        issued = create_api_key(session, department_code=owner, label=label, actor=_cli_actor(), expires_at=expires_at)
    until = f"，有效期至 {valid_until:%Y-%m-%d}" if valid_until else "，长期有效"
    console.print(f"{owner} 的 API 密钥（请妥善保存，只显示这一次{until}）:")
    sys.stdout.write(issued.key + "\n")


@keys_app.command("revoke")
def api_keys_revoke(key_id: str) -> None:
    """吊销 API 密钥 Revoke an API key by its id."""
    from chengxin.accounts.service import revoke_api_key

    platform = _platform()
    try:
        with platform.db.write() as session:
            revoke_api_key(session, key_id, actor=_cli_actor())
    except DomainError as exc:
        _fail(exc)
    console.print(f"已吊销 {key_id}")


@keys_app.command("list")
def api_keys_list(department: Annotated[str | None, typer.Option("--department", "-d")] = None,
                  state: Annotated[str, typer.Option(help="active（有效）、expired（已过期）或 revoked（已吊销）；"
                                                     "默认全部")] = "") -> None:
    """列出 API 密钥（北京时间）List API keys (never their secrets), valid ones first, newest first."""
    from chengxin.accounts.rules import valid_until
    from chengxin.accounts.service import list_api_keys
    from chengxin.core.clock import CHINA, today_cn

    def shown(at: dt.datetime | None) -> str:
        return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if at else "—"

    platform = _platform()
    table = Table(Column("key id", no_wrap=True), "部门 department", "标签 label", "创建 created",
                  "有效期至 valid until", "最近使用 last used", "状态 status")
    today = today_cn()
    try:
        with platform.db.read() as session:
            for key in list_api_keys(session, department, state=state):
                until = valid_until(key.expires_at)
                status = ("已吊销 revoked" if key.revoked_at else "已过期 expired" if until and until < today
                          else "有效 active")
                table.add_row(key.key_id, key.department_code, key.label, shown(key.created_at),
                              until.isoformat() if until else "长期", shown(key.last_used_at), status)
    except DomainError as exc:
        _fail(exc)
    console.print(table)


@crypto_app.command("rotate")
def keys_rotate() -> None:
    """轮换数据密钥并重新加密 Add a new data key version and re-encrypt every subject with it."""
    from chengxin.subjects.keys import reencrypt_subjects

    platform = _platform()
    version = platform.keyring.rotate_data_key()
    with _progress() as progress:
        task = progress.add_task(f"重新加密 re-encrypting (v{version})", total=None)
        count = reencrypt_subjects(platform.db, platform.keyring, progress=lambda n: progress.advance(task, n))
    console.print(f"当前数据密钥版本 v{version}；已重新加密 {count} 个主体")


# -- records and catalog -----------------------------------------------------------------------


@records_app.command("revoke")
def records_revoke(
    department: Annotated[str, typer.Option("--department", "-d")],
    source_id: Annotated[str, typer.Option("--source-id", "-s")],
    reason: Annotated[str, typer.Option("--reason", "-r")],
) -> None:
    """撤销一条记录 Revoke a record (kept, no longer displayed)."""
    from chengxin.records.service import find_record_id, revoke_record

    platform = _platform()
    try:
        with platform.db.read() as session:
            record_id = find_record_id(session, department, source_id)
        detail = revoke_record(platform.db, keyring=platform.keyring, record_id=record_id, actor=_cli_actor(),
                               reason=reason)
    except DomainError as exc:
        _fail(exc)
        return
    console.print(f"记录 {detail.id} 已撤销（版本 {detail.version}）")


@records_app.command("rejections")
def records_rejections(
    batch_id: Annotated[int, typer.Argument(help="批次号 batch id")],
    output: Annotated[Path, typer.Option("--output", "-o", dir_okay=False, help="写入的 CSV 文件")],
) -> None:
    """导出批次的全部被拒绝行 Write every rejected row of a batch to a CSV (Excel-readable), to correct the file."""
    from chengxin.catalog.rules import column_labels
    from chengxin.records.fileio import rejections_csv
    from chengxin.records.service import all_rejections, batch_source

    platform = _platform()
    try:
        with platform.db.read() as session:
            _department, item_code = batch_source(session, batch_id)
            item = platform.catalog.items.get(item_code)
            with output.open("wb") as out:
                for part in rejections_csv(all_rejections(session, batch_id), column_labels(item) if item else {}):
                    out.write(part)
    except DomainError as exc:
        _fail(exc)
        return
    console.print(f"批次 {batch_id} 的被拒绝行已写入 {output}")


@app.command()
def quality(department: Annotated[str | None, typer.Option("--department", "-d")] = None,
            item: Annotated[str | None, typer.Option("--item", "-i")] = None) -> None:
    """数据质量（北京时间）Data quality per department and item, with the three commonest reasons in words."""
    from chengxin.core.clock import CHINA
    from chengxin.records.service import quality as quality_rows

    platform = _platform()
    table = Table("部门", "目录项", "批次", "收到", "新增", "未变", "更正", "拒绝", "最近报送", "主要拒绝原因（最近一例 × 行数）")
    with platform.db.read() as session:
        for q in quality_rows(session, department=department, item=item):
            # the latest wording names the field and the refused value: what the clerk has to fix
            reasons = "\n".join(f"{r.example} × {r.rejected}" for r in q.reasons[:3])
            table.add_row(q.department, q.item, str(q.batches), str(q.received), str(q.accepted), str(q.unchanged),
                          str(q.corrected), str(q.rejected),
                          q.last_submission.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if q.last_submission else "",
                          reasons)
    console.print(table)


@catalog_app.command("list")
def catalog_list(query: Annotated[str, typer.Argument()] = "") -> None:
    """列出目录项 List catalog items (optionally matching a search)."""
    from chengxin.catalog.loader import load_catalog

    catalog = load_catalog()
    items = catalog.search(query) if query else list(catalog.items.values())
    table = Table("代码 code", "名称", "类别", "主体", "共享", "版本")
    for item in items:
        v = item.latest
        table.add_row(item.code, v.name_zh, v.category.value, ",".join(sorted(k.value for k in v.subject_kinds)),
                      v.sharing.value, ", ".join(x.version for x in item.versions))
    console.print(table)


@demo_app.command("load")
def demo_load(
    persons: Annotated[int | None, typer.Option()] = None,
    organizations: Annotated[int | None, typer.Option()] = None,
    records: Annotated[int | None, typer.Option()] = None,
) -> None:
    """载入演示数据 Load the demo data set (Faker zh_CN) through the normal ingest path."""
    from chengxin.demo.load import load_demo

    platform = _platform()
    with _progress() as progress:
        load_demo(platform, progress=progress, persons=persons, organizations=organizations, records=records)


@demo_app.command("persons")
def demo_persons(count: Annotated[int, typer.Option("--count", "-n")] = 5) -> None:
    """列出几位演示自然人（仅演示数据）Print demo persons to try the personal pages (/me) with."""
    from chengxin.core.settings import get_settings
    from chengxin.demo.load import generate_persons

    settings = get_settings()
    table = Table("公民身份号码 citizen ID", "姓名 name")
    for person in generate_persons(settings.demo_seed, settings.demo_persons)[:count]:
        table.add_row(person.ric, person.name)
    console.print(table)
    console.print("以上为演示数据中的虚构人员，可在 /me/register 用其身份号码和姓名注册。")


if __name__ == "__main__":
    app()
