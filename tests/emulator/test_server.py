"""The server as a whole: routing errors, JSON error bodies, persistence across restarts,
and the `emulator serve` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests

from reconcile.emulator.framework import EmulatorSettings
from reconcile.emulator.server import EmbeddedEmulator
from tests.emulator.helpers import (
    TEMPLATES,
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TIMEOUT,
    Api,
    assert_valid,
    create_template,
    get_token,
)


def test_unknown_route_is_404_json(api: Api) -> None:
    response = api.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert_valid("Error", response.json())


def test_wrong_method_is_405_with_allow(api: Api) -> None:
    response = api.call("PATCH", TEMPLATES)
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert_valid("Error", response.json())


def test_malformed_or_missing_json_is_400(api: Api) -> None:
    path = f"{TEMPLATES}/workspaces"
    broken = api.call("POST", path, data="{nope", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and "malformed JSON" in broken.json()["message"]
    empty = api.call("POST", path, headers={"Content-Type": "application/json"})
    assert empty.status_code == 400 and "body is required" in empty.json()["message"]
    not_object = api.post(path, [1, 2])
    assert not_object.status_code == 400


def test_objects_survive_a_restart_on_the_same_db(tmp_path: Path) -> None:
    db = tmp_path / "emulator.sqlite3"

    def server() -> EmbeddedEmulator:
        return EmbeddedEmulator(db=db, client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET)

    with server() as first:
        token = get_token(first.url)
        api = Api(first.url, token)
        kept = create_template(api, "workspaces", "kept", description="survives")
        gone = create_template(api, "trainings", "gone")
        assert api.delete(f"{TEMPLATES}/trainings/{gone['meta']['id']}").status_code == 204
        patched = api.patch(f"{TEMPLATES}/workspaces/{kept['meta']['id']}", {"spec": {"tty": True}})
        assert patched.status_code == 200
    with server() as second:
        api = Api(second.url, token)  # the signing key is kept in the db: old tokens still work
        listed = api.get(TEMPLATES).json()["entries"]
        assert [e["meta"]["name"] for e in listed] == ["kept"]
        assert listed[0] == patched.json()
        again = api.post(
            f"{TEMPLATES}/workspaces",
            {"meta": {"name": "kept", "scopeType": "project", "scopeId": "42"}},
        )
        assert again.status_code == 409  # the name index is rebuilt from the db


def test_serve_command_runs_and_refuses_remote_hosts(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "reconcile", "emulator", "serve", "--port", "0"]
    refused = subprocess.run(
        [*command, "--host", "0.0.0.0"], capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 64 and "--allow-remote" in refused.stderr
    secret = "cli-secret-value"
    process = subprocess.Popen(
        [
            *command,
            "--db",
            str(tmp_path / "db.sqlite3"),
            "--client-id",
            "cli",
            "--client-secret",
            secret,
            "--api-version",
            "2.23",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        url = banner.rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:") and "Run:ai 2.23 API" in banner, banner
        token = get_token(url, "cli", secret)
        assert Api(url, token).get(TEMPLATES).status_code == 200
        form = {"grant_type": "client_credentials"}  # the OAuth2 endpoint came with 2.24
        assert requests.post(f"{url}/api/v2/token", data=form, timeout=TIMEOUT).status_code == 404
        health = requests.get(f"{url}/_emulator/health", timeout=TIMEOUT)
        assert health.json() == {"status": "ok"}
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert secret not in banner + out + err


def test_serve_logs_each_request_unless_quiet(tmp_path: Path) -> None:
    """An access line per request on stderr; `--quiet` writes none."""
    command = [sys.executable, "-m", "reconcile", "emulator", "serve", "--port", "0"]
    for flags, logged in (([], True), (["--quiet"], False)):
        process = subprocess.Popen(
            [*command, *flags], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert process.stdout is not None
            url = process.stdout.readline().rsplit(" ", 1)[-1].strip()
            health = requests.get(f"{url}/_emulator/health", timeout=TIMEOUT)
            assert health.status_code == 200
        finally:
            process.terminate()
            _, err = process.communicate(timeout=30)
        assert ("GET /_emulator/health" in err) is logged, err


def test_seeded_ids_repeat_but_never_collide_after_restart(tmp_path: Path) -> None:
    def server(db: Path) -> EmbeddedEmulator:
        settings = EmulatorSettings(seed_random=5)
        return EmbeddedEmulator(
            db=db, client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET, settings=settings
        )

    ids: list[str] = []
    for db in (tmp_path / "a.sqlite3", tmp_path / "b.sqlite3", tmp_path / "a.sqlite3"):
        with server(db) as emu:
            api = Api(emu.url, get_token(emu.url))
            ids.append(create_template(api, "workspaces", f"t{len(ids)}")["meta"]["id"])
    assert ids[0] == ids[1]  # same seed, same starting state: same id
    assert ids[2] != ids[0]  # restarted on db a: the first id is taken, so another is drawn


def test_a_new_db_file_is_owner_only(tmp_path: Path) -> None:
    """The db holds the token signing key, so nobody else on the machine may read it."""
    db = tmp_path / "emulator.sqlite3"
    with EmbeddedEmulator(db=db):
        pass
    assert (db.stat().st_mode & 0o777) == 0o600
