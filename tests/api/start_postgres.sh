#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 (a free port) for the API tests.
#
#   export DATABASE_URL="$(bash tests/api/start_postgres.sh)"   # prints only the URL
#   .venv/bin/pytest tests/api
#
# Needs Debian's PostgreSQL server binaries (apt-get install -y postgresql). As root the
# cluster runs as the `postgres` user (PostgreSQL refuses to run as root). Nothing listens
# beyond loopback; the data lives in a temp dir. Diagnostics go to stderr, including the
# command that stops the cluster and removes its files. With PG_STOP_SCRIPT=FILE that
# command is also written to FILE before the cluster starts, so a caller can always
# clean up (`trap 'bash FILE' EXIT`); a failed start cleans up by itself.
set -euo pipefail

PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
if [[ -z "$PG_BIN" || ! -x "$PG_BIN/initdb" ]]; then
  echo "start_postgres: no PostgreSQL server binaries (apt-get install -y postgresql)" >&2
  exit 1
fi

RUN_AS=()
if [[ "$(id -u)" == 0 ]]; then
  PG_USER="${PG_USER:-postgres}"
  id -u "$PG_USER" >/dev/null 2>&1 || useradd --system --no-create-home "$PG_USER"
  RUN_AS=(runuser -u "$PG_USER" --)
fi

DIR="$(mktemp -d "${TMPDIR:-/tmp}/wishlist-pg.XXXXXX")"
chmod 700 "$DIR"
[[ ${#RUN_AS[@]} -gt 0 ]] && chown "$PG_USER" "$DIR"
# The postgres user may not enter the caller's directory (a clone under /root): run from the
# cluster's own folder, so initdb, pg_ctl and psql do not warn "could not change directory".
cd "$DIR"
cat >"$DIR/stop.sh" <<STOP
#!/usr/bin/env bash
# Stop the cluster if it runs, then remove its files; safe to run more than once.
if [[ -f "$DIR/data/postmaster.pid" ]]; then
  cd /  # the postgres user may not be allowed into the caller's directory
  ${RUN_AS[*]} "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null
fi
rm -rf "$DIR"
STOP
chmod +x "$DIR/stop.sh"
[[ -n "${PG_STOP_SCRIPT:-}" ]] && cp "$DIR/stop.sh" "$PG_STOP_SCRIPT"
trap 'rc=$?; [[ $rc == 0 ]] || bash "$DIR/stop.sh"; exit $rc' EXIT
PASSWORD="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
DB=wishlist_test

"${RUN_AS[@]}" bash -c "umask 077; printf '%s\n' '$PASSWORD' > '$DIR/pwfile'"
"${RUN_AS[@]}" "$PG_BIN/initdb" -D "$DIR/data" -U postgres --auth=scram-sha-256 \
  --pwfile="$DIR/pwfile" --encoding=UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
  || { cat "$DIR/initdb.log" >&2; exit 1; }
rm -f "$DIR/pwfile"
"${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off" start >/dev/null \
  || { cat "$DIR/server.log" >&2; exit 1; }
PGPASSWORD="$PASSWORD" "$PG_BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -q -v ON_ERROR_STOP=1 \
  -c "CREATE DATABASE $DB" postgres >/dev/null

echo "start_postgres: PostgreSQL on 127.0.0.1:$PORT (data in $DIR); stop with: $DIR/stop.sh" >&2
echo "postgresql+psycopg://postgres:$PASSWORD@127.0.0.1:$PORT/$DB"
