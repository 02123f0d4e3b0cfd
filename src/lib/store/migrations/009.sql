-- S/FTP configurations, import profiles that pull, fetched files, export delivery, job-end mail (issue 17)
-- ftp_config: a named server (ftp://, ftps:// = FTP with explicit TLS, sftp://) and its root
-- folder; password and private key are sealed with the repository's key (never in clear).
-- profile: a profile that pulls names an ftp_config, a remote folder, a file pattern, what to do
-- with a fetched file on the server, a cron-like schedule and the next time it is due.
-- fetched_file: every file a fetch job took, so that the same file (name, size, checksum) is
-- never loaded twice, across restarts.  job.parent_job links a load job to its fetch job;
-- job.delivery is an export's delivery step (JSON).  account.notify_jobs: mail me when my
-- jobs end.
CREATE TABLE ftp_config (
    name       TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    username   TEXT NOT NULL,
    password   TEXT,
    private_key TEXT,
    passive    INTEGER NOT NULL DEFAULT 1,
    ca_file    TEXT,
    created    TEXT NOT NULL,
    updated    TEXT NOT NULL
);
ALTER TABLE profile ADD COLUMN ftp TEXT;
ALTER TABLE profile ADD COLUMN remote_dir TEXT;
ALTER TABLE profile ADD COLUMN pattern TEXT;
ALTER TABLE profile ADD COLUMN after_fetch TEXT;
ALTER TABLE profile ADD COLUMN schedule TEXT;
ALTER TABLE profile ADD COLUMN next_run INTEGER;
CREATE TABLE fetched_file (
    id        INTEGER PRIMARY KEY,
    profile   TEXT NOT NULL,
    name      TEXT NOT NULL,
    size      INTEGER NOT NULL,
    mtime     INTEGER,
    sha256    TEXT,
    state     TEXT NOT NULL,
    fetch_job INTEGER,
    load_job  INTEGER,
    fetched   TEXT NOT NULL
);
CREATE INDEX fetched_file_by_name ON fetched_file (profile, name, size);
ALTER TABLE job ADD COLUMN parent_job INTEGER;
ALTER TABLE job ADD COLUMN delivery TEXT;
CREATE INDEX job_by_parent ON job (parent_job) WHERE parent_job IS NOT NULL;
ALTER TABLE account ADD COLUMN notify_jobs INTEGER NOT NULL DEFAULT 0;
