"""The command-line interface: click commands, and the only module that prints or prompts.

One top-level handler maps every `ReconcileError` to its exit code (DESIGN.md section 6);
click's own usage errors exit 64 so that 2 always means "changes present".
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click

from reconcile import __version__
from reconcile.applier import EventKind, StepEvent, apply_plan, is_step
from reconcile.client import Client
from reconcile.config import Config, load_config, load_settings, read_config
from reconcile.credentials import Credentials
from reconcile.errors import (
    ApplyError,
    ExitCode,
    PlanError,
    Problem,
    ReconcileError,
    SafetyBudgetError,
    StalePlanError,
    StateError,
    UsageError,
)
from reconcile.model import Address, EntryStatus, Plan
from reconcile.planner import BindingSource, PlanOptions, normalized
from reconcile.render import json as render_json
from reconcile.render import markdown as render_markdown
from reconcile.render import text as render_text
from reconcile.settings import Settings
from reconcile.state import StateStore
from reconcile.workflow import (
    PlanResult,
    drift_run,
    plan_for_apply,
    plan_run,
    saved_plan_check,
)


@dataclass(frozen=True)
class Server:
    """The server a command talks to: its client, and how plans name it."""

    client: Client
    label: str  # the URL, or `embedded:<db path>` (the emulator's port changes every run)


def _report(error: ReconcileError) -> None:
    """Print an error, every collected problem, and a hint; never a traceback."""
    click.echo(f"Error: {error.message}", err=True)
    for problem in getattr(error, "problems", ()):
        where = problem.location()
        path = f" [{problem.json_path}]" if problem.json_path else ""
        click.echo(f"  {where + ': ' if where else ''}{problem.message}{path}", err=True)
    if error.hint:
        click.echo(f"Hint: {error.hint}", err=True)


class _Group(click.Group):
    """A click group whose errors become the project's exit codes."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except click.UsageError as error:
            error.show()
            sys.exit(ExitCode.USAGE)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(ExitCode.INTERRUPTED)
        except click.ClickException as error:
            error.show()
            sys.exit(ExitCode.ERROR)
        except ReconcileError as error:
            _report(error)
            sys.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(ExitCode.INTERRUPTED)
        except Exception as error:  # a bug of ours: say so plainly, traceback only on request
            if os.environ.get("RUNAI_RECONCILE_DEBUG"):
                raise
            click.echo(f"Error: internal error: {type(error).__name__}: {error}", err=True)
            click.echo(
                "Hint: set RUNAI_RECONCILE_DEBUG=1 for the traceback, and report it.", err=True
            )
            sys.exit(ExitCode.ERROR)
        sys.exit(result if isinstance(result, int) else ExitCode.OK)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runai-reconcile")
def main() -> None:
    """Declarative configuration for the NVIDIA Run:ai control plane."""


# --- emulator commands (issue 2) ---

_RATE = click.FloatRange(0.0, 1.0)
_MS = click.IntRange(min=0)


@main.group()
def emulator() -> None:
    """The Run:ai API emulator (a stand-in for a Run:ai control plane, for tests and CI)."""


@emulator.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535))
@click.option("--db", default=":memory:", show_default=True, help="SQLite file, or :memory:.")
@click.option("--seed", type=click.Path(exists=True, dir_okay=False), help="Tenant seed YAML.")
@click.option("--client-id", help="Accepted client id (else RUNAI_CLIENT_ID, else 'emulator').")
@click.option("--client-secret", help="Accepted secret (else RUNAI_CLIENT_SECRET, else default).")
@click.option("--token-ttl", default=3600, show_default=True, type=click.IntRange(min=1))
@click.option("--latency-ms", default=0, type=_MS, help="Fixed delay added to every API call.")
@click.option("--error-rate", default=0.0, type=_RATE, help="Share of calls answered 500/503.")
@click.option("--throttle-rate", default=0.0, type=_RATE, help="Share answered 429.")
@click.option(
    "--commit-then-fail-rate", default=0.0, type=_RATE, help="Share of writes stored, then failed."
)
@click.option("--visibility-delay-ms", default=0, type=_MS, help="New objects hidden from reads.")
@click.option("--seed-random", type=int, help="Seed the fault RNG for repeatable runs.")
@click.option("--sync-delay-ms", default=0, type=_MS, help="Workloads V2 time to Synced.")
@click.option("--allow-remote", is_flag=True, help="Permit a non-loopback --host.")
def emulator_serve(
    *,
    host: str,
    port: int,
    db: str,
    seed: str | None,
    client_id: str | None,
    client_secret: str | None,
    token_ttl: int,
    allow_remote: bool,
    **faults: Any,
) -> None:
    """Serve the Run:ai API emulator until interrupted (Ctrl-C)."""
    from reconcile.emulator.auth import Credentials
    from reconcile.emulator.cli_support import is_loopback_host, settings_from_flags
    from reconcile.emulator.server import serve

    if not allow_remote and not is_loopback_host(host):
        raise click.UsageError(
            f"--host {host} is not a loopback address; pass --allow-remote to expose the emulator"
        )
    credentials = Credentials.resolve(client_id, client_secret)

    def ready(url: str) -> None:
        click.echo(f"Run:ai API emulator (not a real control plane) listening on {url}")
        click.echo(f"  db: {db}   client id: {credentials.client_id}   token ttl: {token_ttl}s")
        click.echo("  admin API: /_emulator/ (loopback only); Ctrl-C stops")

    try:
        serve(
            host=host,
            port=port,
            on_ready=ready,
            db=db,
            seed=seed,
            credentials=credentials,
            token_ttl=token_ttl,
            settings=settings_from_flags(**faults),
        )
    except OSError as error:
        raise click.ClickException(f"cannot serve on {host}:{port}: {error}") from error
    except KeyboardInterrupt:
        click.echo("Emulator stopped.")


# --- validate (issue 3) ---


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text: path:line:col lines; json: one document; github: workflow annotations.",
)
def validate(directory: Path, output_format: str) -> int:
    """Check DIRECTORY offline (YAML, schemas, names, manifests); exit 1 on any problem."""
    config = read_config(directory)
    if output_format == "json":
        click.echo(json.dumps(_validation_document(config), indent=2, sort_keys=True))
    else:
        line = _github_line if output_format == "github" else _text_line
        for problem in config.problems:
            click.echo(line(problem))
        counts = f"{config.documents} documents in {config.files} files under {directory}"
        if config.problems:
            click.echo(f"{len(config.problems)} problem(s) in {counts}.", err=True)
        else:
            click.echo(f"Valid: {counts} (checked offline).")
    return ExitCode.OK if config.ok else ExitCode.ERROR


def _text_line(problem: Problem) -> str:
    where = problem.location() or "."
    path = f" [{problem.json_path}]" if problem.json_path else ""
    return f"{where}: error: {problem.message}{path}"


def _github_line(problem: Problem) -> str:
    """A workflow command: data escapes %, CR, LF; property values also ':' and ','."""

    def data(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def prop(text: str) -> str:
        return data(text).replace(":", "%3A").replace(",", "%2C")

    fields = [f"file={prop(problem.file)}"] if problem.file else []
    if problem.line:
        fields += [f"line={problem.line}", f"col={problem.col or 1}"]
    path = f" [{problem.json_path}]" if problem.json_path else ""
    return f"::error {','.join(fields)}::{data(problem.message + path)}"


def _validation_document(config: Config) -> dict[str, Any]:
    return {
        "format_version": "1.0",
        "valid": config.ok,
        "directory": str(config.directory),
        "files": config.files,
        "documents": config.documents,
        "addresses": [str(address) for address in config.resources],
        "problems": [
            {
                "file": p.file,
                "line": p.line,
                "col": p.col,
                "json_path": p.json_path,
                "message": p.message,
                "severity": "error",
            }
            for p in config.problems
        ],
    }


# --- plan, show, drift (issue 4) ---

_FORMATS = click.Choice(["text", "json", "markdown"])


def _server_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """TLS options shared by every command that talks to a server."""
    function = click.option(
        "--insecure", is_flag=True, help="Skip TLS certificate verification (never in CI)."
    )(function)
    return click.option(
        "--ca-bundle",
        type=click.Path(exists=True, dir_okay=False),
        help="CA bundle to verify the server's certificate with.",
    )(function)


def _selection_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Which addresses a plan covers, and whether it adopts unowned live objects."""
    function = click.option(
        "--adopt", is_flag=True, help="Manage live objects that match desired addresses."
    )(function)
    function = click.option(
        "--exclude", multiple=True, metavar="ADDR", help="Leave these addresses out."
    )(function)
    return click.option(
        "--target",
        multiple=True,
        metavar="ADDR",
        help="Only these addresses (an address, or a prefix such as a kind).",
    )(function)


@contextmanager
def _connect(settings: Settings, *, ca_bundle: str | None, insecure: bool) -> Iterator[Server]:
    """The server of `settings`: the embedded emulator, or a Run:ai URL with env credentials.

    Says which one in the run's first line (on stderr, so stdout stays machine-readable).
    """
    if settings.embedded:
        from reconcile.emulator.server import EmbeddedEmulator

        db = settings.emulator_db
        db.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(24)  # per process: nothing else can call this server
        with EmbeddedEmulator(db=db, client_id="runai-reconcile", client_secret=secret) as emu:
            click.echo(
                f"Server: embedded Run:ai emulator (not a real control plane), db {db}", err=True
            )
            creds = Credentials(client_id="runai-reconcile", client_secret=secret)
            with Client(emu.url, credentials=creds) as client:
                yield Server(client=client, label=f"embedded:{db}")
        return
    creds = Credentials.from_env()
    if insecure:
        click.echo("Warning: --insecure: the server's TLS certificate is NOT verified.", err=True)
    click.echo(f"Server: {settings.server}", err=True)
    with Client(
        settings.server, credentials=creds, ca_bundle=ca_bundle, insecure=insecure
    ) as client:
        yield Server(client=client, label=settings.server.rstrip("/"))


def _color(stream: Any) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    return "NO_COLOR" not in os.environ and bool(getattr(stream, "isatty", lambda: False)())


def _render(plan: Plan, fmt: str) -> str:
    if fmt == "json":
        return render_json.render(plan)
    if fmt == "markdown":
        return render_markdown.render(plan)
    return render_text.render(plan, color=_color(sys.stdout))


def _plan_options(
    config: Config, *, adopt: bool, target: tuple[str, ...], exclude: tuple[str, ...]
) -> PlanOptions:
    return PlanOptions(
        adopt=adopt,
        targets=target,
        excludes=exclude,
        safety=config.settings.safety,
        ttl_seconds=config.settings.plan_ttl_seconds,
    )


def _write_plan_file(path: Path, plan: Plan) -> None:
    """A saved plan: JSON, sensitive values as salted hashes, readable by the owner only."""
    document = render_json.plan_to_file_dict(plan, secrets.token_hex(16))
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # The mode above applies only to a new file: an existing one keeps its own until chmod.
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def _plan_exit(plan: Plan, *, detailed: bool) -> int:
    if plan.safety_violations:
        return ExitCode.OVER_BUDGET
    if detailed and plan.has_changes:
        return ExitCode.CHANGES
    return ExitCode.OK


@main.command("plan")
@click.argument("config_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "-out",
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan for `apply PLANFILE`.",
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes.")
@click.option("--format", "fmt", type=_FORMATS, default="text", show_default=True)
@_selection_options
@_server_options
def plan_command(
    *,
    config_dir: Path,
    out: Path | None,
    detailed_exitcode: bool,
    fmt: str,
    target: tuple[str, ...],
    exclude: tuple[str, ...],
    adopt: bool,
    ca_bundle: str | None,
    insecure: bool,
) -> int:
    """Show the API calls that would bring the server to CONFIG_DIR."""
    config = load_config(config_dir)
    store = StateStore(config.settings.state_path)
    state = store.read()
    with _connect(config.settings, ca_bundle=ca_bundle, insecure=insecure) as server:
        result = plan_run(
            server.client,
            config.resources,
            state,
            source=BindingSource(server.label, str(config.directory.resolve())),
            options=_plan_options(config, adopt=adopt, target=target, exclude=exclude),
        )
    click.echo(_render(result.plan, fmt), nl=False)
    if out is not None:
        _write_plan_file(out, result.plan)
        click.echo(
            f"Saved the plan to {out}; apply it with `runai-reconcile apply {out}`.", err=True
        )
    return _plan_exit(result.plan, detailed=detailed_exitcode)


def _read_plan_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read plan file {path}: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PlanError(f"{path} is not a plan file: {error}") from None
    if not isinstance(data, dict):
        raise PlanError(f"{path} is not a plan file")
    return data


@main.command("show")
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=_FORMATS, default="text", show_default=True)
def show_command(*, plan_file: Path, fmt: str) -> int:
    """Show a plan saved by `plan -out FILE` (sensitive values stay hidden)."""
    plan = render_json.plan_from_file_dict(_read_plan_file(plan_file))
    click.echo(_render(plan, fmt), nl=False)
    return ExitCode.OK


@main.command("drift")
@click.argument("config_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=_FORMATS, default="text", show_default=True)
@_server_options
def drift_command(*, config_dir: Path, fmt: str, ca_bundle: str | None, insecure: bool) -> int:
    """Report owned objects changed or deleted outside the tool (read-only; exit 2 on drift)."""
    config = load_config(config_dir)
    state = StateStore(config.settings.state_path).read()  # read-only: never takes the lock
    with _connect(config.settings, ca_bundle=ca_bundle, insecure=insecure) as server:
        found = drift_run(server.client, config.resources, state)
    if fmt == "json":
        click.echo(render_json.render_drift(found), nl=False)
    elif fmt == "markdown":
        click.echo(render_markdown.render_drift(found), nl=False)
    else:
        click.echo(render_text.render_drift(found, color=_color(sys.stdout)), nl=False)
    return ExitCode.CHANGES if found else ExitCode.OK


# --- apply, state, force-unlock (issue 5) ---


class _Progress:
    """Apply progress: a one-line bar with counts on a terminal, else one line per step."""

    def __init__(self, *, tty: bool) -> None:
        self.tty = tty

    def __call__(self, event: StepEvent) -> None:
        if event.kind is EventKind.START:
            return
        if self.tty:
            width = 30
            done = width * event.completed // max(event.total, 1)
            bar = "#" * done + "." * (width - done)
            line = f"\r[{bar}] {event.completed}/{event.total} {event.address}"
            click.echo(f"{line[:110]:<110}", nl=False, err=True)
            if event.completed == event.total:
                click.echo("", err=True)
            if event.kind is EventKind.FAILED:
                click.echo(f"\n  failed: {event.address}: {event.message}", err=True)
            return
        verb = {
            EventKind.APPLIED: f"{event.action.value} done",
            EventKind.FAILED: f"{event.action.value} FAILED",
            EventKind.NOT_RUN: "not run",
        }[event.kind]
        took = f" ({event.elapsed_s:.2f} s)" if event.kind is EventKind.APPLIED else ""
        note = f": {event.message}" if event.message and event.kind is not EventKind.APPLIED else ""
        click.echo(f"[{event.completed}/{event.total}] {event.address}: {verb}{took}{note}")


def _confirm(*, auto_approve: bool) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise ReconcileError(
            "refusing to apply without confirmation: standard input is not a terminal",
            hint="review the plan, then pass --auto-approve (CI) or apply a saved plan file",
        )
    if not click.confirm("Apply these changes?", default=False):
        raise ReconcileError("apply cancelled; nothing was changed")


def _guard_budget(plan: Plan, *, force: bool) -> None:
    if plan.safety_violations and not force:
        raise SafetyBudgetError(
            "the plan is over the safety budget: " + "; ".join(plan.safety_violations),
            hint="check the plan; pass --force to apply it anyway",
        )


def _execute(
    result: PlanResult,
    *,
    server: Server,
    store: StateStore,
    parallelism: int,
    keep_going: bool,
    async_timeout: float,
) -> int:
    outcome = apply_plan(
        result.plan,
        client=server.client,
        store=store,
        state=result.state,
        desired=result.desired,
        lookups=result.live.lookups,
        parallelism=parallelism,
        keep_going=keep_going,
        on_event=_Progress(tty=sys.stderr.isatty()),
        async_timeout_s=async_timeout,
    )
    applied, failed, not_run = len(outcome.applied), len(outcome.failed), len(outcome.not_run)
    if outcome.ok:
        click.echo(f"Apply complete: {applied} applied.")
        return ExitCode.OK
    click.echo(f"Apply failed: {applied} applied, {failed} failed, {not_run} not run.")
    for address, error in outcome.failed.items():
        click.echo(f"  failed:  {address}: {error}")
    for address in outcome.not_run:
        click.echo(f"  not run: {address}")
    raise ApplyError(
        f"{failed} step(s) failed; the state file records exactly what was applied",
        hint="fix the cause and run apply again: it continues from where this run stopped",
    )


@main.command("apply")
@click.argument("source", type=click.Path(exists=True, path_type=Path), metavar="DIR|PLANFILE")
@click.option("--auto-approve", is_flag=True, help="Apply without asking (CI).")
@click.option("--parallelism", type=click.IntRange(1, 64), help="Concurrent API writes.")
@click.option("--force", is_flag=True, help="Apply a plan that is over the safety budget.")
@click.option("--keep-going", is_flag=True, help="After a failure, still run independent steps.")
@click.option("--lock-timeout", default=0.0, type=click.FloatRange(min=0), metavar="SECONDS")
@click.option("--async-timeout", default=600.0, type=click.FloatRange(min=1), metavar="SECONDS")
@_selection_options
@_server_options
def apply_command(
    *,
    source: Path,
    auto_approve: bool,
    parallelism: int | None,
    force: bool,
    keep_going: bool,
    lock_timeout: float,
    async_timeout: float,
    target: tuple[str, ...],
    exclude: tuple[str, ...],
    adopt: bool,
    ca_bundle: str | None,
    insecure: bool,
) -> int:
    """Apply DIR (plan, show, ask, apply), or a plan saved by `plan -out` (checked first)."""
    if source.is_file():
        if target or exclude or adopt:
            raise UsageError(
                "--target, --exclude and --adopt belong to the plan, not to a plan file"
            )
        return _apply_saved(
            source,
            force=force,
            keep_going=keep_going,
            lock_timeout=lock_timeout,
            async_timeout=async_timeout,
            parallelism=parallelism,
            ca_bundle=ca_bundle,
            insecure=insecure,
        )
    config = load_config(source)
    store = StateStore(config.settings.state_path)
    with (
        store.lock("apply", timeout=lock_timeout),
        _connect(config.settings, ca_bundle=ca_bundle, insecure=insecure) as server,
    ):
        result = plan_for_apply(
            server.client,
            store,
            config.resources,
            source=BindingSource(server.label, str(config.directory.resolve())),
            options=_plan_options(config, adopt=adopt, target=target, exclude=exclude),
        )
        click.echo(_render(result.plan, "text"), nl=False)
        if not any(is_step(c, result.state) for c in result.plan.changes):
            return ExitCode.OK
        _guard_budget(result.plan, force=force)
        _confirm(auto_approve=auto_approve)
        return _execute(
            result,
            server=server,
            store=store,
            parallelism=parallelism or config.settings.parallelism,
            keep_going=keep_going,
            async_timeout=async_timeout,
        )


def _apply_saved(
    path: Path,
    *,
    force: bool,
    keep_going: bool,
    lock_timeout: float,
    async_timeout: float,
    parallelism: int | None,
    ca_bundle: str | None,
    insecure: bool,
) -> int:
    """A saved plan is applied without asking, once its binding is proven fresh."""
    data = _read_plan_file(path)
    bound = render_json.plan_from_file_dict(data).binding
    config = load_config(Path(bound.config_dir))
    desired = normalized(config.resources)
    plan = render_json.plan_from_file_dict(data, desired=desired)  # sensitive values restored
    store = StateStore(config.settings.state_path)
    with (
        store.lock("apply", timeout=lock_timeout),
        _connect(config.settings, ca_bundle=ca_bundle, insecure=insecure) as server,
    ):
        result, reasons = saved_plan_check(
            server.client, store, plan, desired, server_url=server.label
        )
        if reasons:
            raise StalePlanError(
                f"{path} no longer matches what it was planned from: " + "; ".join(reasons),
                hint="make a new plan with `plan -out FILE`",
            )
        click.echo(_render(plan, "text"), nl=False)
        _guard_budget(plan, force=force)
        return _execute(
            result,
            server=server,
            store=store,
            parallelism=parallelism or config.settings.parallelism,
            keep_going=keep_going,
            async_timeout=async_timeout,
        )


def _state_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Where the state file is: the config directory's settings, or an explicit --state."""
    function = click.option(
        "--state",
        "state_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="The state file (default: the one the config directory's settings name).",
    )(function)
    return click.option(
        "-C",
        "--config-dir",
        default=".",
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="The config directory whose settings name the state file.",
    )(function)


def _store(config_dir: Path, state_file: Path | None) -> StateStore:
    if state_file is not None:
        return StateStore(state_file)
    return StateStore(load_settings(config_dir).state_path)


def _address(text: str) -> Address:
    try:
        return Address.parse(text)
    except ValueError as error:
        raise UsageError(str(error)) from None


@main.group("state")
def state_group() -> None:
    """Inspect and edit the state file (what the tool owns) without touching the server."""


@state_group.command("list")
@_state_options
def state_list(*, config_dir: Path, state_file: Path | None) -> int:
    """List the owned addresses, one a line, sorted."""
    state = _store(config_dir, state_file).read()
    for address in sorted(state.entries):
        entry = state.entries[address]
        pending = "  (pending-create)" if entry.status is EntryStatus.PENDING_CREATE else ""
        click.echo(f"{address}{pending}")
    return ExitCode.OK


@state_group.command("show")
@click.argument("address")
@_state_options
def state_show(*, address: str, config_dir: Path, state_file: Path | None) -> int:
    """Show one entry: its remote id, status and what was last applied."""
    state = _store(config_dir, state_file).read()
    entry = state.entries.get(_address(address))
    if entry is None:
        raise StateError(f"{address} is not in the state")
    click.echo(json.dumps({str(entry.address): entry.to_dict()}, indent=2, sort_keys=True))
    return ExitCode.OK


@state_group.command("rm")
@click.argument("addresses", nargs=-1, required=True)
@click.option("--lock-timeout", default=0.0, type=click.FloatRange(min=0), metavar="SECONDS")
@_state_options
def state_rm(
    *, addresses: tuple[str, ...], lock_timeout: float, config_dir: Path, state_file: Path | None
) -> int:
    """Stop managing ADDRESSES: drop them from state; the server objects stay as they are."""
    store = _store(config_dir, state_file)
    wanted = [_address(a) for a in addresses]
    with store.lock("state rm", timeout=lock_timeout):
        state = store.read()
        missing = [str(a) for a in wanted if a not in state.entries]
        if missing:
            raise StateError(f"not in the state: {', '.join(missing)}")
        for address in wanted:
            state = state.without(address)
        store.write(state)
    for address in wanted:
        click.echo(f"Removed {address} from the state (the server object was not touched).")
    return ExitCode.OK


@state_group.command("mv")
@click.argument("source")
@click.argument("destination")
@click.option("--lock-timeout", default=0.0, type=click.FloatRange(min=0), metavar="SECONDS")
@_state_options
def state_mv(
    *, source: str, destination: str, lock_timeout: float, config_dir: Path, state_file: Path | None
) -> int:
    """Rename an owned address (after renaming its document) without destroying the object."""
    store = _store(config_dir, state_file)
    old, new = _address(source), _address(destination)
    if old.kind != new.kind:
        raise UsageError(f"cannot move {old} to another kind ({new.kind})")
    with store.lock("state mv", timeout=lock_timeout):
        state = store.read()
        entry = state.entries.get(old)
        if entry is None:
            raise StateError(f"{old} is not in the state")
        if new in state.entries:
            raise StateError(f"{new} is already in the state")
        store.write(state.without(old).with_entry(replace(entry, address=new)))
    click.echo(f"Moved {old} to {new}.")
    return ExitCode.OK


@main.command("force-unlock")
@click.argument("lock_id")
@_state_options
def force_unlock_command(*, lock_id: str, config_dir: Path, state_file: Path | None) -> int:
    """Remove a stale state lock; LOCK_ID must match the holder's (see the locked error)."""
    holder = _store(config_dir, state_file).force_unlock(lock_id)
    click.echo(f"Removed the lock held by {holder.describe()}.")
    return ExitCode.OK
