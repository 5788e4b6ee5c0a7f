#!/usr/bin/env bash
# Restarts one local server (postgres | kafka) in place, keeping its data: used by the chaos test and
# handy when rehearsing outages by hand.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
case "${1:-}" in
  postgres)
    su postgres -s /bin/bash -c "'$RADFM_PG_BIN/pg_ctl' -D '$RADFM_LOCAL_DIR/postgres/data' -m fast -w -t 60 restart" >/dev/null
    echo "restart: postgresql restarted" ;;
  kafka)
    KDIR="$RADFM_LOCAL_DIR/kafka"
    if [ -f "$KDIR/pid" ]; then
      pid=$(cat "$KDIR/pid"); kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$KDIR/pid"
    fi
    RADFM_SKIP_TOPICS=1 bash "$(dirname "${BASH_SOURCE[0]}")/start.sh" >/dev/null
    echo "restart: broker restarted" ;;
  *) echo "usage: restart.sh postgres|kafka" >&2; exit 2 ;;
esac
