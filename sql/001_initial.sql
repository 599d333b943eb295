-- 001_initial.sql — hpt's schema: studies, their search spaces, trials with
-- their params, intermediate values and metrics, workers, and the
-- trial_history view that `hpt trials` and psql users read.
--
-- schema_migrations is created by hpt_store_migrate (coordinator/store.c)
-- before any migration runs, so it is not created here.
--
-- Conventions: a parameter value is stored twice, as `value` (the internal
-- representation: the number itself, or the choice index of a categorical)
-- and as `value_json` (what a human wants to see: 0.01, 7, "1-2", true).
-- NaN is never stored: an absent value is a missing row or NULL.

CREATE TABLE studies (
  id           bigserial PRIMARY KEY,
  name         text NOT NULL UNIQUE,
  direction    text NOT NULL CHECK (direction IN ('maximize', 'minimize')),
  n_trials     integer NOT NULL CHECK (n_trials >= 1),
  max_parallel integer NOT NULL CHECK (max_parallel >= 1),
  sampler      jsonb NOT NULL DEFAULT '{}', -- key -> text or array of text
  pruner       jsonb NOT NULL DEFAULT '{}',
  objective    jsonb NOT NULL DEFAULT '{}',
  spec_text    text NOT NULL DEFAULT '',    -- the YAML as created
  spec_source  text NOT NULL DEFAULT '',    -- the file it came from
  state        text NOT NULL DEFAULT 'RUNNING'
               CHECK (state IN ('RUNNING', 'COMPLETE')),
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX studies_state_idx ON studies (state, created_at);

CREATE TABLE study_params (
  study_id     bigint NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
  position     integer NOT NULL,            -- order in the spec, from 0
  name         text NOT NULL,
  type         text NOT NULL CHECK (type IN ('float', 'int', 'categorical')),
  low          double precision,            -- float, int
  high         double precision,
  step         double precision,            -- NULL: no grid
  log          boolean NOT NULL DEFAULT false,
  choices      jsonb,                       -- categorical: array of values
  parent       text,                        -- conditional: parent's name
  when_choices jsonb,                       -- conditional: parent's values
  PRIMARY KEY (study_id, position),
  UNIQUE (study_id, name)
);

CREATE TABLE trials (
  id           bigserial PRIMARY KEY,
  study_id     bigint NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
  number       integer NOT NULL CHECK (number >= 0),
  state        text NOT NULL
               CHECK (state IN ('WAITING', 'RUNNING', 'COMPLETE', 'PRUNED',
                                'FAIL')),
  worker_id    text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  started_at   timestamptz,
  finished_at  timestamptz,
  heartbeat_at timestamptz,
  value        double precision,            -- NULL: none (or NaN)
  duration_s   double precision,
  fail_reason  text,
  UNIQUE (study_id, number)
);

CREATE INDEX trials_study_state_idx ON trials (study_id, state);

CREATE TABLE trial_params (
  trial_id     bigint NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
  name         text NOT NULL,
  value        double precision NOT NULL,   -- internal representation
  value_json   jsonb NOT NULL,              -- display value
  PRIMARY KEY (trial_id, name)
);

CREATE TABLE trial_intermediate_values (
  trial_id     bigint NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
  step         integer NOT NULL,
  value        double precision,            -- NULL: NaN was reported
  reported_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (trial_id, step)
);

CREATE TABLE trial_metrics (
  trial_id     bigint NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
  name         text NOT NULL,
  value        double precision,
  PRIMARY KEY (trial_id, name)
);

CREATE TABLE workers (
  id               text PRIMARY KEY,
  hostname         text,
  devices          text,                    -- "cpu, cuda:0"
  protocol_version integer,
  first_seen       timestamptz NOT NULL DEFAULT now(),
  last_seen        timestamptz NOT NULL DEFAULT now()
);

-- One row per trial, for people:
--   SELECT number, state, value, params FROM trial_history
--    WHERE study = 'x' ORDER BY value DESC NULLS LAST LIMIT 5;
CREATE VIEW trial_history AS
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
       t.id AS trial_id
  FROM trials t
  JOIN studies s ON s.id = t.study_id;
