-- 003_barrier: one row the coordinator rewrites to make its asynchronous
-- commits durable in one flush (see hpt_store_barrier). A transaction that
-- writes nothing commits without waiting for the disk, whatever
-- synchronous_commit says; this row gives the barrier something to write.
CREATE TABLE durability_barrier (
  id integer PRIMARY KEY CHECK (id = 1),
  at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO durability_barrier (id) VALUES (1);
