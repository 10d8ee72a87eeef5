"""The project's error types and exit codes.

Every failure a user can cause or meet is a `ReconcileError` subclass carrying its exit
code; the CLI's single top-level handler maps them. This module imports nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Process exit codes (docs/design.md, section 6)."""

    OK = 0
    ERROR = 1
    CHANGES = 2  # plan --detailed-exitcode: changes present; drift: drift found
    OVER_BUDGET = 3
    LOCKED = 4
    USAGE = 64  # click's own 2 is remapped so that 2 always means "changes"
    INTERRUPTED = 130


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's input, with where it is."""

    message: str
    file: str = ""
    line: int = 0  # 1-based; 0 when unknown
    col: int = 0  # 1-based; 0 when unknown
    json_path: str = ""  # e.g. "$.spec.compute.gpuDevicesRequest"
    # Other files the problem is about (the document using the base a problem is written
    # in), so checking one of them alone reports it too.
    related: tuple[str, ...] = ()

    def location(self) -> str:
        if not self.file:
            return ""
        if self.line:
            return f"{self.file}:{self.line}:{self.col or 1}"
        return self.file


class ReconcileError(Exception):
    """Base of every error the tool reports to the user without a traceback."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(ReconcileError):
    """The command line itself is wrong."""

    exit_code = ExitCode.USAGE


class ConfigError(ReconcileError):
    """The desired-state directory has problems; all of them are collected."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...], *, hint: str = "") -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        first = self.problems[0].message if self.problems else "invalid configuration"
        summary = first if count == 1 else f"{count} problems in the configuration"
        super().__init__(summary, hint=hint)


class ApiError(ReconcileError):
    """The Run:ai API answered with an error, or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        method: str = "",
        path: str = "",
        details: str = "",
        hint: str = "",
        retry_after: float | None = None,
    ) -> None:
        where = f"{method} {path}: " if method else ""
        code = f"HTTP {status}: " if status else ""
        super().__init__(f"{where}{code}{message}", hint=hint)
        self.status = status  # 0: no answer (connection failed or timed out)
        self.method = method
        self.path = path
        self.details = details
        self.retry_after = retry_after  # seconds, from a Retry-After header (429/503)


class AuthError(ApiError):
    """Credentials are missing or were refused."""


class UnreachableError(ApiError):
    """The server's name did not resolve or its port refused the connection: nothing was sent."""


class RedirectRefusedError(ApiError):
    """The server redirected a call to another origin, where credentials must not go."""


class ResponseTooLargeError(ApiError):
    """An answer was longer than the response size cap; it was not read to its end."""


class DeadlineError(ApiError):
    """A call, or the whole run, went past its time limit."""

    def __init__(self, message: str, *, whole_run: bool, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.whole_run = whole_run  # the run's limit: every later call would fail the same way


class StateError(ReconcileError):
    """The state file is unreadable, from a newer version, or inconsistent."""


class StateLockedError(ReconcileError):
    """Another run holds the state lock."""

    exit_code = ExitCode.LOCKED

    def __init__(self, message: str, *, holder: dict[str, str] | None = None) -> None:
        super().__init__(message, hint="wait for it, or run `runai-reconcile force-unlock ID`")
        self.holder = dict(holder or {})


class PlanError(ReconcileError):
    """A plan cannot be made, e.g. an unowned live object without --adopt."""


class PlanFileError(ReconcileError):
    """A saved plan file cannot be used: unreadable, not valid against its schema, edited
    after it was saved, unsigned or badly signed, or not the plan its binding recomputes."""

    def __init__(
        self, message: str, *, problems: list[Problem] | tuple[Problem, ...] = (), hint: str = ""
    ) -> None:
        super().__init__(message, hint=hint)
        self.problems = tuple(problems)


class StalePlanError(ReconcileError):
    """A saved plan no longer matches its state, config, live objects or age."""


class SafetyBudgetError(ReconcileError):
    """A plan is over the blast-radius budget and --force was not given."""

    exit_code = ExitCode.OVER_BUDGET


class ApplyError(ReconcileError):
    """One or more apply steps failed; state was kept in step with the server."""


class ApplyInterrupted(ReconcileError):
    """Ctrl-C during apply: steps in flight finished and were recorded, the rest did not run."""

    exit_code = ExitCode.INTERRUPTED
