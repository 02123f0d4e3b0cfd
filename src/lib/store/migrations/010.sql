-- Leases: several workers, on one machine or many, share the queue (issue 16)
-- job.worker names the worker running the job (its --name, or host:pid); job.heartbeat is the
-- last time (Unix seconds) that worker said it was alive.  A job whose heartbeat is older than
-- the lease belongs to a worker that died: any other takes it over (resumes or fails it).
ALTER TABLE job ADD COLUMN worker TEXT;
ALTER TABLE job ADD COLUMN heartbeat INTEGER;
