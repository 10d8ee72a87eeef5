#!/usr/bin/env bash
# A drift check for cron: runs `runai-reconcile drift` on a config directory, keeps the JSON
# report for alerting, and says in its exit code what it found.
#
# Usage: drift-check.sh CONFIG_DIR [REPORT_DIR]
#   REPORT_DIR (default: the current directory) receives drift.json (the last report, written
#   whole or not at all) and drift.log (the tool's messages). Credentials come from the
#   environment: RUNAI_URL, RUNAI_CLIENT_ID and RUNAI_CLIENT_SECRET (or RUNAI_TOKEN).
#   RUNAI_RECONCILE: the executable (default: runai-reconcile on PATH).
#   ALERT_WEBHOOK_URL: when set, drift.json is POSTed there on drift (a chat or paging hook).
#
# Exit codes:
#   0  no drift
#   2  drift found: drift.json lists each object, the fields and who changed them when
#   1  the check itself failed (server unreachable, bad credentials, bad config): see drift.log
#   64 usage error
set -uo pipefail

config_dir="${1:-}"
report_dir="${2:-.}"
if [ -z "$config_dir" ] || [ ! -d "$config_dir" ]; then
    echo "usage: drift-check.sh CONFIG_DIR [REPORT_DIR]" >&2
    exit 64
fi
exe="${RUNAI_RECONCILE:-runai-reconcile}"
mkdir -p "$report_dir"

"$exe" drift --format json "$config_dir" > "$report_dir/drift.json.new" 2> "$report_dir/drift.log"
code=$?
case "$code" in
    0 | 2) mv "$report_dir/drift.json.new" "$report_dir/drift.json" ;;
    *) rm -f "$report_dir/drift.json.new" ;;
esac

if [ "$code" = 2 ] && [ -n "${ALERT_WEBHOOK_URL:-}" ]; then
    curl -fsS -X POST -H "Content-Type: application/json" \
        --data-binary "@$report_dir/drift.json" "$ALERT_WEBHOOK_URL" > /dev/null ||
        echo "drift-check: the alert could not be sent to ALERT_WEBHOOK_URL" >&2
fi
case "$code" in
    0) echo "drift-check: no drift in $config_dir" ;;
    2) echo "drift-check: DRIFT in $config_dir; report: $report_dir/drift.json" >&2 ;;
    *) echo "drift-check: the check failed (exit $code); see $report_dir/drift.log" >&2 ;;
esac
exit "$code"
