-- Sets of records, set jobs' members, the trash and the undo journal (issue 10); Update Set fields.
-- item_set: a set is itemized (members listed in item_set_member) or logical (a saved search
-- query, evaluated when a job runs).  trash: assets a Delete Set job removed, restorable until
-- purge_after.  job_undo: what a job changed, so that it can be reverted.
CREATE TABLE item_set (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE,
    content TEXT NOT NULL CHECK (content IN ('assets', 'researchers', 'users')),
    query   TEXT,
    note    TEXT,
    created TEXT NOT NULL,
    creator TEXT
);
CREATE TABLE item_set_member (
    set_id INTEGER NOT NULL REFERENCES item_set(id) ON DELETE CASCADE,
    member TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (set_id, member)
) WITHOUT ROWID;
CREATE INDEX item_set_member_by_seq ON item_set_member (set_id, seq);
CREATE TABLE trash (
    uuid        TEXT PRIMARY KEY,
    handle      TEXT,
    item_id     INTEGER NOT NULL,
    job_id      INTEGER,
    deleted     TEXT NOT NULL,
    purge_after INTEGER NOT NULL,
    record      TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX trash_by_purge ON trash (purge_after);
-- v4: the members a set job runs on, frozen when it starts (a logical set is evaluated
-- once), so that a resumed job works through the same records; seq is the journal's.
CREATE TABLE job_member (
    job_id  INTEGER NOT NULL REFERENCES job(id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    member  TEXT NOT NULL,
    item_id INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
CREATE TABLE job_undo (
    job_id INTEGER NOT NULL REFERENCES job(id) ON DELETE CASCADE,
    uuid   TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
    before TEXT,
    after  TEXT,
    PRIMARY KEY (job_id, uuid)
) WITHOUT ROWID;
INSERT OR IGNORE INTO metadata_field (schema_id, element, qualifier, scope_note)
    SELECT id, 'asset', 'portalvisibility', 'Esploro: the asset is shown in the research portal (true/false)'
    FROM metadata_schema WHERE prefix = 'esploro';
INSERT OR IGNORE INTO metadata_field (schema_id, element, qualifier, scope_note)
    SELECT id, 'asset', 'profilevisibility', 'Esploro: the asset is shown in researcher profiles (true/false)'
    FROM metadata_schema WHERE prefix = 'esploro';
INSERT OR IGNORE INTO metadata_field (schema_id, element, qualifier, scope_note)
    SELECT id, 'asset', 'hiddenprofile', 'Esploro: a researcher (ORCID or researcher id) whose public profile hides the asset'
    FROM metadata_schema WHERE prefix = 'esploro';

-- v4: files kept for the trash and the undo journal although no item names them any more
-- (holder: "trash:UUID", "undo:JOB:UUID"); br_asset_gc keeps them.
CREATE TABLE asset_hold (
    sha256 TEXT NOT NULL,
    holder TEXT NOT NULL,
    PRIMARY KEY (sha256, holder)
) WITHOUT ROWID;
CREATE INDEX asset_hold_by_holder ON asset_hold (holder);
ALTER TABLE item ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
