"""The typed settings of a config directory (`runai-reconcile.yaml`, docs/design.md, section 3).

Owns the defaults (the schema generator copies them into `schemas/settings.json`) and the
`RUNAI_URL` override. Pure data: config.py reads and validates the file; no I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

SETTINGS_FILES = ("runai-reconcile.yaml", "runai-reconcile.yml")
EMBEDDED = "embedded"
SERVER_ENV = "RUNAI_URL"  # overrides `server`, so CI can point one config at another tenant
# Overrides `environment` (and so the default state file), so one config directory can be
# planned and applied for several environments, each with its own state.
ENVIRONMENT_ENV = "RUNAI_ENVIRONMENT"
ENVIRONMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # as schemas/settings.json says


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
    settings_file: Path | None = None

    @property
    def embedded(self) -> bool:
        """True when the in-process emulator is the server."""
        return self.server == EMBEDDED

    @property
    def emulator_db(self) -> Path:
        """The embedded emulator's database, beside the state file (git-ignored)."""
        return self.state_path.with_name(f"{self.environment}.emulator.sqlite3")

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, Any],
        *,
        config_dir: Path,
        env: Mapping[str, str],
        settings_file: Path | None = None,
    ) -> Settings:
        """Settings from a settings document already validated against its schema."""
        config_dir = config_dir.resolve()
        chosen = env.get(ENVIRONMENT_ENV, "").strip()
        environment = chosen or str(data.get("environment", DEFAULTS["environment"]))
        state = data.get("state") or f"state/{environment}.json"
        safety = {**DEFAULTS["safety"], **dict(data.get("safety") or {})}
        server = str(data.get("server", DEFAULTS["server"]))
        override = env.get(SERVER_ENV, "").strip()
        return cls(
            config_dir=config_dir,
            state_path=(config_dir / str(state)).resolve(),
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
            settings_file=settings_file,
        )


# The settings file's keys with their defaults, as written in the file (derived from the
# dataclasses above so the defaults live in one place).
_CLIENT_KEYS = ("request_timeout_seconds", "run_timeout_seconds", "max_response_mib")
_FILE_KEYS = ("server", "environment", "parallelism", "plan_ttl_seconds", *_CLIENT_KEYS)
DEFAULTS: dict[str, Any] = {
    **{f.name: f.default for f in fields(Settings) if f.name in _FILE_KEYS},
    "safety": asdict(SafetySettings()),
}
