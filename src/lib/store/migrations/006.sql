-- DOI profiles and their counters (issue 11: Register DOI for Research Assets); DOIs of any state found by value
-- doi_profile: a DOI prefix, a suffix pattern with per-asset-type labels, the agency (datacite,
-- local), active or not, publish (findable rather than registered) and the DataCite REST
-- registrar's base URL, repository id and password (sealed with the repository's key, never
-- stored in clear).  doi_counter: the next number of a profile's counter (one per label when
-- the pattern has {type}, else one for the profile, label '').  identifier_by_doi: DOIs of every
-- state by value, so that a new DOI is checked against all of them, whatever their case.
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
