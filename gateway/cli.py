"""`vaultgate`: the operator's command line (migrations, tenants, keys, the server)."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import click
import uvicorn
from sqlalchemy.orm import Session

from core.failures import Failure
from core.secrets import InstanceKeyError, ensure_instance_key_file, generate_instance_key
from core.settings import Settings, get_settings
from gateway.contract import load_contract
from gateway.job_kinds import JOB_KINDS
from gateway.runs_cli import runs_group
from jobs.confinement import hide_process_memory
from jobs.worker import WorkerPool
from storage import accounts, api_keys, oauth, passwords
from storage.accounts import create_organization, create_user, find_user_by_email, get_organization
from storage.blobs import blob_store_for
from storage.database import session_scope
from storage.demo import DEMO_EMAIL, DEMO_KEY_FILE, DEMO_PASSWORD_FILE, ensure_demo_key, ensure_demo_password
from storage.migrate import upgrade_to_head
from storage.models import Mode, OAuthGrant, Role, Tier, User, utcnow
from storage.projects import create_project, find_project_by_name
from storage.tenancy import Tenant
from vault.uploads import accept_upload
from workflows.cli import import_file, workflows_group
from workflows.ids import workflow_public_id

# Inside the package, so `serve --demo` works from a wheel; in a checkout gateway/examples links to examples/.
EXAMPLES = Path(__file__).resolve().parent / "examples"
DEMO_DOCUMENTS = EXAMPLES / "demo"
DEMO_WORKFLOWS = EXAMPLES / "workflows"
DEMO_PROJECT = "Riverside Tower"
DEMO_TEMPLATE = EXAMPLES / "templates" / "submittal-review.docx"


def _database_url() -> str:
    return get_settings().database_url


@click.group()
def main() -> None:
    """Vaultgate: a contract-first API gateway for a document vault."""


main.add_command(workflows_group)
main.add_command(runs_group)


@main.command()
def init() -> None:
    """Create or upgrade the database schema."""
    upgrade_to_head(_database_url())
    click.echo("database is at the latest schema")


@main.group()
def orgs() -> None:
    """Organizations."""


@orgs.command("create")
@click.option("--name", required=True)
@click.option("--tier", type=click.Choice([t.value for t in Tier]), default=Tier.free.value, show_default=True)
def orgs_create(name: str, tier: str) -> None:
    """Create an organization and print its id."""
    with session_scope(_database_url()) as session:
        organization = create_organization(session, name=name, tier=Tier(tier))
        click.echo(str(organization.id))


@main.group()
def users() -> None:
    """Users of an organization."""


@users.command("create")
@click.option("--org", "organization_id", required=True, help="Organization id.")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.member.value, show_default=True)
@click.option("--permission", "permissions", multiple=True, help="Per-user permission, e.g. template_fill.")
def users_create(organization_id: str, email: str, name: str, role: str, permissions: tuple[str, ...]) -> None:
    """Create a user and print its id."""
    with session_scope(_database_url()) as session:
        organization = get_organization(session, uuid.UUID(organization_id))
        user = create_user(
            session, organization=organization, email=email, name=name, role=Role(role), permissions=list(permissions)
        )
        click.echo(str(user.id))


@contextmanager
def _user_by_email(email: str) -> Iterator[tuple[Session, User]]:
    """A session and the user with this email, committed at the end; a failure below is reported, not raised."""
    try:
        with session_scope(_database_url()) as session:
            user = find_user_by_email(session, email)
            if user is None:
                raise click.ClickException(f"no user with email {email}")
            yield session, user
    except Failure as exc:
        raise click.ClickException(str(exc)) from None


def _new_password(value: str) -> str:
    try:
        passwords.check_policy(value)
    except Failure as exc:
        raise click.BadParameter(str(exc)) from None
    return value


@users.command("set-password")
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
def users_set_password(email: str, password_stdin: bool) -> None:
    """Set the password the user signs in with to approve apps (OAuth); revokes the apps approved so far."""
    if password_stdin:
        # One trailing newline is what `echo` and here-strings add, not part of the password.
        password = sys.stdin.read().removesuffix("\n").removesuffix("\r")
    else:
        with _user_by_email(email):
            pass  # before asking for a password twice
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True, value_proc=_new_password)
    with _user_by_email(email) as (session, user):
        revoked = accounts.set_password(session, user, password)
    click.echo(f"password set for {email}; {revoked} app grant(s) revoked (those apps must be approved again)")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


def _grant_row(grant: OAuthGrant) -> tuple[str, ...]:
    revoked = f"{_when(grant.revoked_at)} ({grant.revoked_reason})" if grant.revoked_at else "-"
    return (
        str(grant.id),
        grant.client_name,
        grant.client_id,
        grant.mode.value,
        " ".join(grant.scopes),
        _when(grant.created_at),
        _when(grant.last_used_at),
        revoked,
    )


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )


@users.command("grants")
@click.option("--email", required=True)
def users_grants(email: str) -> None:
    """List the apps the user approved (OAuth grants), revoked ones included, times in UTC."""
    with _user_by_email(email) as (session, user):
        rows = [_grant_row(grant) for grant in accounts.list_grants(session, user)]
    if not rows:
        click.echo(f"{email} has approved no app")
        return
    header = ("GRANT", "CLIENT", "CLIENT ID", "MODE", "SCOPES", "CREATED", "LAST USED", "REVOKED")
    click.echo(_table(header, rows))


@users.command("revoke-grant")
@click.option("--email", required=True)
@click.argument("grant_id", type=click.UUID)
def users_revoke_grant(email: str, grant_id: uuid.UUID) -> None:
    """Revoke one of the user's grants: the app's access and refresh tokens stop working at once."""
    with _user_by_email(email) as (session, user):
        grant, revoked = accounts.revoke_grant(session, user, grant_id)
        name, reason = grant.client_name, grant.revoked_reason
    if revoked:
        click.echo(f"revoked {grant_id} ({name}): its tokens no longer work")
    else:
        click.echo(f"{grant_id} ({name}) was already revoked ({reason})")


@users.command("remove")
@click.option("--email", required=True)
@click.confirmation_option(prompt="The user's API keys and app grants stop working for good. Remove?")
def users_remove(email: str) -> None:
    """Remove a user: they can no longer sign in, their API keys are revoked and their app grants too."""
    with _user_by_email(email) as (session, user):
        removal = accounts.remove_user(session, user)
    click.echo(f"removed {email}: {removal.keys_revoked} API key(s) and {removal.grants_revoked} app grant(s) revoked")


@main.group("oauth")
def oauth_group() -> None:
    """The OAuth authorization server."""


@oauth_group.command("rotate-signing-key")
def oauth_rotate_signing_key() -> None:
    """Sign new access tokens with a new key; the old one keeps verifying until the tokens it signed expire."""
    with session_scope(_database_url()) as session:
        key = oauth.rotate_signing_key(session)
        kid = key.kid
    click.echo(f"new signing key {kid}; running servers sign with it within 5 minutes")


@main.group()
def keys() -> None:
    """API keys."""


@keys.command("create")
@click.option("--email", required=True, help="The user the key acts as.")
@click.option("--name", default="CLI key", show_default=True)
@click.option("--mode", type=click.Choice([m.value for m in Mode]), default=Mode.test.value, show_default=True)
@click.option(
    "--scope", "scopes", multiple=True, type=click.Choice(load_contract().scopes), help="Repeat; default all."
)
@click.option("--expires-in-days", type=click.IntRange(1, 3650), default=None)
def keys_create(email: str, name: str, mode: str, scopes: tuple[str, ...], expires_in_days: int | None) -> None:
    """Create an API key and print it (it is shown only this once)."""
    with session_scope(_database_url()) as session:
        user = find_user_by_email(session, email)
        if user is None:
            raise click.ClickException(f"no user with email {email}")
        if user.removed_at is not None:
            raise click.ClickException(f"{email} was removed: a key would act as a user who authenticates nowhere")
        expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
        issued = api_keys.create_key(
            session,
            user=user,
            mode=Mode(mode),
            name=name,
            scopes=list(scopes) or load_contract().scopes,
            expires_at=expires_at,
        )
        click.echo(issued.secret)


def create_demo_documents(settings: Settings) -> tuple[Tenant, uuid.UUID]:
    """The demo tenant's project, with a few documents uploaded (and so ingested) on the first demo start only."""
    with session_scope(settings.database_url) as session:
        user = find_user_by_email(session, DEMO_EMAIL)
        assert user is not None
        tenant = Tenant(user.organization_id, Mode.test)
        project = find_project_by_name(session, tenant, DEMO_PROJECT)
        if project is None:
            project = create_project(session, tenant, DEMO_PROJECT, "Submittals and notes for the demo.")
            metadata = json.loads((DEMO_DOCUMENTS / "metadata.json").read_text())
            for path in sorted(DEMO_DOCUMENTS.iterdir()):
                if path.name not in metadata:
                    continue
                with path.open("rb") as source:
                    accept_upload(
                        session,
                        blob_store_for(settings),
                        tenant,
                        user_id=user.id,
                        source=source,
                        filename=path.name,
                        project_id=project.id,
                        metadata={"demo": True, **metadata[path.name]},
                        max_attempts=settings.job_max_attempts,
                    )
        return tenant, project.id


def _demo_commands(settings: Settings, tenant: Tenant, project_id: uuid.UUID, key: str, base_url: str) -> str:
    """The example workflows, imported on every start (a changed one becomes a new version), and the commands
    that run them and fill the example template."""
    imported = [
        import_file(settings.database_url, tenant, path).workflow for path in sorted(DEMO_WORKFLOWS.glob("*.yaml"))
    ]
    today = date.today()
    return "".join(
        f"  Run {workflow.name!r} (the demo documents are dated the day of the first demo start):\n"
        f"    vaultgate runs start {workflow_public_id(workflow.id)} --project {project_id} "
        f"--input start_date={today - timedelta(days=7)} --input end_date={today} --wait\n"
        for workflow in imported
    ) + (
        "  Fill the example template from the demo project (then poll the Location it answers):\n"
        f"    curl -H 'Authorization: Bearer {key}' -F file=@{DEMO_TEMPLATE} "
        f"-F project_id={project_id} {base_url}{load_contract().url_for('templates.start_fill')}\n"
    )


def _demo_key(database_url: str) -> str:
    remembered = DEMO_KEY_FILE.read_text().strip() if DEMO_KEY_FILE.exists() else None
    with session_scope(database_url) as session:
        key = ensure_demo_key(session, remembered, load_contract().scopes)
    if key != remembered:
        _write_private(DEMO_KEY_FILE, key)
    return key


def _demo_password(database_url: str) -> str:
    remembered = DEMO_PASSWORD_FILE.read_text().strip() if DEMO_PASSWORD_FILE.exists() else None
    with session_scope(database_url) as session:
        password = ensure_demo_password(session, remembered)
    if password != remembered:
        _write_private(DEMO_PASSWORD_FILE, password)
    return password


def _write_private(path: Path, secret: str) -> None:
    """Write a secret only its owner reads (0600), a file created so from the start, or narrowed if it existed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w") as written:
        written.write(secret + "\n")


def _require_instance_key(settings: Settings, *, create: bool) -> None:
    """Stop with what to do when there is no usable instance key; the demo creates its own."""
    if create and settings.secret_key is None and ensure_instance_key_file(settings.secret_key_file):
        click.echo(f"  Created the instance key {settings.secret_key_file} (mode 0600).", err=True)
    try:
        settings.instance_key()
    except InstanceKeyError as exc:
        raise click.ClickException(str(exc)) from None


@main.command("secret-key")
def secret_key() -> None:
    """Print a new random instance key, for VAULTGATE_SECRET_KEY (the same on every machine)."""
    click.echo(generate_instance_key())


@main.command()
@click.option(
    "--threads", type=click.IntRange(1, 64), default=2, show_default=True, help="Jobs run at once by this process."
)
def worker(threads: int) -> None:
    """Run job workers (no API) against the configured database, until interrupted."""
    settings = get_settings()
    upgrade_to_head(settings.database_url)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    pool = WorkerPool(settings, threads, JOB_KINDS)
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    pool.start()
    click.echo(f"worker {pool.name}: {threads} threads on {settings.database_url.split('@')[-1]}", err=True)
    stop.wait()
    # A job still running when the grace period ends is taken over by another worker when its lease expires.
    pool.stop(timeout=settings.job_lease_seconds)


@main.command()
@click.option("--host", default=None, help="Default: VAULTGATE_HOST or 127.0.0.1.")
@click.option("--port", type=int, default=None, help="Default: VAULTGATE_PORT or 8080.")
@click.option("--demo", is_flag=True, help="Create a demo organization, admin and test key; print the key.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Server processes.")
def serve(host: str | None, port: int | None, demo: bool, workers: int) -> None:
    """Migrate the database and serve the API."""
    settings = get_settings()
    hide_process_memory()
    _require_instance_key(settings, create=demo)
    upgrade_to_head(settings.database_url)
    host = host or settings.host
    port = port or settings.port
    if demo:
        key = _demo_key(settings.database_url)
        password = _demo_password(settings.database_url)
        tenant, project_id = create_demo_documents(settings)
        runs = _demo_commands(settings, tenant, project_id, key, f"http://{host}:{port}")
        click.echo(
            f"\n  Demo API key (test mode): {key}\n"
            f"  Demo password ({DEMO_EMAIL}, to approve apps on the OAuth sign-in page): {password}\n"
            f"  curl -H 'Authorization: Bearer {key}' http://{host}:{port}{load_contract().url_for('meta.whoami')}\n"
            f"{runs}"
            f"  MCP for agents (the same key; README: AI agents): http://{host}:{port}/mcp\n"
            f"    npx @modelcontextprotocol/inspector --cli http://{host}:{port}/mcp --transport http "
            f"--method tools/list --header 'Authorization: Bearer {key}'\n"
            f"  MCP with OAuth (no key; the client opens a browser: sign in as {DEMO_EMAIL} with the password above, "
            "and pick test data on the consent page to see the demo project):\n"
            f"    claude mcp add --transport http vaultgate http://{host}:{port}/mcp\n"
            f"  Docs: http://{host}:{port}/docs\n",
            err=True,
        )
    sys.stderr.flush()
    os.environ.setdefault("VAULTGATE_DATABASE_URL", settings.database_url)
    # The app reads its settings afresh (here, or in each server process): the links it signs name this address.
    os.environ["VAULTGATE_HOST"], os.environ["VAULTGATE_PORT"] = host, str(port)
    get_settings.cache_clear()
    uvicorn.run(
        "gateway.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level,
        proxy_headers=False,
    )
