-- 002_queue: what a trustworthy job queue needs on top of 001.
--   * retries: a trial whose worker died is retried with the same params as
--     a new trial (state WAITING until a worker claims it); retry_of links
--     the retry to the FAIL trial it replaces.
--   * late messages: a report or result that arrives for a trial whose lease
--     has expired is kept here, never applied to the trial.
--   * studies can be STOPPED (drained) and resumed.
--   * workers advertise capabilities.

ALTER TABLE trials ADD COLUMN retry_of integer;  -- number of the trial retried

ALTER TABLE studies DROP CONSTRAINT studies_state_check;
ALTER TABLE studies ADD CONSTRAINT studies_state_check
  CHECK (state IN ('RUNNING', 'COMPLETE', 'STOPPED'));

ALTER TABLE workers ADD COLUMN tags text;        -- "h200, fast"
ALTER TABLE workers ADD COLUMN memory_gb double precision;

CREATE TABLE late_messages (
  id          bigserial PRIMARY KEY,
  study_id    bigint NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
  number      integer NOT NULL,
  worker_id   text,
  kind        text NOT NULL,                     -- report, complete, failed
  value       double precision,
  received_at timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE VIEW trial_history AS
SELECT s.name AS study,
       t.number,
       t.state,
       t.value,
       COALESCE((SELECT jsonb_object_agg(p.name, p.value_json)
                   FROM trial_params p
                  WHERE p.trial_id = t.id),
                '{}'::jsonb) AS params,
       t.worker_id AS worker,
       t.started_at,
       t.finished_at,
       t.duration_s,
       t.fail_reason,
       t.study_id,
       s.direction,
       t.id AS trial_id,
       t.retry_of
  FROM trials t
  JOIN studies s ON s.id = t.study_id;
