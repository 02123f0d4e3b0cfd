-- bulkrepo store schema: the full current schema, compiled into the library
-- (scripts/embed.sh) and applied by br_repo_init, which records the latest version in
-- meta.schema_version.  A repository made by an earlier version is brought here by the
-- migrations in migrations/N.sql (migrate.c); a change to this file needs a migration that
-- gives an old repository exactly the same tables (tests/unit/test_upgrade.c compares them),
-- so new columns go at the end of their table, as ALTER TABLE ADD COLUMN puts them.
-- Portable SQL where possible: a PostgreSQL store will follow the same tables.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Communities and collections share one table: both own a handle and nest.
CREATE TABLE container (
    id               INTEGER PRIMARY KEY,
    is_community     INTEGER NOT NULL CHECK (is_community IN (0, 1)),
    handle           TEXT NOT NULL UNIQUE,
    handle_num       INTEGER,
    name             TEXT NOT NULL,
    parent_id        INTEGER REFERENCES container(id),
    template_item_id INTEGER,
    created          TEXT NOT NULL
);

CREATE TABLE metadata_schema (
    id        INTEGER PRIMARY KEY,
    prefix    TEXT NOT NULL UNIQUE,
    namespace TEXT
);

CREATE TABLE metadata_field (
    id         INTEGER PRIMARY KEY,
    schema_id  INTEGER NOT NULL REFERENCES metadata_schema(id),
    element    TEXT NOT NULL,
    qualifier  TEXT NOT NULL DEFAULT '',   -- '' = none (keeps UNIQUE meaningful)
    scope_note TEXT,
    UNIQUE (schema_id, element, qualifier)
);

CREATE TABLE epersongroup (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

-- status: workspace, workflow, archived, withdrawn; draft (Esploro's "import as
-- draft" profile: imported, to be approved); 'template' marks a collection's
-- template item.
CREATE TABLE item (
    id                INTEGER PRIMARY KEY,
    uuid              TEXT NOT NULL UNIQUE,
    handle            TEXT UNIQUE,
    handle_prefix     TEXT,
    handle_num        INTEGER,
    owning_collection INTEGER REFERENCES container(id),
    status            TEXT NOT NULL
                      CHECK (status IN ('workspace', 'workflow', 'draft', 'archived', 'withdrawn',
                                        'template')),
    created           TEXT NOT NULL,
    modified          TEXT NOT NULL,
    job_id            INTEGER,
    -- v4: bumped by every change of the item, so that a revert can tell a record changed
    -- after the job it reverts (job_undo.after holds the version the job left)
    version           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX item_order ON item (handle_prefix, handle_num, handle);
CREATE INDEX item_job ON item (job_id);

-- Owning (place 0) and mapped collections.
CREATE TABLE item_collection (
    item_id       INTEGER NOT NULL REFERENCES item(id) ON DELETE CASCADE,
    collection_id INTEGER NOT NULL REFERENCES container(id),
    place         INTEGER NOT NULL,
    PRIMARY KEY (item_id, collection_id)
) WITHOUT ROWID;
CREATE INDEX item_collection_by_collection ON item_collection (collection_id, item_id);

-- seq: order across all the item's values (document order on import), so an
-- export writes them back in the same order; place: position within the field.
CREATE TABLE metadata_value (
    id       INTEGER PRIMARY KEY,
    item_id  INTEGER NOT NULL REFERENCES item(id) ON DELETE CASCADE,
    field_id INTEGER NOT NULL REFERENCES metadata_field(id),
    language TEXT,
    value    TEXT NOT NULL,
    place    INTEGER NOT NULL,
    seq      INTEGER NOT NULL
);
CREATE INDEX metadata_value_by_item ON metadata_value (item_id, seq);
-- Lookups by value (SAF relationship references "schema.element:value") scan one
-- field's values.  An index on (field_id, value) made every insert a random B-tree
-- write carrying the whole value (abstracts included): 2.4x slower imports at
-- 100,000 assets (bench/RESULTS.md).  (field_id) alone grows at one end per field.
CREATE INDEX metadata_value_by_field ON metadata_value (field_id);

CREATE TABLE bitstream (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES item(id) ON DELETE CASCADE,
    bundle      TEXT NOT NULL,
    name        TEXT NOT NULL,
    sequence    INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    md5         TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    mime        TEXT,
    description TEXT,
    is_primary  INTEGER NOT NULL DEFAULT 0,
    read_group  TEXT,
    write_group TEXT,
    iiif_label  TEXT,
    iiif_toc    TEXT,
    iiif_width  INTEGER,
    iiif_height INTEGER,
    -- Esploro FILE row fields, as written (NULL = absent)
    license       TEXT,
    rights        TEXT,
    rights_reason TEXT,
    rights_date   TEXT,
    content_type  TEXT,
    supplemental  TEXT,
    file_order    TEXT
);
CREATE INDEX bitstream_by_item ON bitstream (item_id, sequence);
CREATE INDEX bitstream_by_sha256 ON bitstream (sha256);

CREATE TABLE relationship (
    id          INTEGER PRIMARY KEY,
    type        TEXT NOT NULL,
    left_item   INTEGER NOT NULL REFERENCES item(id) ON DELETE CASCADE,
    right_item  INTEGER NOT NULL REFERENCES item(id) ON DELETE CASCADE,
    left_place  INTEGER NOT NULL,
    right_place INTEGER NOT NULL,
    UNIQUE (type, left_item, right_item)
);
CREATE INDEX relationship_by_right ON relationship (right_item);

-- Ordered creators and contributors with structured names (Esploro CREATOR/CONT rows).
CREATE TABLE creator (
    id              INTEGER PRIMARY KEY,
    item_id         INTEGER NOT NULL REFERENCES item(id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('creator', 'contributor')),
    place           INTEGER NOT NULL,
    is_organization INTEGER NOT NULL DEFAULT 0,
    family          TEXT,
    given           TEXT,
    middle          TEXT,
    suffix          TEXT,
    display         TEXT,
    orcid           TEXT,
    email           TEXT,
    affiliation     TEXT,
    researcher_id   TEXT,
    contrib_type    TEXT,
    primary_id      TEXT,
    brcode          TEXT,
    additional      TEXT
);
CREATE INDEX creator_by_item ON creator (item_id, role, place);

CREATE TABLE link (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES item(id) ON DELETE CASCADE,
    place       INTEGER NOT NULL,
    url         TEXT NOT NULL,
    title       TEXT,
    description TEXT,
    type        TEXT,
    license     TEXT,
    rights      TEXT,
    owner       TEXT,
    link_order  TEXT,              -- LINK_ORDER as written (free text in Esploro)
    display_in_viewer TEXT
);
CREATE INDEX link_by_item ON link (item_id, place);

-- Typed identifiers used to match incoming records (doi, isbn13, origid, handle).
CREATE TABLE identifier (
    id      INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES item(id) ON DELETE CASCADE,
    type    TEXT NOT NULL,
    value   TEXT NOT NULL,
    UNIQUE (type, value)
);
CREATE INDEX identifier_by_item ON identifier (item_id);

CREATE TABLE orgunit (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    parent_code TEXT
);

CREATE TABLE job (
    id        INTEGER PRIMARY KEY,
    type      TEXT NOT NULL,
    category  TEXT NOT NULL,
    name      TEXT NOT NULL,
    eperson   TEXT,
    status    TEXT NOT NULL,
    submitted TEXT NOT NULL,
    started   TEXT,
    ended     TEXT,
    input     TEXT,
    params    TEXT NOT NULL DEFAULT '{}',
    message   TEXT,
    total     INTEGER NOT NULL DEFAULT 0,
    mapfile   TEXT,
    -- the queue (issue 4): progress written by the engine at most twice a second
    progress_percent INTEGER NOT NULL DEFAULT 0,
    progress_done    INTEGER NOT NULL DEFAULT 0,
    progress_total   INTEGER NOT NULL DEFAULT 0,
    progress_rate    REAL NOT NULL DEFAULT 0,
    progress_eta     INTEGER NOT NULL DEFAULT -1,
    progress_phase   TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    failure          TEXT,              -- failure class of a FAILED job (engine.h)
    rerun_of         INTEGER REFERENCES job(id),
    resume           INTEGER NOT NULL DEFAULT 0,
    profile          TEXT,              -- import profile of a drop-folder job
    attempt          INTEGER NOT NULL DEFAULT 0 -- claims by a worker: which run owns the job
);
CREATE INDEX job_by_mapfile ON job (type, mapfile);
CREATE INDEX job_by_status ON job (status, id);
CREATE INDEX job_by_input ON job (input);

-- The journal: one line per input record, written in the same transaction as
-- the record itself; counters are derived from it.
CREATE TABLE job_record (
    job_id     INTEGER NOT NULL REFERENCES job(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    outcome    TEXT NOT NULL,
    item_id    INTEGER,
    handle     TEXT,
    message    TEXT,
    bitstreams INTEGER NOT NULL DEFAULT 0,
    bytes      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, key)
);
CREATE INDEX job_record_by_seq ON job_record (job_id, seq);

-- A job's counters per outcome, kept by these triggers in the same transaction
-- as the journal lines: still derived from the journal (they cannot drift), but
-- a report or the job monitor reads a few rows instead of scanning a journal of
-- a million records on every request.  INSERT OR REPLACE fires the delete
-- trigger because connections set recursive_triggers.
CREATE TABLE job_tally (
    job_id     INTEGER NOT NULL REFERENCES job(id) ON DELETE CASCADE,
    outcome    TEXT NOT NULL,
    n          INTEGER NOT NULL DEFAULT 0,
    bitstreams INTEGER NOT NULL DEFAULT 0,
    bytes      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, outcome)
) WITHOUT ROWID;
CREATE TRIGGER job_record_tally_insert AFTER INSERT ON job_record BEGIN
    INSERT INTO job_tally(job_id, outcome, n, bitstreams, bytes)
        VALUES (NEW.job_id, NEW.outcome, 1, NEW.bitstreams, NEW.bytes)
        ON CONFLICT(job_id, outcome) DO UPDATE SET n = n + 1,
            bitstreams = bitstreams + excluded.bitstreams, bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER job_record_tally_delete AFTER DELETE ON job_record BEGIN
    UPDATE job_tally SET n = n - 1, bitstreams = bitstreams - OLD.bitstreams,
        bytes = bytes - OLD.bytes
        WHERE job_id = OLD.job_id AND outcome = OLD.outcome;
END;
CREATE TRIGGER job_record_tally_update AFTER UPDATE OF job_id, outcome, bitstreams, bytes
        ON job_record BEGIN
    UPDATE job_tally SET n = n - 1, bitstreams = bitstreams - OLD.bitstreams,
        bytes = bytes - OLD.bytes
        WHERE job_id = OLD.job_id AND outcome = OLD.outcome;
    INSERT INTO job_tally(job_id, outcome, n, bitstreams, bytes)
        VALUES (NEW.job_id, NEW.outcome, 1, NEW.bitstreams, NEW.bytes)
        ON CONFLICT(job_id, outcome) DO UPDATE SET n = n + 1,
            bitstreams = bitstreams + excluded.bitstreams, bytes = bytes + excluded.bytes;
END;

CREATE TABLE job_event (
    id          INTEGER PRIMARY KEY,
    job_id      INTEGER NOT NULL REFERENCES job(id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    severity    TEXT NOT NULL,
    module      TEXT,
    description TEXT NOT NULL,
    status      TEXT,            -- the job's status when it happened
    creator     TEXT             -- a user name, or 'system'
);
CREATE INDEX job_event_by_job ON job_event (job_id, id);

-- Seed 004's file details: the input files of a job.
CREATE TABLE job_file (
    id       INTEGER PRIMARY KEY,
    job_id   INTEGER NOT NULL REFERENCES job(id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    path     TEXT NOT NULL,
    size     INTEGER NOT NULL,
    created  TEXT,
    records  INTEGER NOT NULL DEFAULT -1,
    status   TEXT NOT NULL DEFAULT 'pending',
    problems TEXT
);
CREATE INDEX job_file_by_job ON job_file (job_id, id);

-- Import profiles with a drop folder (issue 4 section 4).
CREATE TABLE profile (
    name       TEXT PRIMARY KEY,
    format     TEXT NOT NULL,
    collection TEXT NOT NULL,
    inbox      TEXT NOT NULL UNIQUE,
    eperson    TEXT,
    created    TEXT NOT NULL
);

-- Staff users (issue 4 section 2).  password_hash is libsodium's argon2id string;
-- roles are codes of data/roles.tsv.
CREATE TABLE account (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created       TEXT NOT NULL,
    disabled      INTEGER               -- v2: Unix time it was disabled; NULL = enabled
);

CREATE TABLE account_role (
    account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    PRIMARY KEY (account_id, role)
) WITHOUT ROWID;

-- API tokens and login sessions are stored as the SHA-256 of the secret only.
-- v2: a token has a name, an expiry (Unix time; NULL = never, only when asked for), the
-- time it was last used (written at most once a minute) and the time it was revoked.
CREATE TABLE api_token (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    hash       TEXT NOT NULL UNIQUE,
    created    TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    expires    INTEGER,
    last_used  INTEGER,
    revoked    INTEGER
);
CREATE INDEX api_token_by_account ON api_token (account_id);

CREATE TABLE session (
    hash       TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    created    TEXT NOT NULL,
    expires    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX session_by_account ON session (account_id);

-- v4 (issue 10): sets of records.  A set is itemized (its members listed below: an asset's
-- UUID, a researcher's id, a user name) or logical (query: a saved search, evaluated when a
-- job runs).  content: what its members are.
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

-- v4: assets a Delete Set job removed, as the JSON of their record (metadata, files by
-- checksum, collections, relations), restorable until purge_after (Unix time).  The
-- assetstore keeps their files until they are purged.
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

-- v4: the undo journal.  One row per record a job created, updated or deleted: before holds
-- the parts of the record the job changed, as they were (JSON; NULL for a created record);
-- after is the item's version as the job left it (item.version), so a revert can tell a record
-- changed since.
CREATE TABLE job_undo (
    job_id INTEGER NOT NULL REFERENCES job(id) ON DELETE CASCADE,
    uuid   TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
    before TEXT,
    after  TEXT,
    PRIMARY KEY (job_id, uuid)
) WITHOUT ROWID;

-- v4: files kept for the trash and the undo journal although no item names them any more
-- (holder: "trash:UUID", "undo:JOB:UUID"); br_asset_gc keeps them.
CREATE TABLE asset_hold (
    sha256 TEXT NOT NULL,
    holder TEXT NOT NULL,
    PRIMARY KEY (sha256, holder)
) WITHOUT ROWID;
CREATE INDEX asset_hold_by_holder ON asset_hold (holder);

-- v5 (issue 10): the full-text index of search.h.  One row per item but templates (rowid =
-- item.id), written by the store in the same transaction as the item (store_search.c builds
-- it from the tables above with one statement: titles, creators' names, ORCIDs and
-- affiliations, identifiers as "type value", dc.type, collections' handles and names, the
-- status, flags hasfile/hasdoi/haslink, issue years as y2019, and every other value as body).
-- unicode61 with remove_diacritics 2: "Muller" finds "Müller".
CREATE VIRTUAL TABLE item_fts USING fts5(title, creator, orcid, affiliation, ident, type, coll,
    status, flags, year, body, tokenize = 'unicode61 remove_diacritics 2');
-- v5: the journal's lines by the handle of their item, for the jobs that touched a record
-- (br_item_jobs; a replaced item has a new id and the same handle).
CREATE INDEX job_record_by_handle ON job_record (handle) WHERE handle IS NOT NULL;

-- v6 (issue 11): DOI profiles (a prefix, a suffix pattern with per-asset-type labels, the agency,
-- active, publish, the DataCite REST registrar's URL, repository id and sealed password) and
-- their counters (one per label when the pattern has {type}, else one per profile, label '');
-- DOIs of every state by value (src/lib/store/store_doi.c).
CREATE TABLE doi_profile (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    prefix        TEXT NOT NULL,
    pattern       TEXT NOT NULL,
    labels        TEXT NOT NULL DEFAULT '',
    default_label TEXT NOT NULL DEFAULT 'asset',
    start         INTEGER NOT NULL DEFAULT 1 CHECK (start >= 0),
    agency        TEXT NOT NULL CHECK (agency IN ('datacite', 'local')),
    active        INTEGER NOT NULL DEFAULT 1,
    publish       INTEGER NOT NULL DEFAULT 0,
    api_url       TEXT,
    repository_id TEXT,
    password      TEXT,
    landing       TEXT,
    created       TEXT NOT NULL
);
CREATE TABLE doi_counter (
    profile_id INTEGER NOT NULL REFERENCES doi_profile(id) ON DELETE CASCADE,
    label      TEXT NOT NULL,
    next       INTEGER NOT NULL,
    PRIMARY KEY (profile_id, label)
) WITHOUT ROWID;
CREATE INDEX identifier_by_doi ON identifier (lower(value))
    WHERE type IN ('doi', 'doi-reserved', 'doi-registered', 'doi-findable');

-- v7 (issue 11): researchers (a researcher id, name parts, a verified ORCID iD, the affiliated
-- status, flags as a bit mask of researcher.h BR_RF_*, the last smart-harvesting date, a version
-- for reverts), their affiliations with dates (no end date = current), topics and keywords, and
-- the ORCID works bulkrepo pushed (removed by delete-orcid); src/lib/store/store_researcher.c.
CREATE TABLE researcher (
    id           INTEGER PRIMARY KEY,
    rid          TEXT NOT NULL UNIQUE,
    family       TEXT NOT NULL,
    given        TEXT,
    middle       TEXT,
    suffix       TEXT,
    orcid        TEXT UNIQUE,
    status       TEXT NOT NULL DEFAULT 'affiliated'
                 CHECK (status IN ('affiliated', 'non-affiliated', 'previously-affiliated')),
    flags        INTEGER NOT NULL DEFAULT 0,
    last_harvest TEXT,
    created      TEXT NOT NULL,
    modified     TEXT NOT NULL,
    version      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE researcher_affiliation (
    researcher_id INTEGER NOT NULL REFERENCES researcher(id) ON DELETE CASCADE,
    place         INTEGER NOT NULL,
    unit          TEXT NOT NULL,
    start_date    TEXT,
    end_date      TEXT,
    PRIMARY KEY (researcher_id, place)
) WITHOUT ROWID;
CREATE TABLE researcher_term (
    researcher_id INTEGER NOT NULL REFERENCES researcher(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('topic', 'keyword')),
    place         INTEGER NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (researcher_id, kind, place)
) WITHOUT ROWID;
CREATE TABLE orcid_work (
    researcher_id INTEGER NOT NULL REFERENCES researcher(id) ON DELETE CASCADE,
    put_code      TEXT NOT NULL,
    asset_uuid    TEXT,
    pushed        TEXT NOT NULL,
    PRIMARY KEY (researcher_id, put_code)
) WITHOUT ROWID;

-- v8 (issue 11): users' account type (internal: bulkrepo keeps the password; external: another
-- system manages the account) and mail address (NULL: the user name when it is an address),
-- and the mail outbox: every message queued in the transaction of the change it tells about,
-- with its delivery state, attempts, last error, next try and the sender's claim; secret is a
-- message's password sealed with the repository's key until it is sent (src/lib/mail/).
ALTER TABLE account ADD COLUMN account_type TEXT NOT NULL DEFAULT 'internal'
    CHECK (account_type IN ('internal', 'external'));
ALTER TABLE account ADD COLUMN email TEXT;
CREATE TABLE mail_outbox (
    id           INTEGER PRIMARY KEY,
    created      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    secret       TEXT,
    had_secret   INTEGER NOT NULL DEFAULT 0,
    message_id   TEXT NOT NULL UNIQUE,
    job_id       INTEGER,
    state        TEXT NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    next_attempt INTEGER NOT NULL DEFAULT 0,
    claimed      INTEGER,
    sent         TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (state, next_attempt);
CREATE INDEX mail_outbox_by_job ON mail_outbox (job_id) WHERE job_id IS NOT NULL;

-- v9 (issue 17): see migrations/009.sql for what each table and column is for.
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
-- v10: leases (several workers share the queue)
ALTER TABLE job ADD COLUMN worker TEXT;
ALTER TABLE job ADD COLUMN heartbeat INTEGER;
-- v11: chunks of a large import, written by several workers (migrations/011.sql)
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
