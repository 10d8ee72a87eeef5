#!/usr/bin/env bash
# Interim `make demo` (issue 2): start the Run:ai API emulator on a free loopback port over a
# temporary db, show what it holds, stop it. Replaced by validate/plan/apply later.
# Usage: examples/demo.sh PATH/TO/runai-reconcile
set -euo pipefail

exe="${1:?usage: demo.sh PATH/TO/runai-reconcile}"
python="$(dirname "$exe")/python"
workdir="$(mktemp -d)"
server_pid=""

cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT

# The demo's own throwaway credentials (the emulator guards nothing real).
export RUNAI_CLIENT_ID=demo RUNAI_CLIENT_SECRET=demo-secret

"$exe" emulator serve --port 0 --db "$workdir/emulator.sqlite3" \
    >"$workdir/stdout" 2>"$workdir/stderr" &
server_pid=$!

url=""
for _ in $(seq 1 100); do
    url="$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$workdir/stdout" | head -n 1)"
    [[ -n "$url" ]] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "the emulator did not start:" >&2
        cat "$workdir/stderr" >&2
        exit 1
    fi
    sleep 0.1
done
[[ -n "$url" ]] || { echo "the emulator did not report its address" >&2; exit 1; }
echo "Run:ai API emulator (not a real control plane) at $url"

"$python" - "$url" <<'PY'
import json
import os
import sys
import urllib.request

url = sys.argv[1]


def call(method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


credentials = {
    "grantType": "client_credentials",
    "clientId": os.environ["RUNAI_CLIENT_ID"],
    "clientSecret": os.environ["RUNAI_CLIENT_SECRET"],
}
token = call("POST", "/api/v1/token", credentials)["accessToken"]
clusters = call("GET", "/api/v1/clusters", token=token)
print("clusters:   ", ", ".join(c["name"] for c in clusters))
departments = call("GET", "/api/v1/org-unit/departments", token=token)["departments"]
print("departments:", ", ".join(d["name"] for d in departments))
projects = call("GET", "/api/v1/org-unit/projects", token=token)["projects"]
print("projects:   ", ", ".join(p["name"] for p in projects))
types = call("GET", "/api/v1/workload-types", token=token)["types"]
print(f"workload types: {len(types)} (e.g. {', '.join(sorted(t['name'] for t in types)[:5])})")
priorities = call("GET", "/api/v1/workload-priorities", token=token)["priorities"]
print("priorities: ", ", ".join(f"{p['name']}={p['value']}" for p in priorities))
templates = call("GET", "/api/v1/workload-templates/count", token=token)["count"]
print(f"workload templates: {templates}")
PY

echo "Stopping the emulator."
