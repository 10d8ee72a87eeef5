"""The client against servers that misbehave on purpose (tests/hostile.py): redirects to another
origin, endless and trickled answers, huge messages, echoed tokens, errors while other calls are
in flight, and addresses that do not resolve or refuse connections.

Through the real CLI (`runai-reconcile plan` with RUNAI_URL at the hostile server) where a user
would meet the failure, and through `Client` where the rule is the client's own.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from reconcile.client import Client, Credentials, is_transient
from reconcile.client.transport import REFUSED_RETRY_BUDGET
from reconcile.credentials import Clock
from reconcile.errors import (
    ApiError,
    AuthError,
    DeadlineError,
    RedirectRefusedError,
    ResponseTooLargeError,
    UnreachableError,
)
from reconcile.wire import origin
from tests.cli.helpers import Cli, Run
from tests.emulator.helpers import TEST_CLIENT_SECRET
from tests.hostile import (
    TOKEN_PATH,
    MiB,
    Recorder,
    closed_port,
    dropping_server,
    endless,
    json_answer,
    raw_answer,
    raw_server,
    serve,
    streamed,
    trickle,
    trickling_headers,
)

SECRET = "hostile-secret-" + "s" * 24
CREDS = Credentials(client_id="hostile-id", client_secret=SECRET)
CLUSTERS = "/api/v1/clusters"
UNRESOLVABLE = "runai-reconcile.invalid"  # RFC 6761: never resolves, and fails locally


def client_for(url: str, **options: Any) -> Client:
    options.setdefault("credentials", CREDS)
    options.setdefault("backoff", 0.01)
    options.setdefault("max_retries", 1)
    return Client(url, **options)


def redirect(location: str, status: int = 302) -> Response:
    return Response("", status, headers={"Location": location})


def config_dir(tmp_path: Path, **settings: Any) -> Path:
    """A config directory with one workload type, and `settings` in its settings file."""
    folder = tmp_path / "config"
    folder.mkdir()
    lines = [f"{key}: {value}" for key, value in {"server": "embedded", **settings}.items()]
    (folder / "runai-reconcile.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "types.yaml").write_text(
        "kind: WorkloadType\nmetadata: {name: PyTorchJob}\nspec: {category: Train}\n",
        encoding="utf-8",
    )
    return folder


def plan(url: str, folder: Path) -> Run:
    """`runai-reconcile plan FOLDER` against `url`, in-process, with client credentials."""
    return Cli(url)("plan", folder, env={"RUNAI_RECONCILE_DEBUG": None})


# --- redirects ---------------------------------------------------------------------------


def test_a_token_call_redirected_to_another_origin_is_refused_and_sends_nothing_there(
    tmp_path: Path,
) -> None:
    elsewhere = Recorder()
    with serve(elsewhere) as other:
        to_other = Recorder(lambda r: redirect(other + r.full_path, 307), issue_tokens=False)
        with serve(to_other) as url:
            with client_for(url) as client, pytest.raises(RedirectRefusedError) as info:
                client.get(CLUSTERS)
            run = plan(url, config_dir(tmp_path))
    assert elsewhere.requests == []  # neither the client secret nor anything else went there
    for message in (info.value.message, run.stderr):
        assert origin(url) in message and origin(other) in message
    assert info.value.path == TOKEN_PATH and SECRET not in str(info.value)
    assert run.exit_code == 1 and TEST_CLIENT_SECRET not in run.output


def test_an_api_call_redirected_to_another_origin_is_refused(tmp_path: Path) -> None:
    elsewhere = Recorder()
    with serve(elsewhere) as other, serve(Recorder(lambda r: redirect(other + r.full_path))) as url:
        with client_for(url) as client, pytest.raises(RedirectRefusedError) as info:
            client.get(CLUSTERS)
        run = plan(url, config_dir(tmp_path))
    assert elsewhere.requests == []
    assert info.value.status == 302 and origin(other) in info.value.message
    assert run.exit_code == 1 and f"to another origin, {origin(other)}" in run.stderr


@pytest.mark.parametrize(
    "location", ["http://127.0.0.1:99999/x", "//elsewhere.invalid/x", "ftp://127.0.0.1/x"]
)
def test_odd_redirect_targets_are_other_origins(location: str) -> None:
    head = f"HTTP/1.1 302 Found\r\nLocation: {location}\r\n".encode()
    with raw_server(raw_answer(head)) as url:
        client = client_for(url, credentials=Credentials(token="bare"))
        with client, pytest.raises(RedirectRefusedError) as info:
            client.get(CLUSTERS)
    assert info.value.status == 302 and origin(url) in info.value.message


def test_redirects_within_the_origin_are_followed_with_the_authorization() -> None:
    def answer(request: Request) -> Response:
        if request.path == "/old":
            return redirect("/new?page=2")
        if request.path == "/old-write":
            return redirect("/new", 307)
        if request.path == "/moved-write":
            return redirect("/new", 302)  # would turn the POST into a GET: not followed
        return json_answer(
            {"query": request.query_string.decode(), "body": request.get_json(silent=True)}
        )

    recorder = Recorder(answer)
    with serve(recorder) as url, client_for(url) as client:
        got = client.get("/old")
        sent = client.post("/old-write", {"name": "a"})
        with pytest.raises(ApiError) as moved:
            client.post("/moved-write", {"name": "b"})
    assert got.body == {"query": "page=2", "body": None}
    assert sent.body == {"query": "", "body": {"name": "a"}}  # 307: method and body kept
    assert moved.value.status == 302
    news = [headers for _, path, headers, _ in recorder.requests if path == "/new"]
    assert len(news) == 2 and all(h["Authorization"].startswith("Bearer ") for h in news)


# --- size and time -----------------------------------------------------------------------


def test_an_answer_over_the_cap_is_not_read_and_the_error_names_the_url_and_limit() -> None:
    def answer(request: Request) -> Response:
        if request.path == "/declared":  # says its length up front: refused unread
            return Response(b" " * (2 * MiB), 200, mimetype="application/json")
        if request.path == CLUSTERS:
            return json_answer([])
        return streamed(endless(8 * MiB))

    with serve(Recorder(answer)) as url, client_for(url, max_response_bytes=MiB) as client:
        with pytest.raises(ResponseTooLargeError) as streaming:
            client.get("/big", {"apiKey": "query-secret"})
        with pytest.raises(ResponseTooLargeError) as declared:
            client.get("/declared")
        assert client.get(CLUSTERS).body == []  # the client is still usable
    assert f"{url}/big is larger than 1 MiB" in streaming.value.message
    assert "query-secret" not in str(streaming.value)
    assert f"{url}/declared is larger than 1 MiB" in declared.value.message


def _address_space_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


@pytest.mark.parametrize(
    ("cap_mib", "refused"), [(64, True), (4096, False)], ids=["capped", "uncapped-control"]
)
def test_a_one_gib_answer_stays_within_a_memory_limit(
    tmp_path: Path, cap_mib: int, refused: bool
) -> None:
    """The CLI in a child process whose address space is limited to 1 GiB, against a server
    sending 1 GiB to every read: with the default cap it reports the oversized answer; the
    control run without a usable cap shows that the limit is real (the answer does not fit)."""
    folder = config_dir(tmp_path, max_response_mib=cap_mib)
    env = {**os.environ, "RUNAI_CLIENT_ID": "hostile-id", "RUNAI_CLIENT_SECRET": SECRET}
    # glibc reserves 64 MiB of address space per thread arena: two arenas keep the limit
    # about memory the process actually uses.
    env["MALLOC_ARENA_MAX"] = "2"
    env.pop("RUNAI_TOKEN", None)
    env.pop("RUNAI_RECONCILE_DEBUG", None)
    with serve(Recorder(lambda r: streamed(endless(1024 * MiB)))) as url:
        env["RUNAI_URL"] = url
        child = subprocess.run(
            [sys.executable, "-m", "reconcile", "plan", str(folder)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=_address_space_limit(1024 * MiB),
            check=False,
        )
    assert child.returncode != 0
    if refused:
        assert child.returncode == 1, child.stderr
        # One answer over the cap, or the answers read at once over four times it together.
        over = (f"is larger than {cap_mib} MiB", f"hold more than {4 * cap_mib} MiB")
        assert any(text in child.stderr for text in over), child.stderr
        assert "Traceback" not in child.stderr
    else:
        assert "larger than" not in child.stderr
        assert "MemoryError" in child.stderr or child.returncode < 0, child.stderr


def test_a_trickling_answer_fails_at_the_request_deadline(tmp_path: Path) -> None:
    trickling = Recorder(lambda r: streamed(trickle(60, 0.1)))
    with serve(trickling) as url:
        with client_for(url, request_timeout=1) as client, pytest.raises(DeadlineError) as info:
            client.get(CLUSTERS)
        run = plan(url, config_dir(tmp_path, request_timeout_seconds=1))
    assert "the time limit for one request of 1 s was reached" in info.value.message
    assert not info.value.whole_run and is_transient(info.value)
    assert run.exit_code == 1 and "the time limit for one request of 1 s" in run.stderr


def test_headers_trickled_byte_by_byte_fail_at_the_request_deadline() -> None:
    with raw_server(trickling_headers(100, 0.1)) as url:
        client = client_for(url, credentials=Credentials(token="bare"), request_timeout=1)
        with client, pytest.raises(DeadlineError) as info:
            client.get(CLUSTERS)
    assert "the time limit for one request of 1 s was reached" in info.value.message


def test_no_call_starts_after_the_run_deadline() -> None:
    now = [0.0]
    recorder = Recorder()
    with (
        serve(recorder) as url,
        client_for(url, run_timeout=30, clock=Clock(monotonic=lambda: now[0])) as client,
    ):
        client.get(CLUSTERS)
        sent = len(recorder.requests)
        now[0] = 31.0
        with pytest.raises(DeadlineError) as info:
            client.get(CLUSTERS)
    assert len(recorder.requests) == sent  # the late call was never sent
    assert info.value.whole_run and not is_transient(info.value)
    assert "the run's time limit of 30 s was reached; nothing was sent" in info.value.message


@pytest.mark.parametrize(("retry_after", "pauses"), [("30", []), ("2", [2.0, 2.0])])
def test_no_retry_starts_past_the_request_deadline(retry_after: str, pauses: list[float]) -> None:
    """A server that asks to come back later: the client waits only while a retry can still
    start before the call's deadline (5 s), then reports the server's own answer."""
    now, slept = [0.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    busy = Response("{}", 503, headers={"Retry-After": retry_after}, mimetype="application/json")
    recorder = Recorder(lambda r: busy)
    with serve(recorder) as url:
        options = {"max_retries": 4, "retry_after_max": 30, "request_timeout": 5}
        clock = Clock(monotonic=lambda: now[0], sleep=sleep)
        client = client_for(url, clock=clock, **options)
        with client, pytest.raises(ApiError) as info:
            client.get(CLUSTERS)
    assert info.value.status == 503 and slept == pauses
    assert [path for _, path, _, _ in recorder.requests].count(CLUSTERS) == len(pauses) + 1


def test_the_run_timeout_flag_overrides_the_setting(tmp_path: Path) -> None:
    folder = config_dir(tmp_path, run_timeout_seconds=3600)
    with serve(Recorder(lambda r: streamed(trickle(60, 0.1)))) as url:
        run = Cli(url)("plan", "--run-timeout", "1", folder, env={"RUNAI_RECONCILE_DEBUG": None})
    assert run.exit_code == 1 and "the run's time limit of 1 s was reached" in run.stderr


# --- what the server says ----------------------------------------------------------------


def test_a_huge_error_message_is_trimmed_everywhere(tmp_path: Path) -> None:
    huge = "e" * (2 * 1000 * 1000)
    body = {"code": 400, "message": huge, "details": huge}
    with serve(Recorder(lambda r: json_answer(body, 400))) as url:
        with client_for(url) as client, pytest.raises(ApiError) as info:
            client.get(CLUSTERS)
        run = plan(url, config_dir(tmp_path))
    more = f"... ({len(huge) - 500} more characters)"
    assert info.value.message.endswith(more) and len(info.value.message) < 600
    assert info.value.details.endswith(more) and len(info.value.details) < 600
    assert run.exit_code == 1 and more in run.stderr and len(run.output) < 3000


def test_a_server_message_reaches_the_terminal_on_one_line(tmp_path: Path) -> None:
    body = {"code": 400, "message": "bad\x1b[2K\nError: forged line", "details": "a\u202eb"}
    with serve(Recorder(lambda r: json_answer(body, 400))) as url:
        run = plan(url, config_dir(tmp_path))
    assert run.exit_code == 1
    assert "bad\\x1b[2K\\nError: forged line" in run.stderr
    assert "\x1b" not in run.output + run.stderr and "\u202e" not in run.stderr
    assert not any(line.startswith("Error: forged") for line in run.stderr.splitlines())


def test_echoed_tokens_are_always_redacted_under_concurrent_reauthentication() -> None:
    """Every call meets a 401 echoing its token: each thread re-authenticates, replacing
    the token other threads are using, while their errors are being redacted."""

    def echo(request: Request) -> Response:
        auth = request.headers.get("Authorization", "")
        # Placed across the trim point: a cut must not leave part of a token either.
        return json_answer({"message": "x" * 480 + f" refused {auth}", "details": auth}, 401)

    recorder = Recorder(echo)
    errors: list[ApiError] = []
    with serve(recorder) as url, client_for(url) as client:

        def calls() -> None:
            for _ in range(5):
                try:
                    client.get(CLUSTERS)
                except ApiError as error:
                    errors.append(error)

        threads = [threading.Thread(target=calls) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    shown = "".join(f"{e} {e.details} {e.hint}" for e in errors)
    assert len(errors) == 40 and len(recorder.tokens) >= 2  # tokens were replaced meanwhile
    assert "hostile-token" not in shown and "(redacted)" in shown


def test_an_echoed_token_never_reaches_the_terminal(tmp_path: Path) -> None:
    def echo(request: Request) -> Response:
        auth = request.headers.get("Authorization", "")
        return json_answer({"message": f"refused {auth}", "details": auth}, 401)

    recorder = Recorder(echo)
    with serve(recorder) as url:
        run = plan(url, config_dir(tmp_path))
    assert recorder.tokens and run.exit_code == 1
    assert "refused Bearer (redacted)" in run.stderr and "hostile-token" not in run.output


def test_plans_failing_while_other_reads_are_in_flight_report_the_real_error(
    tmp_path: Path,
) -> None:
    """The CLI's reads run in parallel: one is refused at once while the others are slow."""

    def answer(request: Request) -> Response:
        if request.path == "/api/v1/workload-categories":  # a lookup the workload type needs
            return json_answer({"message": "not allowed"}, 403)
        threading.Event().wait(0.05)
        return json_answer({"message": "not found"}, 404)

    folder = config_dir(tmp_path)
    with serve(Recorder(answer)) as url:
        runs = [plan(url, folder) for _ in range(8)]
    for run in runs:
        assert run.exit_code == 1 and "internal error" not in run.output, run.output
        assert "HTTP 403: not allowed" in run.stderr or "HTTP 404: not found" in run.stderr


@pytest.mark.parametrize("failure", ["401", "bad-json"])
def test_close_while_other_calls_finish_reports_the_real_error(failure: str) -> None:
    """One gathered call fails at once while the others are still reading pages (and
    starting the page pool): `close()` must wait for them without an error of its own."""
    pages = 6

    def answer(request: Request) -> Response:
        if request.path == "/fails":
            if failure == "401":
                return json_answer({"message": "token refused"}, 401)
            return Response("{not json", 200, mimetype="application/json")
        offset = int(request.args.get("offset", "0"))
        threading.Event().wait(0.02)
        items = [offset, offset + 1] if offset < 2 * pages else []
        return json_answer({"items": items, "next": offset + 2 if items else None})

    expected = AuthError if failure == "401" else ApiError
    with serve(Recorder(answer)) as url:
        for _ in range(25):
            with pytest.raises(ApiError) as info, client_for(url) as client:
                lists = [
                    lambda: client.list_all("/pages", items_key="items", page_size=2)
                    for _ in range(4)
                ]
                client.concurrently([lambda: client.list_all("/fails", items_key="items"), *lists])
            assert type(info.value) is expected, info.value
            if failure == "bad-json":
                assert "unexpected list response" in info.value.message


# --- addresses that do not answer --------------------------------------------------------


def test_an_unresolvable_host_fails_at_once_naming_it_and_saying_nothing_was_sent(
    tmp_path: Path,
) -> None:
    url = f"http://{UNRESOLVABLE}"
    errors = []
    for credentials in (CREDS, Credentials(token="bare-token")):  # token call, then API call
        with client_for(url, credentials=credentials, max_retries=4) as client:
            with pytest.raises(UnreachableError) as info:
                client.post("/api/v1/workloads", {"name": "w"})
            assert client.counters()["retries"] == 0
        errors.append(info.value)
    run = plan(url, config_dir(tmp_path))
    assert [e.path for e in errors] == [TOKEN_PATH, "/api/v1/workloads"]
    for text in [*(f"{e} {e.hint}" for e in errors), run.stderr]:
        assert f"cannot resolve the host name of {UNRESOLVABLE}; nothing was sent" in text
        assert "may have reached" not in text
    assert run.exit_code == 1


def test_a_refused_connection_is_retried_only_within_its_budget(tmp_path: Path) -> None:
    now, slept = [0.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    url = f"http://127.0.0.1:{closed_port()}"
    for credentials in (CREDS, Credentials(token="bare-token")):
        slept.clear()
        client = client_for(
            url,
            credentials=credentials,
            max_retries=20,
            backoff=0.5,
            clock=Clock(monotonic=lambda: now[0], sleep=sleep),
        )
        with client, pytest.raises(UnreachableError) as info:
            client.put("/api/v1/thing", {"name": "t"})
        assert slept and sum(slept) <= REFUSED_RETRY_BUDGET + 1e-9  # float sums
        assert "(connection refused); nothing was sent" in info.value.message
        assert "may have reached" not in info.value.hint
    run = plan(url, config_dir(tmp_path))
    assert run.exit_code == 1 and "nothing was sent" in run.stderr


def test_the_write_hint_appears_only_where_a_write_may_have_been_received() -> None:
    with dropping_server() as url:
        with client_for(url, credentials=Credentials(token="bare"), max_retries=0) as client:
            with pytest.raises(ApiError) as write:
                client.post("/api/v1/workloads", {"name": "w"})
            with pytest.raises(ApiError) as read:
                client.get(CLUSTERS)
        with client_for(url, max_retries=0) as client, pytest.raises(ApiError) as token:
            client.get(CLUSTERS)
    assert write.value.status == 0 and "may have reached the server" in write.value.hint
    assert read.value.status == 0 and "may have reached" not in read.value.hint
    assert token.value.path == TOKEN_PATH and "may have reached" not in token.value.hint


def test_error_bodies_are_json_or_nothing() -> None:
    """An HTML error page (a proxy's, say) becomes the status and reason, not a parse error."""
    page = Response("<html>bad gateway</html>", 502, mimetype="text/html")
    with serve(Recorder(lambda r: page)) as url:
        client = client_for(url, max_retries=0)
        with client, pytest.raises(ApiError) as info:
            client.get(CLUSTERS)
    assert info.value.status == 502 and "BAD GATEWAY" in info.value.message.upper()
    assert json.dumps(info.value.details) == '""'
