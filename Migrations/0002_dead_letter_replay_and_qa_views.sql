-- A FHIR R4 DiagnosticReport per processed study, for integration engines that read results back;
-- dead letters can be sent back to the topic after a fix (`radfm dlq replay`); QA views answer the
-- everyday questions without joins.

ALTER TABLE dead_letters
    ADD COLUMN message_key  bytea,
    ADD COLUMN replayed_at  timestamptz,
    ADD COLUMN replay_count integer NOT NULL DEFAULT 0;
GRANT UPDATE (replayed_at, replay_count) ON dead_letters TO radfm_writer;

CREATE VIEW qa_studies_per_day AS
    SELECT date_trunc('day', completed_at) AS day, model_id, count(*) AS studies,
           round(avg(inference_ms)::numeric, 1) AS avg_inference_ms
    FROM jobs GROUP BY 1, 2;

CREATE VIEW qa_failures_by_reason AS
    SELECT date_trunc('day', created_at) AS day, error_class, count(*) AS events,
           count(*) FILTER (WHERE replayed_at IS NOT NULL) AS replayed
    FROM dead_letters GROUP BY 1, 2;

CREATE VIEW qa_results_per_model AS
    SELECT r.model_id, m.checkpoint_sha256, r.task, count(*) AS results,
           count(DISTINCT r.study_instance_uid) AS studies, min(r.created_at) AS first_result, max(r.created_at) AS last_result
    FROM results r JOIN models m USING (model_id) GROUP BY 1, 2, 3;

GRANT SELECT ON qa_studies_per_day, qa_failures_by_reason, qa_results_per_model TO radfm_qa;

CREATE TABLE diagnostic_reports (
    job_id              bigint PRIMARY KEY REFERENCES jobs (job_id),
    study_instance_uid  text NOT NULL REFERENCES studies (study_instance_uid),
    model_id            text NOT NULL REFERENCES models (model_id),
    resource            jsonb NOT NULL CHECK (resource->>'resourceType' = 'DiagnosticReport'),
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX diagnostic_reports_study_idx ON diagnostic_reports (study_instance_uid);
GRANT SELECT, INSERT ON diagnostic_reports TO radfm_writer;
GRANT SELECT ON diagnostic_reports TO radfm_qa;

-- Yes/no diagnosis answers about configured findings, one row per (result, label).
CREATE TABLE findings (
    result_id           bigint PRIMARY KEY REFERENCES results (result_id),
    study_instance_uid  text NOT NULL REFERENCES studies (study_instance_uid),
    model_id            text NOT NULL REFERENCES models (model_id),
    label               text NOT NULL,
    status              text NOT NULL CHECK (status IN ('present', 'absent', 'uncertain')),
    prompt              text NOT NULL,
    answer              text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX findings_label_idx ON findings (label, status);
GRANT SELECT, INSERT ON findings TO radfm_writer;
GRANT SELECT ON findings TO radfm_qa;
