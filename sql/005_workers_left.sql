-- 005_workers_left: a worker that stops taking trials of its own accord
-- (its GPU is gone) says why before it exits (WorkerLeaving in
-- proto/hpt.proto); the coordinator records when and why. Both are cleared
-- when a worker of that id says Hello again.

ALTER TABLE workers ADD COLUMN left_at timestamptz;
ALTER TABLE workers ADD COLUMN left_reason text;
