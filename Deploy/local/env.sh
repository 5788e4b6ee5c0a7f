# Sourced by the local scripts: where the local servers live and how to reach them.
# Every value can be overridden from the environment before sourcing.
RADFM_REPO="${RADFM_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
RADFM_LOCAL_DIR="${RADFM_LOCAL_DIR:-$RADFM_REPO/.local}"
# Ports are RADFM_LOCAL_*: names under RADFM_KAFKA_ are librdkafka settings the service passes through.
RADFM_LOCAL_PG_PORT="${RADFM_LOCAL_PG_PORT:-55432}"
RADFM_LOCAL_KAFKA_PORT="${RADFM_LOCAL_KAFKA_PORT:-19092}"
RADFM_PG_BIN="${RADFM_PG_BIN:-/usr/lib/postgresql/15/bin}"
RADFM_NOIDA_VERSION="0.2.3"

export RADFM_DATABASE_URL="${RADFM_DATABASE_URL:-postgresql://radfm@127.0.0.1:$RADFM_LOCAL_PG_PORT/radfm}"
export RADFM_KAFKA_BROKERS="${RADFM_KAFKA_BROKERS:-127.0.0.1:$RADFM_LOCAL_KAFKA_PORT}"
# Tests create their own databases and topics on the same servers.
export RADFM_TEST_DATABASE_URL="${RADFM_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:$RADFM_LOCAL_PG_PORT/postgres}"
export RADFM_TEST_KAFKA_BROKERS="${RADFM_TEST_KAFKA_BROKERS:-$RADFM_KAFKA_BROKERS}"

radfm_port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Servers started from a script must not inherit the caller's other file descriptors: a daemon that
# holds them open makes the caller (a test harness waiting on a pipe, say) believe the script never
# finished.
radfm_close_inherited_fds() {
  local fd
  for fd in $(ls /proc/$$/fd 2>/dev/null); do
    [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null || true
  done
}

# PIDs of the broker serving this folder (the pip entry point may be a wrapper around the binary,
# so the PID that `$!` gives is not necessarily the server's).
radfm_broker_pids() {
  pgrep -f -- "--kafka-port $RADFM_LOCAL_KAFKA_PORT --data-dir $RADFM_LOCAL_DIR/kafka/data" || true
}
