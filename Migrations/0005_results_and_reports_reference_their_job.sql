-- Results and FHIR reports check one foreign key, to their job, instead of three.
--
-- A result's and a report's study and model are copies of their job's, kept on the row so QA queries
-- need no join. 0001/0002 checked each copy separately against `studies` and `models`, which made
-- the foreign-key triggers the largest single cost of a batch commit: measured with auto_explain on
-- `radfm bench pipeline` (batch 256: 512 results, 256 reports), 10.1 of 15.5 ms of the results insert
-- and 5.2 of 11.3 ms of the reports insert. One composite key to the job now checks all three at once and also pins what the
-- separate keys never did: that the copies equal the job's own study and model. The job's own keys
-- to `studies` and `models` still hold, so every result still names an existing study and model.

ALTER TABLE jobs ADD CONSTRAINT jobs_job_study_model_key UNIQUE (job_id, study_instance_uid, model_id);

ALTER TABLE results
    DROP CONSTRAINT results_job_id_fkey,
    DROP CONSTRAINT results_study_instance_uid_fkey,
    DROP CONSTRAINT results_model_id_fkey,
    ADD CONSTRAINT results_job_fkey FOREIGN KEY (job_id, study_instance_uid, model_id)
        REFERENCES jobs (job_id, study_instance_uid, model_id);

ALTER TABLE diagnostic_reports
    DROP CONSTRAINT diagnostic_reports_job_id_fkey,
    DROP CONSTRAINT diagnostic_reports_study_instance_uid_fkey,
    DROP CONSTRAINT diagnostic_reports_model_id_fkey,
    ADD CONSTRAINT diagnostic_reports_job_fkey FOREIGN KEY (job_id, study_instance_uid, model_id)
        REFERENCES jobs (job_id, study_instance_uid, model_id);
