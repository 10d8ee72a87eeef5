"""What the `emulator serve` command needs beyond click: host policy and settings from flags.

Kept here so the CLI stays thin; nothing in this module prints.
"""

from __future__ import annotations

import ipaddress
import socket

from reconcile.emulator.framework import EmulatorSettings


def is_loopback_host(host: str) -> bool:
    """Whether every address `host` names is a loopback address (127.0.0.0/8, ::1)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def settings_from_flags(
    *,
    latency_ms: int = 0,
    error_rate: float = 0.0,
    throttle_rate: float = 0.0,
    commit_then_fail_rate: float = 0.0,
    visibility_delay_ms: int = 0,
    seed_random: int | None = None,
    sync_delay_ms: int = 0,
) -> EmulatorSettings:
    return EmulatorSettings(
        latency_ms=latency_ms,
        error_rate=error_rate,
        throttle_rate=throttle_rate,
        commit_then_fail_rate=commit_then_fail_rate,
        visibility_delay_ms=visibility_delay_ms,
        seed_random=seed_random,
        sync_delay_ms=sync_delay_ms,
    )
