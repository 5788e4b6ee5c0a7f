#!/usr/bin/env bash
# The test command (README and CI run exactly this): starts the local servers, builds, runs every
# unit and integration test with `swift test`, and stops the servers it started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source Deploy/local/env.sh

started_here=0
[ -z "$(radfm_broker_pids)" ] && started_here=1
bash Deploy/local/start.sh
if [ "$started_here" = 1 ] && [ "${RADFM_KEEP_SERVERS:-0}" != 1 ]; then trap 'bash Deploy/local/stop.sh' EXIT; fi

# Tests measure nothing, but the model tests do real matrix work: give OpenBLAS the kernel this CPU
# supports when the environment has not chosen one (the executables do this themselves at start).
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  if grep -q avx512vl /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
  elif grep -q avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi
fi

# The chaos test may restart these servers (Deploy/local/restart.sh): they are ours.
export RADFM_TEST_SERVERS_RESTARTABLE=1

# A test pins the default model's answers; its weights are trained, not committed (Models/radfm-mini).
[ -f Models/radfm-mini/model.safetensors ] || bash Models/radfm-mini/recipe.sh --install

swift build --build-tests "$@"
swift test --skip-build "$@"
