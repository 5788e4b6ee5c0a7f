-- RadBench results (DESIGN section 7): one row per `radfm eval run`, its per-sample predictions and its
-- metric values, next to the production results of the same model (models.model_id).

CREATE TABLE bench_runs (
    run_id              uuid PRIMARY KEY,
    model_id            text NOT NULL REFERENCES models (model_id),
    benchmark           text NOT NULL,
    -- sha256 of the manifest file, so that runs over different versions of a benchmark are not compared.
    benchmark_sha256    text NOT NULL,
    sample_count        integer NOT NULL CHECK (sample_count > 0),
    max_new_tokens      integer NOT NULL,
    started_at          timestamptz NOT NULL,
    completed_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bench_runs_model_idx ON bench_runs (model_id, completed_at);

CREATE TABLE bench_predictions (
    run_id              uuid NOT NULL REFERENCES bench_runs (run_id),
    sample_id           text NOT NULL,
    task                text NOT NULL CHECK (task IN ('modality', 'diagnosis', 'vqa', 'report', 'rationale')),
    prediction          text NOT NULL,
    reference           text NOT NULL,
    PRIMARY KEY (run_id, sample_id)
);

-- BLEU values are on sacrebleu's 0-100 scale, every other metric on 0-1 (as in metrics.json).
CREATE TABLE bench_metrics (
    run_id              uuid NOT NULL REFERENCES bench_runs (run_id),
    task                text NOT NULL CHECK (task IN ('modality', 'diagnosis', 'vqa', 'report', 'rationale')),
    metric              text NOT NULL,
    value               double precision NOT NULL,
    PRIMARY KEY (run_id, task, metric)
);

GRANT SELECT, INSERT ON bench_runs, bench_predictions, bench_metrics TO radfm_writer;
GRANT SELECT ON bench_runs, bench_predictions, bench_metrics TO radfm_qa;
