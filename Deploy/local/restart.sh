#!/usr/bin/env bash
# Restarts one local server (postgres | kafka) in place, keeping its data: used by the chaos test and
# handy when rehearsing outages by hand.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
radfm_close_inherited_fds
case "${1:-}" in
  postgres)
    su postgres -s /bin/bash -c "'$RADFM_PG_BIN/pg_ctl' -D '$RADFM_LOCAL_DIR/postgres/data' -m fast -w -t 60 restart" >/dev/null
    echo "restart: postgresql restarted" ;;
  kafka)
    pids=$(radfm_broker_pids)
    [ -n "$pids" ] && kill $pids 2>/dev/null
    for _ in $(seq 1 100); do [ -z "$(radfm_broker_pids)" ] && break; sleep 0.1; done
    RADFM_SKIP_TOPICS=1 bash "$(dirname "${BASH_SOURCE[0]}")/start.sh" >/dev/null
    echo "restart: broker restarted" ;;
  *) echo "usage: restart.sh postgres|kafka" >&2; exit 2 ;;
esac
