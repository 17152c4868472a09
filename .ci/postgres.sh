#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the tests and print its SQLAlchemy URL.
# Installs Debian's postgresql when missing. Usage: eval "$(.ci/postgres.sh start)"; .ci/postgres.sh stop
set -euo pipefail
PORT=${QC_PG_PORT:-5433}
DATA=${QC_PG_DATA:-/tmp/qcapp-ci-postgres}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

case "${1:-start}" in
  start)
    if [ -z "$(pg_bin)" ]; then
      apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    fi
    BIN=$(pg_bin)
    if [ -f "$DATA/postmaster.pid" ]; then
      su postgres -c "$BIN/pg_ctl -D $DATA stop -m fast" >&2 || true
    fi
    rm -rf "$DATA"
    mkdir -p "$DATA"
    chown postgres "$DATA"
    su postgres -c "$BIN/initdb -D $DATA -A trust -U postgres --no-sync" >/dev/null
    su postgres -c "$BIN/pg_ctl -D $DATA -o '-p $PORT -k /tmp -c fsync=off -c max_connections=200' -l $DATA/server.log -w start" >&2
    echo "export QC_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    BIN=$(pg_bin)
    [ -n "$BIN" ] && su postgres -c "$BIN/pg_ctl -D $DATA stop -m fast" >&2 || true
    ;;
esac
