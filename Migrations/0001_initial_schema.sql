-- RadFM service schema (DESIGN section 4). Applied by `radfm migrate` inside one transaction.
-- Names used by QA queries are part of the contract: studies, jobs, results, audit_log,
-- consumer_offsets, dead_letters, models.

-- Roles are cluster-wide; several databases (tests, staging) may share one cluster, so create them
-- only when missing and tolerate a concurrent creator.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'radfm_writer') THEN
        BEGIN
            CREATE ROLE radfm_writer NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'radfm_qa') THEN
        BEGIN
            CREATE ROLE radfm_qa NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
END
$$;

CREATE TABLE models (
    model_id            text PRIMARY KEY,
    checkpoint_sha256   text,
    description         text,
    registered_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE studies (
    study_instance_uid  text PRIMARY KEY,
    accession_number    text,
    storage_root        text NOT NULL,
    series_count        integer NOT NULL,
    instance_count      integer NOT NULL,
    first_event_id      text NOT NULL,
    first_seen_at       timestamptz NOT NULL DEFAULT now(),
    last_processed_at   timestamptz
);

-- One row per accepted event. event_id is the publisher's idempotency key: a second delivery of the
-- same event is recorded in the audit log, never as a second job.
CREATE TABLE jobs (
    job_id              bigserial PRIMARY KEY,
    event_id            text NOT NULL UNIQUE,
    study_instance_uid  text NOT NULL REFERENCES studies (study_instance_uid),
    topic               text NOT NULL,
    kafka_partition     integer NOT NULL,
    kafka_offset        bigint NOT NULL,
    tasks               text[] NOT NULL,
    model_id            text NOT NULL REFERENCES models (model_id),
    status              text NOT NULL CHECK (status IN ('completed', 'failed')),
    occurred_at         timestamptz,
    received_at         timestamptz NOT NULL,
    completed_at        timestamptz NOT NULL DEFAULT now(),
    inference_ms        double precision NOT NULL DEFAULT 0
);
CREATE INDEX jobs_study_idx ON jobs (study_instance_uid);
CREATE INDEX jobs_completed_at_idx ON jobs (completed_at);

CREATE TABLE results (
    result_id           bigserial PRIMARY KEY,
    job_id              bigint NOT NULL REFERENCES jobs (job_id),
    study_instance_uid  text NOT NULL REFERENCES studies (study_instance_uid),
    task                text NOT NULL,
    model_id            text NOT NULL REFERENCES models (model_id),
    prompt_hash         text NOT NULL,
    prompt              text NOT NULL,
    output_text         text NOT NULL,
    prompt_tokens       integer NOT NULL,
    generated_tokens    integer NOT NULL,
    inference_ms        double precision NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (study_instance_uid, task, model_id, prompt_hash)
);
CREATE INDEX results_model_idx ON results (model_id, created_at);

-- The consumer's next offsets: the truth the consumer seeks to on assignment (Kafka's own commits are
-- informational). Written in the same transaction as the results they cover.
CREATE TABLE consumer_offsets (
    consumer_group      text NOT NULL,
    topic               text NOT NULL,
    kafka_partition     integer NOT NULL,
    next_offset         bigint NOT NULL CHECK (next_offset >= 0),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, kafka_partition)
);

CREATE TABLE dead_letters (
    dead_letter_id      bigserial PRIMARY KEY,
    event_id            text,                       -- null when the payload had none
    study_instance_uid  text,
    topic               text NOT NULL,
    kafka_partition     integer NOT NULL,
    kafka_offset        bigint NOT NULL,
    error_class         text NOT NULL,
    reason              text NOT NULL,
    payload             bytea NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (topic, kafka_partition, kafka_offset)
);
CREATE INDEX dead_letters_created_at_idx ON dead_letters (created_at);

-- Append-only audit trail, each row chained to the previous by SHA-256. The chain head lives in a
-- one-row table: `UPDATE ... RETURNING` on it serialises concurrent writers under READ COMMITTED and
-- hands each the latest committed head, so chain order always equals seq order.
CREATE TABLE audit_head (
    id                  integer PRIMARY KEY CHECK (id = 1),
    seq                 bigint NOT NULL,
    hash                text NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, repeat('0', 64));

CREATE TABLE audit_log (
    seq                 bigint PRIMARY KEY,
    occurred_at         timestamptz NOT NULL,
    actor               text NOT NULL,
    action              text NOT NULL,
    study_instance_uid  text,
    event_id            text,
    job_id              bigint,
    details             jsonb NOT NULL DEFAULT '{}'::jsonb,
    prev_hash           text NOT NULL,
    hash                text NOT NULL
);
CREATE INDEX audit_log_study_idx ON audit_log (study_instance_uid);

-- The canonical text a row's hash covers; `radfm audit verify` rebuilds the same text independently.
CREATE FUNCTION audit_canonical_text(a audit_log) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws('|',
        a.seq::text,
        to_char(a.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        a.actor,
        a.action,
        coalesce(a.study_instance_uid, ''),
        coalesce(a.event_id, ''),
        coalesce(a.job_id::text, ''),
        a.details::text,
        a.prev_hash)
$$;

CREATE FUNCTION audit_log_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    head_seq  bigint;
    head_hash text;
BEGIN
    UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash INTO head_seq, head_hash;
    NEW.seq := head_seq;
    NEW.occurred_at := date_trunc('microseconds', clock_timestamp());
    NEW.actor := current_user;
    NEW.prev_hash := head_hash;
    NEW.hash := encode(sha256(convert_to(audit_canonical_text(NEW), 'UTF8')), 'hex');
    UPDATE audit_head SET hash = NEW.hash WHERE id = 1;
    RETURN NEW;
END
$$;

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- Least privilege: the service writes, QA reads.
GRANT SELECT, INSERT, UPDATE ON models, studies, jobs, results, consumer_offsets TO radfm_writer;
GRANT SELECT, INSERT ON dead_letters, audit_log TO radfm_writer;
GRANT SELECT, UPDATE ON audit_head TO radfm_writer;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO radfm_writer;
GRANT SELECT ON models, studies, jobs, results, audit_log, consumer_offsets, dead_letters TO radfm_qa;
