"""`apply DIR|PLANFILE`: plan (or check a saved plan), confirm, execute, report progress."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reconcile.applier import EventKind, StepEvent, apply_plan
from reconcile.cli.app import main
from reconcile.cli.common import (
    Server,
    connect,
    plan_options,
    read_plan_file,
    render_plan,
    selection_options,
    server_options,
)
from reconcile.config import load_config
from reconcile.errors import (
    ApplyError,
    ApplyInterrupted,
    ExitCode,
    ReconcileError,
    SafetyBudgetError,
    StalePlanError,
    UsageError,
)
from reconcile.model import Action, Plan
from reconcile.planner import BindingSource
from reconcile.render import json as render_json
from reconcile.state import StateStore
from reconcile.workflow import PlanResult, plan_for_apply, saved_plan_check


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
        applied = "recorded" if event.action is Action.NOOP else f"{event.action.value} done"
        verb = {
            EventKind.APPLIED: applied,
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
    verdict = "interrupted" if outcome.interrupted else "failed"
    click.echo(f"Apply {verdict}: {applied} applied, {failed} failed, {not_run} not run.")
    for address, error in outcome.failed.items():
        click.echo(f"  failed:  {address}: {error}")
    for address in outcome.not_run:
        click.echo(f"  not run: {address}")
    if outcome.interrupted:
        raise ApplyInterrupted(
            "interrupted; the steps in flight finished and the state file records them",
            hint="run apply again to finish the rest",
        )
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
@selection_options
@server_options
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
        connect(config.settings, ca_bundle=ca_bundle, insecure=insecure) as server,
    ):
        result = plan_for_apply(
            server.client,
            store,
            config.resources,
            source=BindingSource(server.label, str(config.directory.resolve())),
            options=plan_options(config, adopt=adopt, target=target, exclude=exclude),
        )
        click.echo(render_plan(result.plan, "text"), nl=False)
        if not result.plan.has_changes:
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
    data = read_plan_file(path)
    bound = render_json.saved_binding(data)  # a bad file is refused before the config is read
    config = load_config(Path(bound.config_dir))
    desired = config.resources
    plan = render_json.plan_from_file_dict(data, desired=desired)  # sensitive values restored
    store = StateStore(config.settings.state_path)
    with (
        store.lock("apply", timeout=lock_timeout),
        connect(config.settings, ca_bundle=ca_bundle, insecure=insecure) as server,
    ):
        result, reasons = saved_plan_check(
            server.client, store, plan, desired, server_url=server.label
        )
        if reasons:
            raise StalePlanError(
                f"{path} no longer matches what it was planned from: " + "; ".join(reasons),
                hint="make a new plan with `plan -out FILE`",
            )
        click.echo(render_plan(plan, "text"), nl=False)
        _guard_budget(plan, force=force)
        return _execute(
            result,
            server=server,
            store=store,
            parallelism=parallelism or config.settings.parallelism,
            keep_going=keep_going,
            async_timeout=async_timeout,
        )
