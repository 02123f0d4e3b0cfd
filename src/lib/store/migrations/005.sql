-- Full-text search of items (issue 10): the item_fts index, filled for every item but templates; the journal indexed by handle
-- item_fts holds one row per item (rowid = item.id), written by the store in the transaction
-- of every write of the item (src/lib/store/store_search.c).  The two statements after the
-- tables are that file's br_fts_field_sql (each metadata field's kind, into a table of the
-- connection) and br_fts_row_sql for every item, line for line: keep them the same
-- (tests/unit/test_search.c compares an upgraded repository's index with a rebuilt one).
CREATE VIRTUAL TABLE item_fts USING fts5(title, creator, orcid, affiliation, ident, type, coll,
    status, flags, year, body, tokenize = 'unicode61 remove_diacritics 2');
CREATE TEMP TABLE IF NOT EXISTS item_fts_field (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL,
    label TEXT NOT NULL);
INSERT OR REPLACE INTO temp.item_fts_field(id, kind, label)
    SELECT f.id, CASE
    WHEN s.prefix = 'dc' AND f.element = 'title' THEN 1
    WHEN s.prefix = 'dc' AND f.element IN ('contributor', 'creator') THEN 2
    WHEN s.prefix = 'esploro' AND f.element = 'asset' AND f.qualifier = 'affiliation' THEN 3
    WHEN s.prefix = 'dc' AND f.element = 'identifier' AND f.qualifier = 'isbn'
    OR s.prefix = 'esploro' AND f.element = 'asset' AND f.qualifier = 'eisbn' THEN 4
    WHEN s.prefix = 'dc' AND f.element = 'identifier' AND f.qualifier <> 'citation'
    OR s.prefix = 'esploro' AND f.element = 'asset'
    AND f.qualifier IN ('pmid', 'pmcid', 'arxiv', 'wos', 'ark', 'idpqdt') THEN 5
    WHEN s.prefix = 'dc' AND f.element = 'type' THEN 6
    WHEN s.prefix = 'dc' AND f.element = 'date' AND f.qualifier = 'issued' THEN 7
    ELSE 0 END, CASE WHEN f.qualifier = '' THEN f.element ELSE f.qualifier END
    FROM metadata_field f JOIN metadata_schema s ON s.id = f.schema_id;
INSERT INTO item_fts(rowid, title, creator, orcid, affiliation, ident, type, coll, status,
    flags, year, body)
    SELECT i.id,
    group_concat(CASE WHEN k.kind = 1 THEN v.value END, ' '),
    trim(COALESCE((SELECT group_concat(trim(COALESCE(c.family, '') || ' ' ||
    COALESCE(c.given, '') || ' ' || COALESCE(c.middle, '') || ' ' || COALESCE(c.display, '')),
    ' ') FROM creator c WHERE c.item_id = i.id), '') || ' ' ||
    COALESCE(group_concat(CASE WHEN k.kind = 2 THEN v.value END, ' '), '')),
    (SELECT group_concat(c.orcid, ' ') FROM creator c WHERE c.item_id = i.id),
    trim(COALESCE((SELECT group_concat(c.affiliation, ' ') FROM creator c
    WHERE c.item_id = i.id), '') || ' ' ||
    COALESCE(group_concat(CASE WHEN k.kind = 3 THEN v.value END, ' '), '')),
    trim(COALESCE((SELECT group_concat(CASE WHEN d.type LIKE 'isbn%' THEN 'isbn ' ||
    replace(replace(d.value, '-', ''), ' ', '') || ' ' || d.value ELSE d.type || ' ' || d.value
    END, ' ') FROM identifier d WHERE d.item_id = i.id), '') || ' ' ||
    COALESCE(group_concat(CASE k.kind
    WHEN 4 THEN 'isbn ' || replace(replace(v.value, '-', ''), ' ', '') || ' ' || v.value
    WHEN 5 THEN k.label || ' ' || v.value END, ' '), '')),
    group_concat(CASE WHEN k.kind = 6 THEN v.value END, ' '),
    (SELECT group_concat(o.handle || ' ' || o.name, ' ') FROM item_collection ic
    JOIN container o ON o.id = ic.collection_id WHERE ic.item_id = i.id),
    i.status,
    trim(CASE WHEN EXISTS (SELECT 1 FROM bitstream b WHERE b.item_id = i.id
    AND b.bundle <> 'LICENSE') THEN 'hasfile ' ELSE '' END ||
    CASE WHEN EXISTS (SELECT 1 FROM identifier d WHERE d.item_id = i.id AND d.type = 'doi')
    OR count(CASE WHEN k.kind = 5 AND k.label = 'doi' THEN 1 END) > 0 THEN 'hasdoi '
    ELSE '' END ||
    CASE WHEN EXISTS (SELECT 1 FROM link l WHERE l.item_id = i.id) THEN 'haslink'
    ELSE '' END),
    group_concat(CASE WHEN k.kind = 7 AND substr(v.value, 1, 4) GLOB '[0-9][0-9][0-9][0-9]'
    THEN 'y' || substr(v.value, 1, 4) END, ' '),
    group_concat(CASE WHEN k.kind IS NULL OR k.kind IN (0, 7) THEN v.value END, ' ')
    FROM item i
    LEFT JOIN metadata_value v ON v.item_id = i.id
    LEFT JOIN temp.item_fts_field k ON k.id = v.field_id
    WHERE i.status <> 'template'
    GROUP BY i.id;
CREATE INDEX job_record_by_handle ON job_record (handle) WHERE handle IS NOT NULL;
