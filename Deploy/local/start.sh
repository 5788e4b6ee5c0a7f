#!/usr/bin/env bash
# Starts PostgreSQL (as the postgres user, 127.0.0.1 only) and the Kafka-protocol broker on loopback.
# Idempotent: servers already running from this folder are left alone.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
radfm_close_inherited_fds
mkdir -p "$RADFM_LOCAL_DIR"
PGDIR="$RADFM_LOCAL_DIR/postgres"
KDIR="$RADFM_LOCAL_DIR/kafka"

as_postgres() { if [ "$(id -un)" = postgres ]; then bash -c "$1"; else su postgres -s /bin/bash -c "$1"; fi; }

# PostgreSQL
if [ -f "$PGDIR/data/postmaster.pid" ] && as_postgres "'$RADFM_PG_BIN/pg_ctl' -D '$PGDIR/data' status" >/dev/null 2>&1; then
  echo "start: postgresql already running on 127.0.0.1:$RADFM_LOCAL_PG_PORT"
else
  if radfm_port_in_use "$RADFM_LOCAL_PG_PORT"; then
    echo "start: port $RADFM_LOCAL_PG_PORT is taken by another program; set RADFM_LOCAL_PG_PORT to a free port" >&2; exit 1
  fi
  install -d -o postgres -g postgres "$PGDIR"
  if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
    as_postgres "'$RADFM_PG_BIN/initdb' -D '$PGDIR/data' -A trust -U postgres -E UTF8 --locale=C.UTF-8" >/dev/null
  fi
  as_postgres "'$RADFM_PG_BIN/pg_ctl' -D '$PGDIR/data' -l '$PGDIR/server.log' -w -t 30 \
    -o \"-p $RADFM_LOCAL_PG_PORT -k '$PGDIR' -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off\" start" >/dev/null
  echo "start: postgresql on 127.0.0.1:$RADFM_LOCAL_PG_PORT (log $PGDIR/server.log)"
fi
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$RADFM_LOCAL_PG_PORT" -U postgres "$@"; }
# Roles are the DBA's job: the service's login owns its database; the migration grants the writer and
# QA roles their privileges; a QA login reads through radfm_qa.
ensure_role() {
  psql_admin -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='$1'" | grep -q 1 || psql_admin -d postgres -c "CREATE ROLE $1 $2"
}
ensure_role radfm_writer NOLOGIN
ensure_role radfm_qa NOLOGIN
ensure_role radfm "LOGIN IN ROLE radfm_writer"
ensure_role radfm_qa_reader "LOGIN IN ROLE radfm_qa"
psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='radfm'" | grep -q 1 \
  || psql_admin -d postgres -c "CREATE DATABASE radfm OWNER radfm"

# Kafka-protocol broker
if [ -n "$(radfm_broker_pids)" ]; then
  echo "start: broker already running on 127.0.0.1:$RADFM_LOCAL_KAFKA_PORT"
else
  if radfm_port_in_use "$RADFM_LOCAL_KAFKA_PORT"; then
    echo "start: port $RADFM_LOCAL_KAFKA_PORT is taken by another program; set RADFM_LOCAL_KAFKA_PORT to a free port" >&2; exit 1
  fi
  command -v noida-db >/dev/null || { echo "start: noida-db is not installed; run Deploy/local/install.sh" >&2; exit 1; }
  mkdir -p "$KDIR/data"
  nohup noida-db start --only kafka --kafka-port "$RADFM_LOCAL_KAFKA_PORT" --data-dir "$KDIR/data" >"$KDIR/server.log" 2>&1 &
  for _ in $(seq 1 100); do radfm_port_in_use "$RADFM_LOCAL_KAFKA_PORT" && break; sleep 0.1; done
  radfm_port_in_use "$RADFM_LOCAL_KAFKA_PORT" || { echo "start: broker did not come up; see $KDIR/server.log" >&2; exit 1; }
  echo "start: broker on 127.0.0.1:$RADFM_LOCAL_KAFKA_PORT (log $KDIR/server.log)"
fi

[ "${RADFM_SKIP_TOPICS:-0}" = 1 ] && exit 0
# Topics need the radfm binary (librdkafka's admin API); a later `radfm topics ensure` does the same.
for bin in "$RADFM_REPO/.build/release/radfm" "$RADFM_REPO/.build/debug/radfm"; do
  if [ -x "$bin" ]; then
    "$bin" topics ensure && break
    echo "start: $bin could not create the topics; run 'radfm topics ensure' once it is built" >&2
  fi
done
exit 0
