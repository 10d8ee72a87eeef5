"""The deadline watchdog cuts each connection at its own deadline, whichever order the
deadlines arrive in: a sooner deadline wakes it, a later one waits its turn."""

from __future__ import annotations

import threading

from reconcile.client.guard import _Watchdog


def test_a_sooner_deadline_wakes_the_watchdog_and_a_later_one_waits_its_turn() -> None:
    watchdog = _Watchdog()
    cut = {name: threading.Event() for name in ("far", "near", "later")}
    far = watchdog.watch(3600, cut["far"].set)  # the thread now sleeps an hour
    watchdog.watch(0.05, cut["near"].set)  # sooner: it must wake for this one
    watchdog.watch(0.1, cut["later"].set)  # later than "near": found when "near" is cut
    assert cut["near"].wait(30) and cut["later"].wait(30)
    assert not cut["far"].is_set()
    watchdog.release(far)
