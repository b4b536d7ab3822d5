"""``chengxin orgs`` — link a person account to an organisation it represents (企业经办人)."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import select

from chengxin.core import audit
from chengxin.core.errors import DomainError

orgs_app = typer.Typer(help="企业经办人 organisation representatives", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _actor() -> audit.Actor:
    return audit.Actor(kind="cli", name=os.environ.get("USER") or getpass.getuser() or "cli")


@orgs_app.command("link")
def orgs_link(
    ric: Annotated[str, typer.Argument(help="经办人的公民身份号码（须已注册个人账户）")],
    uscc: Annotated[str, typer.Argument(help="企业的统一社会信用代码")],
    basis: Annotated[str, typer.Option("--basis", help="授权依据，如授权委托书编号")],
) -> None:
    """授权个人账户代表企业办理异议、声明、信用修复。"""
    from chengxin.people.models import PersonAccount
    from chengxin.people.orgs import link_organisation
    from chengxin.people.service import login_index
    from chengxin.platform import open_platform

    platform = open_platform()
    try:
        with platform.db.write() as session:
            account = session.scalar(select(PersonAccount).where(
                PersonAccount.login_index == login_index(platform.keyring, ric)))
            if account is None:
                raise DomainError("org_link.no_account", "该公民身份号码尚未注册个人账户", "No account for this citizen ID")
            link = link_organisation(session, platform.keyring, account_id=account.id, uscc=uscc, basis=basis,
                                     actor=_actor(), now=dt.datetime.now(dt.UTC))
            link_id = link.id
    except DomainError as exc:
        err.print(f"[red]错误[/red] {exc.message}  [dim]({exc.code}: {exc.message_en})[/dim]")
        raise typer.Exit(2) from None
    err.print(f"已授权（编号 {link_id}）")


@orgs_app.command("unlink")
def orgs_unlink(link_id: int) -> None:
    """撤销经办人授权。"""
    from chengxin.people.orgs import unlink_organisation
    from chengxin.platform import open_platform

    try:
        with open_platform().db.write() as session:
            unlink_organisation(session, link_id=link_id, actor=_actor(), now=dt.datetime.now(dt.UTC))
    except DomainError as exc:
        err.print(f"[red]错误[/red] {exc.message}  [dim]({exc.code}: {exc.message_en})[/dim]")
        raise typer.Exit(2) from None
    err.print(f"已撤销授权 {link_id}")
