"""Executes a plan: its steps wave by wave, in parallel inside a wave, state written after each.

Also settles the intents an interrupted run left (`settle_pending`) and says what moved since a
saved plan was made (`verify_binding`). Executes `plan.changes` only, never decides anything
from display-only fields (`reason`), reports progress through a callback and never prints.
The caller holds the state lock for the whole run.

Failure rule: when a step fails, steps already running finish and nothing else starts; with
`keep_going`, every other step still runs except those of a later wave that touch the same
(scope, name) as a failed step (a create that needs a name a failed delete did not free) and
those whose request names an object this run was to create and did not (a template whose
environment's create failed: `StepBlocked`, reported as not run).
"""

from __future__ import annotations

import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from types import FrameType
from typing import Any

from reconcile.apply_steps import (
    ApiCalls,
    PollPolicy,
    RetryPolicy,
    StepBlocked,
    StepFailed,
    StepRunner,
    find_remote_id,
)
from reconcile.errors import PlanError
from reconcile.journal import StateJournal
from reconcile.kinds.lookups import Lookups
from reconcile.kinds.registry import BY_SLUG
from reconcile.live_view import LiveView, fingerprint_of
from reconcile.model import Action, Address, Change, EntryStatus, Plan, Resource, State
from reconcile.planner import with_planned
from reconcile.state import StateBackend

DEFAULT_RETRY = RetryPolicy()

__all__ = [
    "ApplyResult",
    "EventKind",
    "PollPolicy",
    "RetryPolicy",
    "StepEvent",
    "apply_plan",
    "settle_pending",
    "verify_binding",
]


class EventKind(str, Enum):
    START = "start"
    APPLIED = "applied"
    FAILED = "failed"
    NOT_RUN = "not-run"


@dataclass(frozen=True)
class StepEvent:
    """Progress of one step, delivered on the thread that called `apply_plan`."""

    kind: EventKind
    address: Address
    action: Action
    message: str = ""  # FAILED: the error; NOT_RUN: why it did not start
    completed: int = 0  # steps finished so far (applied, failed or not run)
    total: int = 0  # steps in this run
    elapsed_s: float = 0.0  # APPLIED/FAILED: how long the step took


@dataclass(frozen=True)
class ApplyResult:
    """What happened to every step, in plan order, and the state as last written."""

    applied: tuple[Address, ...]
    failed: Mapping[Address, str]  # address -> error text
    not_run: tuple[Address, ...]
    state: State
    state_writes: int = 0
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_run and not self.interrupted


def apply_plan(
    plan: Plan,
    *,
    client: ApiCalls,
    store: StateBackend,
    state: State,
    desired: Mapping[Address, Resource],
    lookups: Lookups,
    parallelism: int = 8,
    keep_going: bool = False,
    on_event: Callable[[StepEvent], None] | None = None,
    async_timeout_s: float = 600.0,
    poll_interval_s: float = 2.0,
    retry: RetryPolicy = DEFAULT_RETRY,
    listed: Mapping[Any, list[Any]] | None = None,
) -> ApplyResult:
    """Carry out `plan` against the server and record every completed step in `store`.

    `state` is the state the plan was made from (settled, as on disk); `desired` the
    normalized desired set the plan was made from (what is sent comes from it, since a saved
    plan holds hashes of sensitive values); `lookups` fresh name <-> id lookups. `listed`:
    list reads made since the plan, by fetch key (`live.read_lists`): an update, replace or
    delete of a kind read there is checked against it, not with a GET.
    """
    steps = list(plan.steps())
    # What this plan creates is named by planned ids until its create returns (a step that
    # still names one then is not started), as when the plan was made.
    creating = {c.address for c in steps if c.action is Action.CREATE}
    lookups = with_planned(lookups, desired, existing=set(desired) - creating)
    journal = StateJournal(store, state)
    runner = StepRunner(
        client=client,
        journal=journal,
        fingerprints=plan.binding.live_fingerprints,
        lookups=lookups,
        desired=desired,
        retry=retry,
        poll=PollPolicy(timeout_s=async_timeout_s, interval_s=poll_interval_s),
        listed=listed,
    )
    run = _Run(steps, runner.run, parallelism=parallelism, keep_going=keep_going, on_event=on_event)
    run.execute()
    return ApplyResult(
        applied=tuple(c.address for c in steps if c.address in run.applied),
        failed={c.address: run.failed[c.address] for c in steps if c.address in run.failed},
        not_run=tuple(c.address for c in steps if c.address in run.not_run),
        state=journal.state,
        state_writes=journal.writes,
        interrupted=run.interrupted,
    )


@contextmanager
def _ctrl_c_sets(run: _Run) -> Iterator[None]:
    """Ctrl-C sets `run.interrupted` instead of raising: what is in flight finishes (and is
    recorded), nothing else starts, and the report says which is which; a second Ctrl-C
    aborts. A flag, because a KeyboardInterrupt may land anywhere, e.g. inside a progress
    line being written, where no step could be accounted for."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals
        return
    previous = signal.getsignal(signal.SIGINT)

    def interrupt(signum: int, frame: FrameType | None) -> None:
        if run.interrupted:
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        run.interrupted = True

    signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _keys(change: Change) -> set[tuple[str, str]]:
    """The (scope, name) pairs a step touches: its address, and the one it moves from."""
    return {(a.scope, a.name) for a in (change.address, change.replaces) if a is not None}


@dataclass
class _Run:
    """Schedules the steps: waves in order, up to `parallelism` steps of one wave at once."""

    steps: Sequence[Change]
    execute_step: Callable[[Change], None]
    parallelism: int = 8
    keep_going: bool = False
    on_event: Callable[[StepEvent], None] | None = None
    applied: set[Address] = field(default_factory=set)
    failed: dict[Address, str] = field(default_factory=dict)
    not_run: dict[Address, str] = field(default_factory=dict)
    _failed_keys: dict[tuple[str, str], Change] = field(default_factory=dict)
    interrupted: bool = False  # Ctrl-C: steps in flight finished, nothing else started

    def execute(self) -> None:
        waves = sorted({c.wave for c in self.steps})
        workers = max(1, min(self.parallelism, len(self.steps) or 1))
        with (
            _ctrl_c_sets(self),
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="apply") as pool,
        ):
            for wave in waves:
                steps = [c for c in self.steps if c.wave == wave]
                if self.interrupted:
                    for step in steps:
                        self._finish(step, EventKind.NOT_RUN, "not started: interrupted")
                    continue
                self._wave(steps, pool)

    def _wave(self, steps: list[Change], pool: ThreadPoolExecutor) -> None:
        queue = deque(steps)
        running: dict[Future[tuple[EventKind, str, float]], Change] = {}
        while queue or running:
            while queue and len(running) < max(1, self.parallelism):
                step = queue.popleft()
                blocked = "not started: interrupted" if self.interrupted else self._blocked(step)
                if blocked:
                    self._finish(step, EventKind.NOT_RUN, blocked)
                    continue
                self._emit(EventKind.START, step)
                running[pool.submit(self._timed, step)] = step
            if running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: running[f].address):
                    kind, error, elapsed = future.result()
                    self._finish(running.pop(future), kind, error, elapsed)

    def _blocked(self, step: Change) -> str:
        """Why `step` must not start ("" when it may)."""
        if not self.failed:
            return ""
        if not self.keep_going:
            return "not started: an earlier step failed"
        for key in sorted(_keys(step)):
            failed = self._failed_keys.get(key)
            if failed is not None and failed.wave < step.wave:
                return f"not started: it depends on {failed.address}, which failed"
        return ""

    def _timed(self, step: Change) -> tuple[EventKind, str, float]:
        started = time.monotonic()
        try:
            self.execute_step(step)
        except StepBlocked as blocked:  # what it names was not created: it never started
            return EventKind.NOT_RUN, blocked.message, time.monotonic() - started
        except StepFailed as failed:
            return EventKind.FAILED, failed.message, time.monotonic() - started
        except Exception as error:  # a bug must not hide which steps completed
            message = f"unexpected {type(error).__name__}: {error}"
            return EventKind.FAILED, message, time.monotonic() - started
        return EventKind.APPLIED, "", time.monotonic() - started

    def _finish(self, step: Change, kind: EventKind, message: str, elapsed: float = 0.0) -> None:
        if kind is EventKind.APPLIED:
            self.applied.add(step.address)
        elif kind is EventKind.FAILED:
            self.failed[step.address] = message
            for key in _keys(step):
                self._failed_keys.setdefault(key, step)
        else:
            self.not_run[step.address] = message
        self._emit(kind, step, message, elapsed)

    def _emit(self, kind: EventKind, step: Change, message: str = "", elapsed: float = 0.0) -> None:
        if self.on_event is None:
            return
        completed = len(self.applied) + len(self.failed) + len(self.not_run)
        self.on_event(
            StepEvent(kind, step.address, step.action, message, completed, len(self.steps), elapsed)
        )


# --- before planning -------------------------------------------------------------------------


def settle_pending(client: ApiCalls, store: StateBackend, state: State, lookups: Lookups) -> State:
    """Resolve the `pending-create` intents an interrupted run left, by looking names up.

    Found: the create landed; take the object's id and mark the entry applied. Absent: drop
    the entry (the plan will create it). An address the lookups cannot resolve keeps its
    intent. Writes state once, only when something was settled; returns the state to plan
    with. Call it holding the state lock.
    """
    pending = [e for e in state.entries.values() if e.status is EntryStatus.PENDING_CREATE]
    if not pending:
        return state

    def lookup(address: Address) -> Callable[[], str | PlanError | None]:
        def call() -> str | PlanError | None:
            try:
                return find_remote_id(client, BY_SLUG[address.kind], address, lookups)
            except PlanError as error:  # e.g. its project is gone: leave the intent alone
                return error

        return call

    results = client.concurrently([lookup(e.address) for e in pending])
    outcome = {
        e.address: r for e, r in zip(pending, results, strict=True) if not isinstance(r, PlanError)
    }
    if not outcome:
        return state

    def settle(current: State) -> State:
        for address, remote_id in outcome.items():
            entry = current.entries.get(address)
            if entry is None or entry.status is not EntryStatus.PENDING_CREATE:
                continue
            if remote_id is None:
                current = current.without(address)
            else:
                current = current.with_entry(
                    replace(entry, remote_id=remote_id, status=EntryStatus.APPLIED)
                )
        return current

    return store.update(settle)


# --- saved plans -----------------------------------------------------------------------------


def verify_binding(
    plan: Plan,
    *,
    state: State,
    desired_digest: str,
    live: LiveView,
    server_url: str,
    now: datetime | None = None,
) -> list[str]:
    """What moved since `plan` was made, as human reasons; empty when it may be applied.

    `live` must include every address in the binding's fingerprints (a fingerprint of ""
    means the address had no object and must still have none).
    """
    binding = plan.binding
    reasons: list[str] = []
    if state.lineage != binding.state_lineage:
        reasons.append(
            f"the state is another lineage ({state.lineage}) than the plan's "
            f"({binding.state_lineage})"
        )
    elif state.serial != binding.state_serial:
        reasons.append(f"state serial moved from {binding.state_serial} to {state.serial}")
    if desired_digest != binding.desired_digest:
        reasons.append("the configuration changed since the plan")
    if server_url.rstrip("/") != binding.server_url.rstrip("/"):
        reasons.append(f"the plan was made for {binding.server_url}, not {server_url}")
    reasons += _moved_objects(binding.live_fingerprints, live)
    age = _age_reason(binding.created_at, binding.ttl_seconds, now or datetime.now(timezone.utc))
    if age:
        reasons.append(age)
    return reasons


def _moved_objects(fingerprints: Mapping[str, str], live: LiveView) -> list[str]:
    reasons = []
    for text, expected in sorted(fingerprints.items()):
        current = live.resources.get(Address.parse(text))
        actual = fingerprint_of(current) if current is not None else ""
        if actual == expected:
            continue
        if not expected:
            reasons.append(f"{text} was created on the server since the plan")
        elif current is None:
            reasons.append(f"{text} was deleted on the server since the plan")
        else:
            who = f" (by {current.updated_by})" if current.updated_by else ""
            reasons.append(f"{text} changed on the server since the plan{who}")
    return reasons


def _age_reason(created_at: str, ttl_seconds: int, now: datetime) -> str:
    try:
        created = datetime.strptime(created_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return f"the plan's creation time {created_at!r} is unreadable"
    age = (now - created).total_seconds()
    if age <= ttl_seconds:
        return ""
    return f"plan is {_duration(age)} old (ttl {_duration(ttl_seconds)})"


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h" if seconds < 48 * 3600 else f"{int(seconds // 86400)} d"
    if seconds >= 60:
        return f"{int(seconds // 60)} min"
    return f"{int(seconds)} s"
