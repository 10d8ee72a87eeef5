#!/usr/bin/env bash
# `make demo`: the quickstart, end to end, against the embedded Run:ai API emulator.
# Starts from an empty emulator and state each time (both live in state/, git-ignored), then
# validates, plans, applies and plans again (which must say "No changes.").
# Usage: examples/demo.sh PATH/TO/runai-reconcile
set -euo pipefail

exe="${1:?usage: demo.sh PATH/TO/runai-reconcile}"
cd "$(dirname "$0")/.."

rm -f state/default.json state/default.json.backup state/default.json.lock \
    state/default.emulator.sqlite3 state/default.emulator.sqlite3-wal \
    state/default.emulator.sqlite3-shm

run() {
    printf '\n$ runai-reconcile %s\n' "$*"
    "$exe" "$@"
}

run validate examples/
run plan examples/
run apply --auto-approve examples/
run plan --detailed-exitcode examples/
run drift examples/
printf '\nDone: the server matches examples/ (state in state/default.json).\n'
