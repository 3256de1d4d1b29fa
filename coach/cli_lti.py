"""``coach lti`` (registrations, tool configuration, key rotation) and ``coach outbox`` (delivery).

Mounted by ``coach/cli.py``. Exit codes: 0 ok, 1 failure, 2 usage.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from coach.config import Settings
from coach.errors import CoachError
from coach.integrations.lti.keys import ToolKeys
from coach.integrations.lti.launch import LtiTool
from coach.integrations.lti.platform_keys import PlatformKeys
from coach.store.lti_repository import LtiStore, Registration
from coach.store.repository import Store

lti_app = typer.Typer(help="LTI 1.3: register platforms, print the tool's configuration, rotate its key.")
outbox_app = typer.Typer(help="Outbound messages (grades, xAPI statements): what waits, what was refused.")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


FormatOption = Annotated[Format, typer.Option("--format", help="text for people, json for machines.")]


def open_store(settings: Settings | None = None) -> Store:
    """The database, migrated; a clear message and exit 1 when it cannot be reached."""
    store = Store((settings or Settings()).database_url)
    try:
        store.upgrade()
    except CoachError as exc:
        err.print(f"[red]{escape(exc.detail)}[/red]")
        raise typer.Exit(1) from exc
    return store


def _tool(store: Store, settings: Settings) -> LtiTool:
    import httpx

    lti_store = LtiStore(store)
    return LtiTool(
        lti_store, ToolKeys(lti_store), PlatformKeys(httpx.Client()), public_url=settings.public_url
    )


@lti_app.command("register")
def register(
    issuer: Annotated[
        str, typer.Option(help="The platform's issuer (iss), e.g. https://moodle.example.edu.")
    ],
    client_id: Annotated[str, typer.Option(help="The client id the platform gave Coach.")],
    deployment_id: Annotated[
        list[str] | None, typer.Option(help="A deployment id (repeat for several; adds to an existing one).")
    ] = None,
    auth_login_url: Annotated[str | None, typer.Option(help="The platform's OIDC authorisation URL.")] = None,
    auth_token_url: Annotated[str | None, typer.Option(help="The platform's OAuth 2 token URL.")] = None,
    jwks_url: Annotated[str | None, typer.Option(help="The platform's public key set URL.")] = None,
    token_audience: Annotated[
        str | None, typer.Option(help="aud for client assertions when not the token URL (Brightspace).")
    ] = None,
    frame_origin: Annotated[
        list[str] | None, typer.Option(help="Another origin that frames Coach (e.g. a Canvas school domain).")
    ] = None,
    xapi_endpoint: Annotated[str | None, typer.Option(help="This deployment's LRS (xAPI base URL).")] = None,
    xapi_auth: Annotated[
        str | None, typer.Option(help="LRS credentials: user:password or 'Basic …'.")
    ] = None,
    xapi_include_text: Annotated[
        bool | None, typer.Option("--xapi-include-text/--no-xapi-include-text", help="Send reply text.")
    ] = None,
    fmt: FormatOption = Format.TEXT,
) -> None:
    """Register a platform (issuer + client id) and its deployments; run again to add a deployment."""
    store = open_store()
    try:
        lti = LtiStore(store)
        now = datetime.now(UTC)
        existing = lti.registrations(issuer=issuer, client_id=client_id)
        current = existing[0] if existing else None
        urls = {"auth-login-url": auth_login_url, "auth-token-url": auth_token_url, "jwks-url": jwks_url}
        if current is None and not all(urls.values()):
            missing = ", ".join(f"--{name}" for name, value in urls.items() if not value)
            err.print(f"a new registration needs {missing}")
            raise typer.Exit(2)
        registration = lti.save_registration(
            Registration(
                id=current.id if current else uuid.uuid4().hex[:12],
                issuer=issuer,
                client_id=client_id,
                auth_login_url=auth_login_url or (current.auth_login_url if current else ""),
                auth_token_url=auth_token_url or (current.auth_token_url if current else ""),
                jwks_url=jwks_url or (current.jwks_url if current else ""),
                token_audience=token_audience
                if token_audience is not None
                else (current.token_audience if current else None),
                frame_origins=tuple(
                    dict.fromkeys([*(current.frame_origins if current else ()), *(frame_origin or [])])
                ),
                created_at=now,
            )
        )
        for deployment in deployment_id or []:
            lti.save_deployment(
                registration.id,
                deployment,
                now,
                xapi_endpoint=xapi_endpoint,
                xapi_auth=xapi_auth,
                xapi_include_text=xapi_include_text,
            )
        deployments = [d.deployment_id for d in lti.deployments(registration.id)]
    finally:
        store.close()
    if fmt is Format.JSON:
        print(json.dumps({"registration": registration.id, "issuer": issuer, "deployments": deployments}))
        return
    verb = "updated" if current else "registered"
    out.print(f"{verb} {escape(issuer)} (client {escape(client_id)}) as [bold]{registration.id}[/bold]")
    out.print(f"deployments: {escape(', '.join(deployments) or 'none yet: add one with --deployment-id')}")


@lti_app.command("list")
def list_registrations(fmt: FormatOption = Format.TEXT) -> None:
    """List registered platforms and their deployments."""
    store = open_store()
    try:
        lti = LtiStore(store)
        rows: list[dict[str, Any]] = [
            {
                "id": r.id,
                "issuer": r.issuer,
                "client_id": r.client_id,
                "auth_login_url": r.auth_login_url,
                "auth_token_url": r.auth_token_url,
                "jwks_url": r.jwks_url,
                "frame_origins": list(r.frame_origins),
                "deployments": [
                    {
                        "deployment_id": d.deployment_id,
                        "xapi_endpoint": d.xapi_endpoint,
                        "xapi_include_text": d.xapi_include_text,
                    }
                    for d in lti.deployments(r.id)
                ],
            }
            for r in lti.registrations()
        ]
    finally:
        store.close()
    if fmt is Format.JSON:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        deployments = ", ".join(d["deployment_id"] for d in row["deployments"]) or "none"
        who = f"{row['id']}  {row['issuer']}  client {row['client_id']}"
        out.print(escape(f"{who}  deployments: {deployments}"))


@lti_app.command("tool-config")
def tool_config(fmt: FormatOption = Format.TEXT) -> None:
    """Print the URLs to paste into an LMS and a Canvas-style JSON configuration (from COACH_PUBLIC_URL)."""
    from coach.api.lti_routes import canvas_config

    settings = Settings()
    store = open_store()
    try:
        tool = _tool(store, settings)
        kid, _ = tool.keys.current()
        urls: dict[str, str | list[str]] = {
            "login_url": tool.login_url,
            "launch_url": tool.launch_url,
            "redirect_uris": [tool.launch_url, tool.deep_linking_url],
            "deep_linking_url": tool.deep_linking_url,
            "jwks_url": tool.jwks_url,
            "current_key_id": kid,
        }
        public_jwk = next(k for k in tool.keys.jwks()["keys"] if k["kid"] == kid)
        canvas = canvas_config(tool)
    finally:
        store.close()
    if fmt is Format.JSON:
        print(json.dumps({**urls, "public_jwk": public_jwk, "canvas": canvas}, indent=2))
        return
    table = Table(title="Coach as an LTI 1.3 tool", show_header=False)
    for name, value in urls.items():
        table.add_row(name.replace("_", " "), escape(value if isinstance(value, str) else " ".join(value)))
    out.print(table)
    out.print("\n[bold]Canvas developer key (Paste JSON):[/bold]")
    print(json.dumps(canvas, indent=2))


@lti_app.command("rotate-key")
def rotate_key(
    grace_hours: Annotated[
        float, typer.Option(min=0, help="How long the old key stays published in the JWKS.")
    ] = 24.0,
) -> None:
    """Make a new signing key; the old one stays in /lti/jwks for the grace period."""
    settings = Settings()
    store = open_store()
    try:
        tool = _tool(store, settings)
        old, _ = tool.keys.current()
        new = tool.keys.rotate(timedelta(hours=grace_hours))
    finally:
        store.close()
    out.print(f"signing with {new}; {old} stays published for {grace_hours:g} hours")


def _message_row(message: Any) -> dict[str, Any]:
    return {
        "id": message.id,
        "kind": message.kind,
        "status": message.status,
        "target": message.target,
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at.isoformat(),
        "last_error": message.last_error,
        "created_at": message.created_at.isoformat(),
    }


class Status(StrEnum):
    WAITING = "waiting"
    PENDING = "pending"
    REFUSED = "refused"
    DELIVERED = "delivered"
    ALL = "all"


@outbox_app.command("list")
def outbox_list(
    status: Annotated[
        Status, typer.Option(help="waiting (pending and refused), pending, refused, delivered or all.")
    ] = Status.WAITING,
    fmt: FormatOption = Format.TEXT,
) -> None:
    """Messages not delivered yet, and those a receiver refused, with the reason."""
    store = open_store()
    try:
        messages = store.messages(None if status in {Status.ALL, Status.WAITING} else status.value)
    finally:
        store.close()
    if status is Status.WAITING:
        messages = [m for m in messages if m.status in {"pending", "refused"}]
    rows = [_message_row(m) for m in messages]
    if fmt is Format.JSON:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        out.print("nothing waiting" if status is Status.WAITING else "no messages")
        return
    table = Table()
    for column in ("id", "kind", "status", "attempts", "target", "last error"):
        table.add_column(column)
    for row in rows:
        colour = {"refused": "red", "pending": "yellow"}.get(row["status"], "green")
        table.add_row(
            str(row["id"]),
            row["kind"],
            f"[{colour}]{row['status']}[/]",
            str(row["attempts"]),
            escape(row["target"]),
            escape(row["last_error"] or ""),
        )
    out.print(table)


@outbox_app.command("retry")
def outbox_retry(
    message_id: Annotated[int | None, typer.Argument(help="A refused message's id.")] = None,
    all_refused: Annotated[bool, typer.Option("--all", help="Every refused message.")] = False,
) -> None:
    """Send refused messages again once the cause (a registration, credentials, a line item) is fixed."""
    if message_id is None and not all_refused:
        err.print("give a message id, or --all for every refused message")
        raise typer.Exit(2)
    store = open_store()
    try:
        count = LtiStore(store).requeue(None if all_refused else message_id, datetime.now(UTC))
    finally:
        store.close()
    if not count:
        err.print("no refused message to retry")
        raise typer.Exit(1)
    out.print(f"{count} message{'s' if count != 1 else ''} queued again")
