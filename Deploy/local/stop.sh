#!/usr/bin/env bash
# Stops the local servers started by start.sh. Idempotent.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
PGDIR="$RADFM_LOCAL_DIR/postgres"
KDIR="$RADFM_LOCAL_DIR/kafka"
if [ -f "$KDIR/pid" ]; then
  pid=$(cat "$KDIR/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"; for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    echo "stop: broker stopped"
  fi
  rm -f "$KDIR/pid"
fi
if [ -f "$PGDIR/data/postmaster.pid" ]; then
  su postgres -s /bin/bash -c "'$RADFM_PG_BIN/pg_ctl' -D '$PGDIR/data' -m fast -w stop" >/dev/null && echo "stop: postgresql stopped"
fi
exit 0
