# Sourced by .ci/run: start a throwaway PostgreSQL cluster for the API suite, export
# DATABASE_URL, and stop the cluster (removing its files) when the sourcing shell exits,
# whatever the outcome: success, a failed check, set -e, or Ctrl-C.
# Note: this sets the shell's EXIT trap.
ci_pg_stop="$(mktemp "${TMPDIR:-/tmp}/wishlist-pg-stop.XXXXXX")"
trap 'bash "$ci_pg_stop" || true; rm -f "$ci_pg_stop"' EXIT
trap 'exit 130' INT TERM
DATABASE_URL="$(PG_STOP_SCRIPT="$ci_pg_stop" bash tests/api/start_postgres.sh)"
export DATABASE_URL
