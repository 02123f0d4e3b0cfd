-- Chunks: a large import's writing shared by several workers (issue 16)
-- After validation the import's records are cut into ranges of input positions [first_seq,
-- end_seq); any worker claims one (worker, heartbeat, as a job's lease), writes its records with
-- their journal lines and marks it done.  A chunk whose heartbeat is older than the lease
-- belongs to a worker that died: another claims it and writes what the journal does not hold.
-- The job's own worker removes its chunks when the job ends.
CREATE TABLE job_chunk (
    job_id    BIGINT NOT NULL REFERENCES job(id) ON DELETE CASCADE,
    n         BIGINT NOT NULL,
    first_seq BIGINT NOT NULL,
    end_seq   BIGINT NOT NULL,
    worker    TEXT,
    heartbeat BIGINT,
    done      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, n)
);
