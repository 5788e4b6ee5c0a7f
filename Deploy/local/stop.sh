#!/usr/bin/env bash
# Stops the local servers started by start.sh. Idempotent.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
PGDIR="$RADFM_LOCAL_DIR/postgres"
pids=$(radfm_broker_pids)
if [ -n "$pids" ]; then
  kill $pids 2>/dev/null
  for _ in $(seq 1 50); do [ -z "$(radfm_broker_pids)" ] && break; sleep 0.1; done
  pids=$(radfm_broker_pids); [ -n "$pids" ] && kill -9 $pids 2>/dev/null
  echo "stop: broker stopped"
fi
if [ -f "$PGDIR/data/postmaster.pid" ]; then
  su postgres -s /bin/bash -c "'$RADFM_PG_BIN/pg_ctl' -D '$PGDIR/data' -m fast -w stop" >/dev/null && echo "stop: postgresql stopped"
fi
exit 0
