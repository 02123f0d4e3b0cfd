-- Researchers, their affiliations, topics and keywords, and the ORCID works bulkrepo pushed (issue 11: researchers)
-- researcher: a researcher id (rid, the primary identifier sets and creators name), name parts,
-- an ORCID iD (check digit verified by the library), the affiliated status, flags (a bit mask:
-- include/bulkrepo/researcher.h BR_RF_*), the last smart-harvesting date (YYYY-MM-DD) and a
-- version bumped by every update (a revert's conflict check).  researcher_affiliation: an
-- organisational unit's code with start and end dates (YYYY-MM-DD; no end date = current).
-- researcher_term: research topics and keywords in order.  orcid_work: a work pushed to the
-- researcher's ORCID record (its put-code there, the asset it came from, when), removed by the
-- Delete records from ORCID job once ORCID confirms it is gone (src/lib/store/store_researcher.c).
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
