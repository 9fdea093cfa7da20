"""``shuzhi user …`` and ``shuzhi apikey …``: staff accounts and API keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from shuzhi.auth import service as auth
from shuzhi.auth.schemas import ApiKeyCreate, PasswordChange, PasswordReset, UserCreate
from shuzhi.command import DataDir, acting, console
from shuzhi.context import Role
from shuzhi.validation import parse

user_app = typer.Typer(help="Manage staff accounts.", no_args_is_help=True)
apikey_app = typer.Typer(help="Manage API keys for systems.", no_args_is_help=True)


@user_app.command("add")
def user_add(
    username: str,
    role: Annotated[Role, typer.Option(help="Role of the account")],
    unit: Annotated[str | None, typer.Option(help="Unit code (for unit roles)")] = None,
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    password: Annotated[
        str | None,
        typer.Option(envvar="SHUZHI_USER_PASSWORD", help="Password (prompted if omitted)"),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Create a staff account."""
    secret = password or typer.prompt("Password / 密码", hide_input=True, confirmation_prompt=True)
    data = {
        "username": username,
        "display_name": name or username,
        "password": secret,
        "role": role,
        "unit_code": unit,
    }
    with acting(data_dir) as ctx:
        user = auth.create_user(ctx, parse(UserCreate, data))
    console.print(f"Created user / 已创建账号: {user.username} ({user.role})")


@user_app.command("passwd")
def user_passwd(username: str, data_dir: DataDir = None) -> None:
    """Change an account's password, knowing the current one (both prompted)."""
    current = typer.prompt("Current password / 当前密码", hide_input=True)
    new = typer.prompt("New password / 新密码", hide_input=True, confirmation_prompt=True)
    with acting(data_dir) as ctx:
        data = parse(PasswordChange, {"current_password": current, "new_password": new})
        auth.change_password(ctx, data, username=username)
    console.print(f"Password changed / 密码已修改: {username}")


@user_app.command("reset-password")
def user_reset_password(
    username: str,
    password: Annotated[
        str | None,
        typer.Option(
            envvar="SHUZHI_USER_PASSWORD", help="New password (a temporary one is generated)"
        ),
    ] = None,
    require_change: Annotated[
        bool,
        typer.Option(
            "--require-change/--no-require-change", help="Must change it at the next login"
        ),
    ] = True,
    remove_second_factor: Annotated[
        bool, typer.Option("--remove-second-factor", help="Also remove the second factor")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Reset an account's password (e.g. a forgotten one); its sessions end."""
    data = {
        "new_password": password or None,
        "require_change": require_change,
        "remove_second_factor": remove_second_factor,
    }
    with acting(data_dir) as ctx:
        done = auth.reset_password(ctx, username, parse(PasswordReset, data))
    console.print(f"Password reset / 密码已重置: {done.username}")
    if done.temporary_password:
        # the only place it is ever shown
        typer.echo(done.temporary_password)


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="What the key is for")],
    role: Annotated[Role, typer.Option(help="Role the key acts with")] = Role.CONSUMER,
    unit: Annotated[str | None, typer.Option(help="Unit code")] = None,
    expires_days: Annotated[int, typer.Option(help="Days until expiry")] = 365,
    data_dir: DataDir = None,
) -> None:
    """Issue an API key; the key is printed once and cannot be shown again."""
    data = {"name": name, "role": role, "unit_code": unit, "expires_in_days": expires_days}
    with acting(data_dir) as ctx:
        created = auth.create_api_key(ctx, parse(ApiKeyCreate, data))
    console.print(f"prefix: {created.prefix}  expires: {created.expires_at}")
    console.print("Store this key now; it is shown only once / 请立即保存，仅显示一次:")
    typer.echo(created.token)


@apikey_app.command("list")
def apikey_list(data_dir: DataDir = None) -> None:
    """List API keys (never their secrets)."""
    with acting(data_dir) as ctx:
        keys = auth.list_api_keys(ctx)
    table = Table()
    for column in ("prefix", "name", "role", "unit", "status", "expires", "last used"):
        table.add_column(column)
    for k in keys:
        table.add_row(
            k.prefix,
            k.name,
            k.role,
            k.unit_code or "",
            k.status,
            str(k.expires_at or ""),
            str(k.last_used_at or ""),
        )
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(prefix: str, data_dir: DataDir = None) -> None:
    """Revoke an API key by its prefix."""
    with acting(data_dir) as ctx:
        auth.revoke_api_key(ctx, prefix)
    console.print(f"Revoked / 已吊销: {prefix}")
