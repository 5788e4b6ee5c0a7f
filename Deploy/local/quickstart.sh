#!/usr/bin/env bash
# One command from a fresh machine to rows in PostgreSQL: install, build, start the local servers,
# migrate, make an archive of real DICOM files, backfill events for it, run the consumer until the
# topic is drained, and show what was written. Safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source Deploy/local/env.sh

step() { printf '\n== %s\n' "$*"; }

step "installing packages"
bash Deploy/local/install.sh

step "building (release)"
swift build -c release --product radfm 2>&1 | tail -n 2
RADFM=.build/release/radfm

step "starting PostgreSQL and the broker on loopback"
bash Deploy/local/start.sh

export RADFM_STORAGE_ROOTS="archive=$RADFM_LOCAL_DIR/archive"
# The default model, trained by radfm-train on the real data of this machine (Models/radfm-mini/MODEL_CARD.md).
export RADFM_MODEL="${RADFM_MODEL:-$PWD/Models/radfm-mini}"

step "migrating the database"
"$RADFM" migrate

step "building a sample archive from pydicom's real DICOM files"
python3 Deploy/local/make-sample-studies.py real "$RADFM_LOCAL_DIR/archive" 2>/dev/null

step "model: $RADFM_MODEL"
if [ "$RADFM_MODEL" = "$PWD/Models/radfm-mini" ] && [ ! -f "$RADFM_MODEL/model.safetensors" ]; then
  step "training the default model's weights (Models/radfm-mini/recipe.sh, about 6 minutes)"
  bash Models/radfm-mini/recipe.sh --install
fi
[ -f "$RADFM_MODEL/config.json" ] || { echo "no config.json in $RADFM_MODEL" >&2; exit 1; }

step "publishing one event per study (tasks: modality, report, diagnosis)"
"$RADFM" backfill --root archive --tasks modality report diagnosis

step "processing (stops after 10 s without new events)"
"$RADFM" serve --exit-when-idle 10 2> "$RADFM_LOCAL_DIR/serve.log" || { tail -n 20 "$RADFM_LOCAL_DIR/serve.log"; exit 1; }
printf '%s batches committed (log: %s)\n' "$(grep -c '"batch committed"' "$RADFM_LOCAL_DIR/serve.log")" "$RADFM_LOCAL_DIR/serve.log"

step "rows written"
psql -X -h 127.0.0.1 -p "$RADFM_LOCAL_PG_PORT" -U radfm radfm -c \
  "SELECT j.study_instance_uid, r.task, r.generated_tokens AS tokens, left(r.output_text, 50) AS output
   FROM results r JOIN jobs j USING (job_id) ORDER BY j.job_id, r.task"
psql -X -h 127.0.0.1 -p "$RADFM_LOCAL_PG_PORT" -U radfm radfm -c \
  "SELECT error_class, count(*), left(min(reason), 70) AS example FROM dead_letters GROUP BY 1"
psql -X -h 127.0.0.1 -p "$RADFM_LOCAL_PG_PORT" -U radfm radfm -c \
  "SELECT action, count(*) FROM audit_log GROUP BY 1 ORDER BY 1"
"$RADFM" audit verify

step "RadBench-offline with the same model (scores, per-sample predictions and an HTML report)"
python3 Bench/make_radbench_offline.py --out Bench/radbench-offline --check 2>/dev/null
"$RADFM" eval run --bench Bench/radbench-offline/manifest.jsonl --model "$RADFM_MODEL" --max-new-tokens 32 \
  --out "$RADFM_LOCAL_DIR/radbench" --report "$RADFM_LOCAL_DIR/radbench/report.html" --database-url "$RADFM_DATABASE_URL"
printf 'report: %s\n' "$RADFM_LOCAL_DIR/radbench/report.html"

printf '\nServers keep running; stop them with: bash Deploy/local/stop.sh\n'
