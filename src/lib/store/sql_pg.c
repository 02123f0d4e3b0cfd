/* The PostgreSQL texts of the store's statements whose shared SQLite text (store.c's SQL
 * table) fails on PostgreSQL or means something else there: the PostgreSQL backend's sql
 * table (db.h), over schema_pg.sql.  Every other statement runs its shared text.
 *
 * Each text keeps its shared text's result columns (same order, same meaning) and parameter
 * numbers, so the C code that binds and reads them is the same (one exception: an INSERT may
 * add RETURNING id, which the store reads when a row comes back and asks last_id otherwise); ?N
 * stays (the backend makes it $N).  Parameters are sent untyped as text and the server infers their
 * types: a ?N used where PostgreSQL cannot infer one (its first use ?N IS NULL, a SELECT list of
 * INSERT ... SELECT, a concatenation, a truth value) or would infer a 32-bit integer (?2 - 60) is
 * cast, ?N::bigint or ?N::text.  The store binds 0/1 for a truth value: where SQLite takes an
 * integer as one (WHERE ?2, CASE WHEN ?4) the text tests ?N::bigint <> 0.
 *
 * What differs and how (scripts/pg-check-sql.sh prepares every statement on a server and runs
 * the ones whose meaning differs):
 *   - INSERT OR IGNORE: ON CONFLICT DO NOTHING (a unique or primary key conflict; SQLite's
 *     also ignores NOT NULL and CHECK failures, which the store never provokes on purpose).
 *   - INSERT OR REPLACE: ON CONFLICT (the key) DO UPDATE of every other column, which is
 *     SQLite's delete and insert when the statement names every column (here it does).
 *   - group_concat: string_agg, ordered as SQLite reads the rows (by its indexes).
 *   - GLOB: a regular expression; LIKE (ASCII case-blind in SQLite): ILIKE, with no escape
 *     character (PostgreSQL's LIKE takes backslash as one).
 *   - A negative LIMIT (no limit in SQLite, an error in PostgreSQL): LIMIT NULL.
 *   - x IS ?N on values: IS NOT DISTINCT FROM.
 *   - A comparison returned as a column: ::int (the store reads 0 or 1).
 *   - NULLs sort first in SQLite (last in PostgreSQL): NULLS FIRST on nullable sort keys.
 *   - json_each(?2): json_array_elements_text(?2::json); the queue's claim skips rows that
 *     another worker is claiming (FOR UPDATE SKIP LOCKED, see S_JOB_CLAIM).
 *   - 'token ' || max(id) + 1 as a new row's id: the identity's next value (S_TOKEN_INSERT).
 *   - temp.T: pg_temp.T (the connection's temporary table, made by BR_FTS_FIELD_TABLE_SQL).
 *   - The search index: a tsvector column, doc, written with the row (schema_pg.sql).
 *   - BEGIN IMMEDIATE: BEGIN (see S_BEGIN). */
#include "store_internal.h"

/* ---- texts shared by several statements (store.c has the same macros) ---- */

#define PG_LIST_COLS                                                                               \
    "SELECT i.id, i.handle, i.uuid, i.status, "                                                    \
    "(SELECT v.value FROM metadata_value v WHERE v.item_id = i.id AND v.field_id = ?1 "            \
    "  ORDER BY v.seq LIMIT 1), c.handle, i.modified FROM item i "                                 \
    "LEFT JOIN container c ON c.id = i.owning_collection "
#define PG_LIST_FILTER                                                                             \
    "AND i.status <> 'template' AND (?2::bigint <> 0 OR i.status <> 'withdrawn') "
/* item_order is NULLS FIRST too (schema_pg.sql): the index gives this order */
#define PG_LIST_ORDER                                                                              \
    "ORDER BY i.handle_prefix NULLS FIRST, i.handle_num NULLS FIRST, i.handle NULLS FIRST"
#define PG_FTP_COLS                                                                                \
    "name, url, username, (password IS NOT NULL AND password != '')::int, "                        \
    "(private_key IS NOT NULL AND private_key != '')::int, passive, ca_file, created, updated"
/* SQLite's LIMIT with a negative count takes every row; PostgreSQL's refuses it. */
#define PG_LIMIT(p) "LIMIT CASE WHEN " p "::bigint >= 0 THEN " p "::bigint END"

const char *const br_pg_sql[S_COUNT] = {
    /* BEGIN IMMEDIATE takes SQLite's write lock at once, so that one writer at a time reads
     * and then writes (the next handle, a DOI counter, a set's next seq).  PostgreSQL has no
     * such BEGIN: its writers run side by side and wait only for each other's rows.  One
     * statement cannot also take a lock: SQLite's one-writer rule, where it is wanted, is the
     * backend's to add after BEGIN (SELECT pg_advisory_xact_lock(...), which lock_timeout
     * bounds as SQLite's busy wait bounds BEGIN IMMEDIATE). */
    [S_BEGIN] = "BEGIN",
    [S_MAX_HANDLE_CONT] =
        "SELECT max(handle_num) FROM container WHERE handle ILIKE (?1::text || '/%') ESCAPE ''",
    /* the new item's id with the insert, not by a round trip more (lastval) */
    [S_ITEM_INSERT] =
        "INSERT INTO item(uuid, handle, handle_prefix, handle_num, owning_collection, "
        "status, created, modified, job_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8) "
        "RETURNING id",
    [S_ITEM_COLL_INSERT] = "INSERT INTO item_collection(item_id, collection_id, place) "
                           "VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
    [S_ID_MIRROR] = "INSERT INTO identifier(item_id, type, value) VALUES (?1, ?2, ?3) "
                    "ON CONFLICT DO NOTHING",
    [S_LIST_ALL] = PG_LIST_COLS "WHERE TRUE " PG_LIST_FILTER PG_LIST_ORDER,
    [S_LIST_COLL] = PG_LIST_COLS
    "WHERE i.id IN (SELECT ic.item_id FROM item_collection ic "
    "JOIN container k ON k.id = ic.collection_id WHERE k.handle = ?3) " PG_LIST_FILTER
        PG_LIST_ORDER,
    [S_LIST_JOB] = PG_LIST_COLS "WHERE i.job_id = ?3 " PG_LIST_FILTER PG_LIST_ORDER,
    [S_CONT_LIST] = "SELECT c.id, c.is_community, c.handle, c.name, COALESCE(p.handle, ''), "
                    "(SELECT count(*) FROM item_collection ic WHERE ic.collection_id = c.id) "
                    "FROM container c LEFT JOIN container p ON p.id = c.parent_id "
                    "ORDER BY c.is_community DESC, c.handle_num NULLS FIRST, c.handle",
    [S_REL_INSERT] = "INSERT INTO relationship(type, left_item, right_item, left_place, "
                     "right_place) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
    [S_JOB_STATUS] = "UPDATE job SET status = ?2, message = COALESCE(?3, message), "
                     "ended = CASE WHEN ?4::bigint <> 0 THEN ?5::text ELSE NULL END WHERE id = ?1",
    /* ?2: a JSON array of job types.  SKIP LOCKED: a worker whose first PENDING row another
     * worker is claiming takes the next one instead of finding none when the other commits
     * (SQLite's writers take turns; PostgreSQL's re-check the row and see it claimed). */
    [S_JOB_CLAIM] =
        "UPDATE job SET status = 'INITIALIZING', started = COALESCE(started, ?1), "
        "ended = NULL, cancel_requested = 0, attempt = attempt + 1, worker = ?3::text, "
        "heartbeat = ?4::bigint WHERE id = (SELECT id FROM job "
        "WHERE status = 'PENDING' AND (?2::text IS NULL OR type IN "
        "(SELECT json_array_elements_text(?2::json))) "
        "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) AND status = 'PENDING' RETURNING id",
    [S_JOB_STALE] = "SELECT id, worker FROM job WHERE status IN ('INITIALIZING', 'RUNNING', "
                    "'FINALIZING') AND (heartbeat IS NULL OR heartbeat < ?1::bigint) ORDER BY id",
    [S_JOB_TAKE_OVER] =
        "UPDATE job SET worker = ?2::text, heartbeat = ?3::bigint WHERE id = ?1 AND status IN "
        "('INITIALIZING', 'RUNNING', 'FINALIZING') AND (heartbeat IS NULL OR "
        "heartbeat < ?4::bigint OR (?5::text IS NOT NULL AND worker = ?5::text))",
    [S_JOB_CARRY] =
        "INSERT INTO job_record(job_id, key, seq, outcome, item_id, handle, message, "
        "bitstreams, bytes) SELECT ?2::bigint, key, seq, 'skipped', item_id, handle, NULL, 0, 0 "
        "FROM job_record WHERE job_id = ?1 AND outcome IN ('imported', 'updated', 'skipped') "
        "ON CONFLICT (job_id, key) DO UPDATE SET seq = excluded.seq, "
        "outcome = excluded.outcome, item_id = excluded.item_id, handle = excluded.handle, "
        "message = excluded.message, bitstreams = excluded.bitstreams, bytes = excluded.bytes",
    [S_JOB_QUERY] =
        "SELECT id FROM job WHERE (?1::text IS NULL OR status = ?1 "
        "OR (?1 = 'running' AND status IN ('PENDING', 'INITIALIZING', 'RUNNING', 'FINALIZING')) "
        "OR (?1 = 'ended' AND status NOT IN ('PENDING', 'INITIALIZING', 'RUNNING', 'FINALIZING'))) "
        "AND (?2::text IS NULL OR category = ?2) AND (?3::text IS NULL OR eperson = ?3) "
        "AND (?4::text IS NULL OR submitted >= ?4) AND (?5::text IS NULL OR type = ?5) "
        "ORDER BY id DESC " PG_LIMIT("?6") " OFFSET ?7",
    [S_PROFILE_HISTORY] =
        "SELECT id FROM job WHERE profile = ?1 ORDER BY id DESC " PG_LIMIT("?2") " OFFSET ?3",
    [S_FETCHED_PENDING] = "SELECT id, profile, name, size, mtime, sha256, fetch_job FROM "
                          "fetched_file WHERE state = 'fetched' AND (?1::text IS NULL "
                          "OR profile = ?1) ORDER BY id",
    [S_PROFILE_ADVANCE] = "UPDATE profile SET next_run = ?3 WHERE name = ?1 "
                          "AND next_run IS NOT DISTINCT FROM ?2::bigint",
    [S_USER_ROLE_INSERT] = "INSERT INTO account_role(account_id, role) VALUES (?1, ?2) "
                           "ON CONFLICT DO NOTHING",
    /* Without a name a token is called "token ID" with the id it gets: an identity column's
     * next value is not SQLite's one past the largest id, so it is taken first. */
    [S_TOKEN_INSERT] =
        "WITH n AS (SELECT nextval(pg_get_serial_sequence('api_token', 'id')) AS id) "
        "INSERT INTO api_token(id, account_id, hash, created, name, expires) "
        "SELECT n.id, ?1::bigint, ?2::text, ?3::text, COALESCE(?4::text, 'token ' || n.id), "
        "?5::bigint FROM n RETURNING id, name",
    [S_TOKEN_TOUCH] = "UPDATE api_token SET last_used = ?2 WHERE id = ?1 "
                      "AND (last_used IS NULL OR last_used <= ?2::bigint - 60)",
    [S_TOKEN_LIST] = "SELECT t.id, a.username, t.name, t.created, t.expires, t.last_used, "
                     "t.revoked, a.disabled FROM api_token t JOIN account a ON a.id = t.account_id "
                     "WHERE ?1::text IS NULL OR a.username = ?1 ORDER BY t.id",
    [S_TRASH_PUT] = "INSERT INTO trash(uuid, handle, item_id, job_id, deleted, purge_after, "
                    "record) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (uuid) DO UPDATE "
                    "SET handle = excluded.handle, item_id = excluded.item_id, "
                    "job_id = excluded.job_id, deleted = excluded.deleted, "
                    "purge_after = excluded.purge_after, record = excluded.record",
    [S_HOLD_ADD] = "INSERT INTO asset_hold(sha256, holder) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    [S_SET_MEMBER_ADD] = "INSERT INTO item_set_member(set_id, member, seq) VALUES (?1, ?2, ?3) "
                         "ON CONFLICT DO NOTHING",
    [S_SET_MEMBERS] = "SELECT m.member, i.id, i.handle FROM item_set_member m "
                      "LEFT JOIN item i ON ?2::bigint <> 0 AND i.uuid = m.member "
                      "AND i.status <> 'template' WHERE m.set_id = ?1 ORDER BY m.seq",
    [S_SET_JOB_MEMBERS] =
        "SELECT r.seq, COALESCE(i.uuid, h.uuid, t.uuid) FROM job_record r "
        "LEFT JOIN item i ON i.id = r.item_id AND i.status <> 'template' "
        "LEFT JOIN item h ON i.id IS NULL AND h.handle = r.handle AND h.status <> 'template' "
        "LEFT JOIN trash t ON i.id IS NULL AND h.id IS NULL AND t.handle = r.handle "
        "WHERE r.job_id = ?1 AND (?2::text IS NULL OR r.outcome = ?2 OR r.outcome = ?3) "
        "ORDER BY r.seq",
    /* the search index (store_search.c, whose comments say what each column holds) */
    [S_FTS_FIELDS] =
        "INSERT INTO pg_temp.item_fts_field(id, kind, label) "
        "SELECT f.id, CASE "
        "WHEN s.prefix = 'dc' AND f.element = 'title' THEN 1 "
        "WHEN s.prefix = 'dc' AND f.element IN ('contributor', 'creator') THEN 2 "
        "WHEN s.prefix = 'esploro' AND f.element = 'asset' AND f.qualifier = 'affiliation' "
        "THEN 3 "
        "WHEN s.prefix = 'dc' AND f.element = 'identifier' AND f.qualifier = 'isbn' "
        "OR s.prefix = 'esploro' AND f.element = 'asset' AND f.qualifier = 'eisbn' THEN 4 "
        "WHEN s.prefix = 'dc' AND f.element = 'identifier' AND f.qualifier <> 'citation' "
        "OR s.prefix = 'esploro' AND f.element = 'asset' "
        "AND f.qualifier IN ('pmid', 'pmcid', 'arxiv', 'wos', 'ark', 'idpqdt') THEN 5 "
        "WHEN s.prefix = 'dc' AND f.element = 'type' THEN 6 "
        "WHEN s.prefix = 'dc' AND f.element = 'date' AND f.qualifier = 'issued' THEN 7 "
        "ELSE 0 END, CASE WHEN f.qualifier = '' THEN f.element ELSE f.qualifier END "
        "FROM metadata_field f JOIN metadata_schema s ON s.id = f.schema_id "
        "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, label = excluded.label",
    /* The values in the order SQLite's plan reads them: an item's values by seq, creators by
     * role and place, identifiers and collections by id. */
    [S_FTS_ROW] =
        "SELECT i.id, "
        "string_agg(CASE WHEN k.kind = 1 THEN v.value END, ' ' ORDER BY v.seq), "
        "trim(COALESCE((SELECT string_agg(trim(COALESCE(c.family, '') || ' ' || "
        "COALESCE(c.given, '') || ' ' || COALESCE(c.middle, '') || ' ' || "
        "COALESCE(c.display, '')), ' ' ORDER BY c.role, c.place) "
        "FROM creator c WHERE c.item_id = i.id), '') || ' ' || "
        "COALESCE(string_agg(CASE WHEN k.kind = 2 THEN v.value END, ' ' ORDER BY v.seq), '')), "
        "(SELECT string_agg(c.orcid, ' ' ORDER BY c.role, c.place) FROM creator c "
        "WHERE c.item_id = i.id), "
        "trim(COALESCE((SELECT string_agg(c.affiliation, ' ' ORDER BY c.role, c.place) "
        "FROM creator c WHERE c.item_id = i.id), '') || ' ' || "
        "COALESCE(string_agg(CASE WHEN k.kind = 3 THEN v.value END, ' ' ORDER BY v.seq), '')), "
        "trim(COALESCE((SELECT string_agg(CASE WHEN d.type ILIKE 'isbn%' ESCAPE '' "
        "THEN 'isbn ' || replace(replace(d.value, '-', ''), ' ', '') || ' ' || d.value "
        "ELSE d.type || ' ' || d.value END, ' ' ORDER BY d.id) "
        "FROM identifier d WHERE d.item_id = i.id), '') || ' ' || "
        "COALESCE(string_agg(CASE k.kind "
        "WHEN 4 THEN 'isbn ' || replace(replace(v.value, '-', ''), ' ', '') || ' ' || v.value "
        "WHEN 5 THEN k.label || ' ' || v.value END, ' ' ORDER BY v.seq), '')), "
        "string_agg(CASE WHEN k.kind = 6 THEN v.value END, ' ' ORDER BY v.seq), "
        "(SELECT string_agg(o.handle || ' ' || o.name, ' ' ORDER BY ic.collection_id) "
        "FROM item_collection ic JOIN container o ON o.id = ic.collection_id "
        "WHERE ic.item_id = i.id), "
        "i.status, "
        "trim(CASE WHEN EXISTS (SELECT 1 FROM bitstream b WHERE b.item_id = i.id "
        "AND b.bundle <> 'LICENSE') THEN 'hasfile ' ELSE '' END || "
        "CASE WHEN EXISTS (SELECT 1 FROM identifier d WHERE d.item_id = i.id AND d.type = 'doi') "
        "OR count(CASE WHEN k.kind = 5 AND k.label = 'doi' THEN 1 END) > 0 THEN 'hasdoi ' "
        "ELSE '' END || "
        "CASE WHEN EXISTS (SELECT 1 FROM link l WHERE l.item_id = i.id) THEN 'haslink' "
        "ELSE '' END), "
        "string_agg(CASE WHEN k.kind = 7 AND substr(v.value, 1, 4) ~ '^[0-9]{4}$' "
        "THEN 'y' || substr(v.value, 1, 4) END, ' ' ORDER BY v.seq), "
        "string_agg(CASE WHEN k.kind IS NULL OR k.kind IN (0, 7) THEN v.value END, ' ' "
        "ORDER BY v.seq) "
        "FROM item i "
        "LEFT JOIN metadata_value v ON v.item_id = i.id "
        "LEFT JOIN pg_temp.item_fts_field k ON k.id = v.field_id "
        "WHERE i.id BETWEEN ?1 AND ?2 AND i.status <> 'template' "
        "GROUP BY i.id",
    /* doc: the row's tsvector (schema_pg.sql, item_fts and br_fts_doc) */
    [S_FTS_PUT] = "INSERT INTO item_fts(rowid, title, creator, orcid, affiliation, ident, type, "
                  "coll, status, flags, year, body, doc) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                  "br_fts_doc(?2, ?3, ?4, ?5, ?6, ?7, ?8, ?12))",
    [S_ITEM_JOBS] =
        "SELECT j.id, j.type, j.name, max(t.outcome), j.submitted FROM ("
        "SELECT r.job_id AS job_id, r.outcome AS outcome FROM item x JOIN job_record r "
        "ON r.handle = x.handle WHERE x.id = ?1 "
        "UNION ALL SELECT i.job_id, NULL FROM item i WHERE i.id = ?1) t "
        "JOIN job j ON j.id = t.job_id GROUP BY j.id ORDER BY j.id DESC " PG_LIMIT("?2"),
    [S_DOI_PROFILE_GET] =
        "SELECT name, prefix, pattern, labels, default_label, start, agency, active, publish, "
        "api_url, repository_id, (COALESCE(password, '') <> '')::int, landing, created "
        "FROM doi_profile WHERE name = ?1",
    [S_DOI_PROFILE_LIST] =
        "SELECT name, prefix, pattern, labels, default_label, start, agency, active, publish, "
        "api_url, repository_id, (COALESCE(password, '') <> '')::int, landing, created "
        "FROM doi_profile WHERE active <> 0 OR ?1::bigint = 0 ORDER BY name",
    [S_DOI_COUNTER_PUT] = "INSERT INTO doi_counter(profile_id, label, next) "
                          "SELECT id, ?2::text, ?3::bigint FROM doi_profile WHERE name = ?1 "
                          "ON CONFLICT (profile_id, label) DO UPDATE SET next = excluded.next",
    /* lower() of ASCII letters alone, as SQLite's (identifier.value is COLLATE "C") */
    [S_DOI_TAKEN] = "SELECT 1 FROM identifier WHERE type IN ('doi', 'doi-reserved', "
                    "'doi-registered', 'doi-findable') AND lower(value) = lower(?1::text "
                    "COLLATE \"C\") LIMIT 1",
    [S_MAIL_LIST] = "SELECT id, created, kind, recipient, subject, body, message_id, state, "
                    "attempts, last_error, next_attempt, sent, COALESCE(job_id, 0), had_secret "
                    "FROM mail_outbox WHERE ?1::text IS NULL OR state = ?1 ORDER BY id",
    [S_FTP_GET] = "SELECT " PG_FTP_COLS " FROM ftp_config WHERE name = ?1",
    [S_FTP_LIST] = "SELECT " PG_FTP_COLS " FROM ftp_config ORDER BY name",
    [S_RES_ASSETS] =
        "SELECT i.id, i.handle, i.uuid, (SELECT v.value FROM metadata_value v "
        "WHERE v.item_id = i.id AND v.field_id = ?3 ORDER BY v.seq LIMIT 1), c.role, "
        "CASE WHEN c.researcher_id = ?1 THEN 'researcher-id' ELSE 'orcid' END "
        "FROM creator c JOIN item i ON i.id = c.item_id WHERE i.status <> 'template' AND "
        "(c.researcher_id = ?1 OR (?2::text IS NOT NULL AND upper(c.orcid) IN (upper(?2::text), "
        "upper('https://orcid.org/' || ?2::text), upper('http://orcid.org/' || ?2::text)))) "
        "ORDER BY i.handle_prefix NULLS FIRST, i.handle_num NULLS FIRST, i.handle NULLS FIRST, "
        "c.role <> 'creator', c.place",
    [S_ORCID_WORKS] = "SELECT r.rid, r.orcid, w.put_code, w.asset_uuid, i.handle, w.pushed "
                      "FROM orcid_work w JOIN researcher r ON r.id = w.researcher_id "
                      "LEFT JOIN item i ON i.uuid = w.asset_uuid "
                      "WHERE ?1::bigint IS NULL OR w.researcher_id = ?1 "
                      "ORDER BY r.rid, length(w.put_code), w.put_code",
    /* sum(bigint) is numeric; the claim skips a chunk another worker is claiming (S_JOB_CLAIM) */
    [S_CHUNK_COUNT] =
        "SELECT count(*), COALESCE(sum(done), 0)::bigint FROM job_chunk WHERE job_id = ?1",
    [S_CHUNK_CLAIM] =
        "UPDATE job_chunk SET worker = ?2::text, heartbeat = ?3::bigint WHERE (job_id, n) = "
        "(SELECT c.job_id, c.n FROM job_chunk c JOIN job j ON j.id = c.job_id WHERE c.done = 0 "
        "AND (c.worker IS NULL OR c.heartbeat < ?4::bigint) AND (?1::bigint = 0 OR "
        "c.job_id = ?1::bigint) AND j.status = 'RUNNING' ORDER BY c.job_id, c.n LIMIT 1 "
        "FOR UPDATE OF c SKIP LOCKED) AND done = 0 AND (worker IS NULL OR "
        "heartbeat < ?4::bigint) RETURNING job_id, n, first_seq, end_seq",
    /* Never waits: a key another writer holds is busy, and the caller retries its batch (a
     * wait could close a cycle of writers, each holding a key the next one wants). */
    [S_KEY_LOCK] = "SELECT pg_try_advisory_xact_lock(hashtextextended(?1::text, 0))::int",
};

const size_t br_pg_sql_n = S_COUNT;
