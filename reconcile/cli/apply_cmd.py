"""`apply DIR|PLANFILE`: plan (or check a saved plan), confirm, execute, report progress."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import click

from reconcile import planfile
from reconcile.applier import EventKind, StepEvent, apply_plan
from reconcile.cli.app import main
from reconcile.cli.common import Server, connect, plan_options, render_plan
from reconcile.cli.github import annotated, append_summary
from reconcile.cli.options import selection_options, server_options
from reconcile.config import load_config
from reconcile.errors import (
    ApplyError,
    ApplyInterrupted,
    ConfigError,
    ExitCode,
    PlanFileError,
    Problem,
    ReconcileError,
    SafetyBudgetError,
    StalePlanError,
    UsageError,
)
from reconcile.gcpause import CycleSweeper, gc_paused
from reconcile.model import Action, Plan, Selection
from reconcile.planner import BindingSource
from reconcile.render import markdown as render_markdown
from reconcile.state import StateBackend, open_store
from reconcile.workflow import PlanResult, lists_for_apply, plan_for_apply, saved_plan_check

# Step events (two a step) between sweeps of garbage cycles: each sweep walks what the steps
# since the last one allocated and kept, so it costs little and bounds what they leave.
SWEEP_EVERY = 500


class _Progress:
    """Apply progress: a one-line bar with counts on a terminal, else one line per step.

    Lines are echoed with `color=False`: they carry no styles, and click would otherwise ask
    the stream whether it is a terminal on every line (a system call per step)."""

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
            click.echo(f"{line[:110]:<110}", nl=False, err=True, color=False)
            if event.completed == event.total:
                click.echo("", err=True, color=False)
            if event.kind is EventKind.FAILED:
                click.echo(f"\n  failed: {event.address}: {event.message}", err=True, color=False)
            return
        applied = "recorded" if event.action is Action.NOOP else f"{event.action.value} done"
        verb = {
            EventKind.APPLIED: applied,
            EventKind.FAILED: f"{event.action.value} FAILED",
            EventKind.NOT_RUN: "not run",
        }[event.kind]
        took = f" ({event.elapsed_s:.2f} s)" if event.kind is EventKind.APPLIED else ""
        note = f": {event.message}" if event.message and event.kind is not EventKind.APPLIED else ""
        click.echo(
            f"[{event.completed}/{event.total}] {event.address}: {verb}{took}{note}", color=False
        )


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


def _sweeping(report: Callable[[StepEvent], None]) -> Callable[[StepEvent], None]:
    """`report`, and a sweep of the garbage cycles the steps left every few hundred events:
    the command runs with the collector paused. Events come from the thread that schedules
    the steps, between steps: a safe point."""
    sweeper = CycleSweeper(every=SWEEP_EVERY)

    def on_event(event: StepEvent) -> None:
        report(event)
        sweeper.tick()

    return on_event


def _execute(
    result: PlanResult,
    *,
    server: Server,
    store: StateBackend,
    parallelism: int,
    keep_going: bool,
    async_timeout: float,
    fmt: str,
    environment: str,
    listed: Mapping[Any, list[Any]],
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
        on_event=_sweeping(_Progress(tty=sys.stderr.isatty())),
        async_timeout_s=async_timeout,
        listed=listed,
    )
    applied, failed, not_run = len(outcome.applied), len(outcome.failed), len(outcome.not_run)
    verdict = "interrupted" if outcome.interrupted else "failed"
    line = (
        f"Apply complete: {applied} applied."
        if outcome.ok
        else f"Apply {verdict}: {applied} applied, {failed} failed, {not_run} not run."
    )

    def report() -> str:
        plan_report = render_markdown.render(result.plan, command="apply", environment=environment)
        return f"{plan_report}\n**{line}**"

    append_summary(fmt, report)
    click.echo(line)
    if outcome.ok:
        return ExitCode.OK
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


@contextmanager
def _checked_first(store: StateBackend) -> Iterator[None]:
    """Read the state once before connecting: a corrupt state, or one bound to another
    server, is refused before anything is sent to the server."""
    store.read()
    yield


@main.command("apply")
@click.argument("source", type=click.Path(exists=True, path_type=Path), metavar="DIR|PLANFILE")
@click.argument(
    "planned_dir", required=False, type=click.Path(path_type=Path), metavar="[CONFIG_DIR]"
)
@click.option(
    "-C",
    "--config-dir",
    "config_dir",
    type=click.Path(path_type=Path),
    help="With PLANFILE: the config directory to apply it against (default: the one the "
    "plan file names, relative to the current directory).",
)
@click.option("--auto-approve", is_flag=True, help="Apply without asking (CI).")
@click.option("--parallelism", type=click.IntRange(1, 64), help="Concurrent API writes.")
@click.option("--force", is_flag=True, help="Apply a plan that is over the safety budget.")
@click.option("--keep-going", is_flag=True, help="After a failure, still run independent steps.")
@click.option("--lock-timeout", default=0.0, type=click.FloatRange(min=0), metavar="SECONDS")
@click.option("--async-timeout", default=600.0, type=click.FloatRange(min=1), metavar="SECONDS")
@click.option("--format", "fmt", type=click.Choice(["text", "github"]), default="text")
@selection_options
@server_options
@annotated
@gc_paused()
def apply_command(
    *,
    source: Path,
    planned_dir: Path | None,
    config_dir: Path | None,
    auto_approve: bool,
    parallelism: int | None,
    force: bool,
    keep_going: bool,
    lock_timeout: float,
    async_timeout: float,
    fmt: str,
    target: tuple[str, ...],
    exclude: tuple[str, ...],
    adopt: bool,
    replacements: tuple[str, ...],
    ca_bundle: str | None,
    insecure: bool,
) -> int:
    """Apply DIR (plan, show, ask, apply), or a plan saved by `plan -out` (checked first).

    A PLANFILE applies against the config directory it names, relative to the current
    directory (CONFIG_DIR or -C DIR instead)."""
    if source.is_file():
        if target or exclude or adopt or replacements:
            raise UsageError(
                "--target, --exclude, --adopt and --replace belong to the plan, not to a plan file"
            )
        if planned_dir is not None and config_dir is not None and planned_dir != config_dir:
            raise UsageError(f"two config directories given: {planned_dir} and -C {config_dir}")
        return _apply_saved(
            source,
            override=planned_dir or config_dir,
            force=force,
            keep_going=keep_going,
            lock_timeout=lock_timeout,
            async_timeout=async_timeout,
            parallelism=parallelism,
            fmt=fmt,
            ca_bundle=ca_bundle,
            insecure=insecure,
        )
    if planned_dir is not None or config_dir is not None:
        raise UsageError("a config directory after DIR, or -C DIR, goes with a PLANFILE only")
    config = load_config(source)
    with (
        closing(open_store(config.settings, bind=True)) as store,
        store.lock("apply", timeout=lock_timeout),
        _checked_first(store),
        connect(config.settings, ca_bundle=ca_bundle, insecure=insecure) as server,
    ):
        result = plan_for_apply(
            server.client,
            store,
            config.resources,
            source=BindingSource(
                server.label, planfile.recorded_config_dir(config.directory, Path.cwd())
            ),
            options=plan_options(config, Selection(target, exclude, adopt, replacements)),
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
            fmt=fmt,
            environment=config.settings.environment,
            listed=lists_for_apply(server.client, result.plan, result.live),
        )


def _apply_saved(
    path: Path,
    *,
    override: Path | None,
    force: bool,
    keep_going: bool,
    lock_timeout: float,
    async_timeout: float,
    parallelism: int | None,
    fmt: str,
    ca_bundle: str | None,
    insecure: bool,
) -> int:
    """A saved plan is applied without asking, once it is proven fresh and to be the plan its
    binding recomputes; what runs is that recomputed plan."""
    saved = planfile.read(path, key=planfile.plan_key())  # refused before the config is read
    directory = planfile.config_directory(saved, override=override, cwd=Path.cwd())
    try:
        config = load_config(directory)
    except ConfigError as error:
        raise ConfigError(
            error.problems, hint=f"{path} applies against the config directory {directory}"
        ) from None
    options = plan_options(config, saved.selection)
    with (
        closing(open_store(config.settings, bind=True)) as store,
        store.lock("apply", timeout=lock_timeout),
        _checked_first(store),
        connect(config.settings, ca_bundle=ca_bundle, insecure=insecure) as server,
    ):
        result, reasons = saved_plan_check(
            server.client,
            store,
            saved.plan,
            config.resources,
            server_url=server.label,
            options=options,
        )
        if reasons:
            raise StalePlanError(
                f"{path} no longer matches what it was planned from (config {directory}): "
                + "; ".join(reasons),
                hint="make a new plan with `plan -out FILE`",
            )
        mismatch = planfile.differences(saved, result.plan)
        if mismatch:
            raise PlanFileError(
                f"{path} does not hold the plan its binding gives when planned again "
                f"({len(mismatch)} difference(s)); nothing was applied",
                problems=[Problem(m, file=str(path)) for m in mismatch],
                hint="make a new plan with `plan -out FILE`; do not edit plan files",
            )
        click.echo(render_plan(result.plan, "text"), nl=False)
        _guard_budget(result.plan, force=force)
        return _execute(
            result,
            server=server,
            store=store,
            parallelism=parallelism or config.settings.parallelism,
            keep_going=keep_going,
            async_timeout=async_timeout,
            fmt=fmt,
            environment=config.settings.environment,
            listed=result.live.lists,  # read by the check just now
        )
