-- 004_artifacts: trained models and their validation predictions, kept per
-- trial as large objects (streamed, sha256-checked on every read), and
-- ensembles built from them.

CREATE TABLE trial_artifacts (
  trial_id   bigint NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
  name       text NOT NULL,            -- "model.ngram", "val_predictions.csv"
  object     oid NOT NULL,             -- pg_largeobject
  bytes      bigint NOT NULL,
  sha256     text NOT NULL,            -- hex
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (trial_id, name)
);

-- Large objects are not owned by rows: unlink them with their row, also
-- when a study's deletion cascades down to its trials' artifacts.
CREATE FUNCTION hpt_unlink_artifact() RETURNS trigger AS $$
BEGIN
  PERFORM lo_unlink(OLD.object);
  RETURN OLD;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER trial_artifacts_unlink AFTER DELETE ON trial_artifacts
  FOR EACH ROW EXECUTE FUNCTION hpt_unlink_artifact();

CREATE TABLE ensembles (
  id             bigserial PRIMARY KEY,
  name           text NOT NULL UNIQUE,
  weights_mode   text NOT NULL CHECK (weights_mode IN ('equal', 'optimized')),
  threshold_mode text NOT NULL CHECK (threshold_mode IN ('fixed', 'tuned')),
  threshold      double precision NOT NULL,
  n_val          integer NOT NULL,
  accuracy       double precision,
  f1             double precision,
  precision_     double precision,
  recall         double precision,
  roc_auc        double precision,
  tp integer, fp integer, tn integer, fn integer,
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ensemble_members (
  ensemble_id bigint NOT NULL REFERENCES ensembles (id) ON DELETE CASCADE,
  position    integer NOT NULL,
  trial_id    bigint NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
  weight      double precision NOT NULL,
  PRIMARY KEY (ensemble_id, position)
);
