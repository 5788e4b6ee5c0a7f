-- The audit chain with one write of the chain head per INSERT statement instead of two per row.
--
-- 0001's row trigger updated `audit_head` twice for every row. Within one transaction each update adds
-- a version of the same heap row that cannot be pruned before commit, so a batch of n rows walked and
-- grew a chain of 2n versions: the largest statement of a batch commit. Now:
--   * a statement-level BEFORE trigger locks the head row once (FOR UPDATE), which serialises
--     concurrent writers exactly as the old `UPDATE ... RETURNING` did, held until commit;
--   * the row trigger links each row to the previous one: the head, or the latest row this statement
--     (or an earlier statement of this transaction not yet folded into the head) inserted. Rows above
--     the head's seq can only be this transaction's own: every committed writer moved the head first;
--   * a statement-level AFTER trigger moves the head to the statement's last row, read from the
--     statement's transition table.
-- The hash definition (audit_canonical_text, SHA-256, hex) is unchanged, so existing rows verify as
-- before, and seq/prev_hash still come from the head, so removing rows at the end of the log is still
-- detected by `radfm audit verify`. UPDATE, DELETE and TRUNCATE stay refused by 0001's triggers.

CREATE FUNCTION audit_log_lock_head() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM audit_head WHERE id = 1 FOR UPDATE;
    RETURN NULL;
END
$$;

CREATE FUNCTION audit_log_link() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    head_seq  bigint;
    head_hash text;
    last_seq  bigint;
    last_hash text;
BEGIN
    -- Row triggers see the rows earlier rows of the same statement inserted.
    SELECT seq, hash INTO head_seq, head_hash FROM audit_head WHERE id = 1;
    SELECT seq, hash INTO last_seq, last_hash FROM audit_log WHERE seq > head_seq ORDER BY seq DESC LIMIT 1;
    IF last_seq IS NOT NULL THEN
        head_seq := last_seq;
        head_hash := last_hash;
    END IF;
    NEW.seq := head_seq + 1;
    NEW.occurred_at := date_trunc('microseconds', clock_timestamp());
    NEW.actor := current_user;
    NEW.prev_hash := head_hash;
    NEW.hash := encode(sha256(convert_to(audit_canonical_text(NEW), 'UTF8')), 'hex');
    RETURN NEW;
END
$$;

CREATE FUNCTION audit_log_advance_head() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_head h SET seq = last.seq, hash = last.hash
    FROM (SELECT seq, hash FROM inserted ORDER BY seq DESC LIMIT 1) AS last
    -- An insert nested inside another (from a trigger) may already have moved the head past this one.
    WHERE h.id = 1 AND h.seq < last.seq;
    RETURN NULL;
END
$$;

DROP TRIGGER audit_log_chain ON audit_log;
DROP FUNCTION audit_log_chain();

CREATE TRIGGER audit_log_lock_head BEFORE INSERT ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_lock_head();
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_link();
CREATE TRIGGER audit_log_advance_head AFTER INSERT ON audit_log
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_advance_head();
