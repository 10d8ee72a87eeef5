"""The typed settings of a config directory (`runai-reconcile.yaml`, docs/design.md, section 3).

Owns the defaults (the schema generator copies them into `schemas/settings.json`) and the
`RUNAI_URL` override. Pure data: config.py reads and validates the file; no I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from reconcile.errors import ConfigError, Problem

SETTINGS_FILES = ("runai-reconcile.yaml", "runai-reconcile.yml")
EMBEDDED = "embedded"
SERVER_ENV = "RUNAI_URL"  # overrides `server`, so CI can point one config at another tenant
ENVIRONMENT_ENV = "RUNAI_RECONCILE_ENVIRONMENT"  # selects the environment (--environment too)
STATE_ENV = "RUNAI_RECONCILE_STATE"  # overrides `state` (a path or a URL), so CI can share one
STATE_URL_SCHEMES = ("postgresql", "postgres")
ENVIRONMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# Overrides `emulator.api_version`: which Run:ai version the embedded emulator is.
EMULATOR_VERSION_ENV = "RUNAI_EMULATOR_API_VERSION"


@dataclass(frozen=True)
class SafetySettings:
    """The blast-radius budget (reconcile/safety.py applies it)."""

    max_delete_fraction: float = 0.3
    max_update_fraction: float = 0.3
    min_managed: int = 10


@dataclass(frozen=True)
class Settings:
    """Where the tool talks to and keeps state, and how careful it is."""

    config_dir: Path
    state_path: Path  # absolute; `state:` relative to the config dir, else state/<env>.json
    state_url: str = ""  # postgresql://USER@HOST:PORT/DBNAME when the state lives there
    server: str = EMBEDDED
    environment: str = "default"
    parallelism: int = 8
    safety: SafetySettings = field(default_factory=SafetySettings)
    plan_ttl_seconds: int = 24 * 3600
    # What the client grants a server: one call's whole time (connect to the end of the
    # body), the whole run's (0 = no limit), and the largest answer it reads.
    request_timeout_seconds: int = 120
    run_timeout_seconds: int = 0
    max_response_mib: int = 64
    server_from_env: bool = False  # True when RUNAI_URL chose the server
    emulator_api_version: str = "2.24"  # the Run:ai version the embedded emulator is
    # `plan` sends the creates the API can validate as dry runs (`plan --server-dry-run`).
    server_dry_run: bool = False
    settings_file: Path | None = None
    # What `${NAME}` reads before the process environment (this environment's own over the
    # top-level ones), and which of them are shown: all but those tagged !sensitive or
    # built from the process environment.
    variables: tuple[tuple[str, str], ...] = ()
    shown_variables: frozenset[str] = frozenset()

    def interpolation(self, env: Mapping[str, str]) -> dict[str, str]:
        """The values `${NAME}` takes: the settings' variables win over the process
        environment, so a variable the config sets cannot change with the machine it runs on."""
        return {**env, **dict(self.variables)}

    @property
    def embedded(self) -> bool:
        """True when the in-process emulator is the server."""
        return self.server == EMBEDDED

    @property
    def emulator_db(self) -> Path:
        """The embedded emulator's database, beside the state file (git-ignored)."""
        return self.state_path.with_name(f"{self.environment}.emulator.sqlite3")

    @property
    def server_label(self) -> str:
        """How states and plans name the server: its URL, or `embedded:<db path>` (the
        emulator's port changes every run, its database does not)."""
        if self.embedded:
            return f"embedded:{self.emulator_db}"
        return self.server.rstrip("/")

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, Any],
        *,
        config_dir: Path,
        env: Mapping[str, str],
        settings_file: Path | None = None,
        hidden: Collection[tuple[str | int, ...]] = (),
    ) -> Settings:
        """Settings from a settings document already validated against its schema; `hidden`:
        the paths of its values that are secret (tagged !sensitive, or from `${VAR}`)."""
        config_dir = config_dir.resolve()
        environment = env.get(ENVIRONMENT_ENV, "").strip() or str(
            data.get("environment", DEFAULTS["environment"])
        )
        if not ENVIRONMENT_NAME.fullmatch(environment):
            raise ConfigError(
                [Problem(f"environment {environment!r} is not a name (letters, digits, ._-)")]
            )
        own = dict((data.get("environments") or {}).get(environment) or {})
        default_file = f"state/{environment}.json"
        state = env.get(STATE_ENV, "").strip() or own.get("state") or data.get("state")
        state_url = str(state) if is_state_url(str(state or "")) else ""
        if state_url:
            check_state_url(state_url)
        state_file = default_file if state_url or not state else str(state)
        safety = {**DEFAULTS["safety"], **dict(data.get("safety") or {})}
        server = str(own.get("server", data.get("server", DEFAULTS["server"])))
        dry_run = own.get("server_dry_run", data.get("server_dry_run", DEFAULTS["server_dry_run"]))
        override = env.get(SERVER_ENV, "").strip()
        variables, shown = _variables(data, environment, hidden)
        emulator = dict(data.get("emulator") or {})
        emulator_version = env.get(EMULATOR_VERSION_ENV, "").strip() or str(
            emulator.get("api_version", DEFAULTS["emulator"]["api_version"])
        )
        return cls(
            config_dir=config_dir,
            state_path=(config_dir / state_file).resolve(),
            state_url=state_url,
            server=override or server,
            environment=environment,
            parallelism=int(data.get("parallelism", DEFAULTS["parallelism"])),
            safety=SafetySettings(
                max_delete_fraction=float(safety["max_delete_fraction"]),
                max_update_fraction=float(safety["max_update_fraction"]),
                min_managed=int(safety["min_managed"]),
            ),
            plan_ttl_seconds=int(data.get("plan_ttl_seconds", DEFAULTS["plan_ttl_seconds"])),
            **{key: int(data.get(key, DEFAULTS[key])) for key in _CLIENT_KEYS},
            server_from_env=bool(override),
            emulator_api_version=emulator_version,
            server_dry_run=bool(dry_run),
            settings_file=settings_file,
            variables=variables,
            shown_variables=shown,
        )


def _variables(
    data: Mapping[str, Any], environment: str, hidden: Collection[tuple[str | int, ...]]
) -> tuple[tuple[tuple[str, str], ...], frozenset[str]]:
    """The variables of `environment` (its own over the top-level ones) and those shown."""
    places = {
        ("variables",): dict(data.get("variables") or {}),
        ("environments", environment, "variables"): dict(
            ((data.get("environments") or {}).get(environment) or {}).get("variables") or {}
        ),
    }
    values: dict[str, str] = {}
    shown: set[str] = set()
    for at, variables in places.items():  # the environment's own last: they win
        for name, value in variables.items():
            values[name] = str(value)
            if any(p == (*at, name)[: len(p)] for p in hidden):
                shown.discard(name)
            else:
                shown.add(name)
    return tuple(sorted(values.items())), frozenset(shown)


# The settings file's keys with their defaults, as written in the file (derived from the
# dataclasses above so the defaults live in one place).
_CLIENT_KEYS = ("request_timeout_seconds", "run_timeout_seconds", "max_response_mib")
_FILE_KEYS = (
    "server",
    "environment",
    "parallelism",
    "plan_ttl_seconds",
    "server_dry_run",
    *_CLIENT_KEYS,
)
DEFAULTS: dict[str, Any] = {
    **{f.name: f.default for f in fields(Settings) if f.name in _FILE_KEYS},
    "safety": asdict(SafetySettings()),
    "emulator": {"api_version": Settings.emulator_api_version},
}


def is_state_url(location: str) -> bool:
    """True when `location` names a PostgreSQL database rather than a file."""
    return location.split("://", 1)[0].lower() in STATE_URL_SCHEMES and "://" in location


def check_state_url(url: str) -> None:
    """Refuse a state URL that holds a password (it would sit in a file in git or in a CI
    log); the message never repeats the URL, so the password is not printed either."""
    parts = urlsplit(url)
    query = {key.lower() for key in parse_qs(parts.query)}
    if parts.password is not None or "password" in query:
        raise ConfigError(
            [
                Problem(
                    "the state URL holds a password; remove it and give it to libpq through "
                    "PGPASSWORD, PGPASSFILE or a service file"
                )
            ]
        )
    if not parts.hostname and "host" not in query:
        raise ConfigError([Problem("the state URL names no host: postgresql://USER@HOST/DB")])
