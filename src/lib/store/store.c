/* The embedded repository: connection, transactions, containers, registry,
 * groups and handles.  All SQL of the library lives in src/lib/store/. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "store_internal.h"

extern const char br_registry_tsv[];

#define DB_NAME BR_STORE_DB_NAME

static const char *const SQL[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [S_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [S_CONT_INSERT] =
        "INSERT INTO container(is_community, handle, handle_num, name, parent_id, created) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_CONT_BY_HANDLE] =
        "SELECT c.id, c.is_community, c.handle, c.name, COALESCE(p.handle, ''), "
        "(SELECT count(*) FROM item_collection ic JOIN item i ON i.id = ic.item_id "
        "  WHERE ic.collection_id = c.id AND i.status <> 'template'), c.template_item_id "
        "FROM container c LEFT JOIN container p ON p.id = c.parent_id WHERE c.handle = ?1",
    [S_CONT_ID] = "SELECT id, is_community FROM container WHERE handle = ?1",
    [S_CONT_LIST] = "SELECT c.id, c.is_community, c.handle, c.name, COALESCE(p.handle, ''), "
                    "(SELECT count(*) FROM item_collection ic WHERE ic.collection_id = c.id) "
                    "FROM container c LEFT JOIN container p ON p.id = c.parent_id "
                    "ORDER BY c.is_community DESC, c.handle_num, c.handle",
    [S_CONT_SET_TEMPLATE] = "UPDATE container SET template_item_id = ?2 WHERE id = ?1",
    [S_SCHEMA_INSERT] = "INSERT INTO metadata_schema(prefix, namespace) VALUES (?1, ?2)",
    [S_SCHEMA_BY_PREFIX] = "SELECT id FROM metadata_schema WHERE prefix = ?1",
    [S_FIELD_INSERT] = "INSERT INTO metadata_field(schema_id, element, qualifier, scope_note) "
                       "VALUES (?1, ?2, ?3, ?4)",
    [S_FIELD_ALL] =
        "SELECT f.id, s.prefix, f.element, f.qualifier, f.scope_note FROM metadata_field f "
        "JOIN metadata_schema s ON s.id = f.schema_id "
        "ORDER BY s.prefix, f.element, f.qualifier",
    [S_GROUP_INSERT] = "INSERT INTO epersongroup(name) VALUES (?1)",
    [S_GROUP_BY_NAME] = "SELECT id FROM epersongroup WHERE name = ?1",
    /* one question, not one per table: a round trip each on PostgreSQL */
    [S_HANDLE_USED] = "SELECT 1 FROM item WHERE handle = ?1 "
                      "UNION ALL SELECT 1 FROM container WHERE handle = ?1 LIMIT 1",
    [S_MAX_HANDLE_ITEM] = "SELECT max(handle_num) FROM item WHERE handle_prefix = ?1",
    [S_MAX_HANDLE_CONT] = "SELECT max(handle_num) FROM container WHERE handle LIKE ?1 || '/%'",
    [S_ITEM_INSERT] =
        "INSERT INTO item(uuid, handle, handle_prefix, handle_num, owning_collection, "
        "status, created, modified, job_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)",
    [S_ITEM_COLL_INSERT] = "INSERT OR IGNORE INTO item_collection(item_id, collection_id, place) "
                           "VALUES (?1, ?2, ?3)",
    [S_MV_INSERT] = "INSERT INTO metadata_value(item_id, field_id, language, value, place, seq) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_BS_INSERT] =
        "INSERT INTO bitstream(item_id, bundle, name, sequence, size, md5, sha256, mime, "
        "description, is_primary, read_group, write_group, iiif_label, iiif_toc, "
        "iiif_width, iiif_height, license, rights, rights_reason, rights_date, "
        "content_type, supplemental, file_order) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
        "?17, ?18, ?19, ?20, ?21, ?22, ?23)",
    [S_CREATOR_INSERT] =
        "INSERT INTO creator(item_id, role, place, is_organization, family, given, "
        "middle, suffix, display, orcid, email, affiliation, researcher_id, "
        "contrib_type, primary_id, brcode, additional) VALUES (?1, ?2, ?3, ?4, ?5, "
        "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    [S_LINK_INSERT] = "INSERT INTO link(item_id, place, url, title, description, type, license, "
                      "rights, owner, link_order, display_in_viewer) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [S_ID_INSERT] = "INSERT INTO identifier(item_id, type, value) VALUES (?1, ?2, ?3)",
    [S_ID_MIRROR] = "INSERT OR IGNORE INTO identifier(item_id, type, value) VALUES (?1, ?2, ?3)",
    [S_ITEM_DELETE] = "DELETE FROM item WHERE id = ?1",
    [S_ITEM_BY_HANDLE] = "SELECT id FROM item WHERE handle = ?1",
    [S_ITEM_BY_UUID] = "SELECT id FROM item WHERE uuid = ?1",
    [S_ITEM_GET] =
        "SELECT i.id, i.uuid, i.handle, i.status, i.created, i.modified, c.handle "
        "FROM item i LEFT JOIN container c ON c.id = i.owning_collection WHERE i.id = ?1",
    [S_ITEM_MD] =
        "SELECT s.prefix, f.element, NULLIF(f.qualifier, ''), v.language, v.value, v.place "
        "FROM metadata_value v JOIN metadata_field f ON f.id = v.field_id "
        "JOIN metadata_schema s ON s.id = f.schema_id WHERE v.item_id = ?1 ORDER BY v.seq",
    [S_ITEM_BS] =
        "SELECT name, bundle, sequence, size, md5, sha256, mime, description, is_primary, "
        "read_group, write_group, iiif_label, iiif_toc, iiif_width, iiif_height, "
        "license, rights, rights_reason, rights_date, content_type, supplemental, "
        "file_order FROM bitstream WHERE item_id = ?1 ORDER BY sequence, id",
    [S_ITEM_RELS] =
        "SELECT r.type, 1, o.handle, r.left_place FROM relationship r "
        "JOIN item o ON o.id = r.right_item WHERE r.left_item = ?1 "
        "UNION ALL SELECT r.type, 0, o.handle, r.right_place FROM relationship r "
        "JOIN item o ON o.id = r.left_item WHERE r.right_item = ?1 ORDER BY 2 DESC, 4, 1",
    [S_ITEM_COLLS] =
        "SELECT c.handle FROM item_collection ic JOIN container c ON c.id = ic.collection_id "
        "WHERE ic.item_id = ?1 ORDER BY ic.place",
    [S_ITEM_CREATORS] =
        "SELECT role, place, is_organization, family, given, middle, suffix, display, "
        "orcid, email, affiliation, researcher_id, contrib_type, primary_id, "
        "brcode, additional FROM creator "
        "WHERE item_id = ?1 ORDER BY role, place",
    [S_ITEM_LINKS] = "SELECT place, url, title, description, type, license, rights, owner, "
                     "link_order, display_in_viewer FROM link "
                     "WHERE item_id = ?1 ORDER BY place",
    [S_ITEM_IDS] = "SELECT type, value FROM identifier WHERE item_id = ?1 ORDER BY id",
    [S_ITEM_SET_STATUS] =
        "UPDATE item SET status = ?2, modified = ?3, version = version + 1 WHERE id = ?1",
    [S_ITEM_BY_VALUE] = "SELECT v.item_id FROM metadata_value v JOIN item i ON i.id = v.item_id "
                        "WHERE v.field_id = ?1 AND v.value = ?2 AND i.status <> 'template' "
                        "GROUP BY v.item_id LIMIT ?3",
    [S_ITEM_COUNT] = "SELECT count(*) FROM item WHERE status <> 'template'",
#define LIST_COLS                                                                                  \
    "SELECT i.id, i.handle, i.uuid, i.status, "                                                    \
    "(SELECT v.value FROM metadata_value v WHERE v.item_id = i.id AND v.field_id = ?1 "            \
    "  ORDER BY v.seq LIMIT 1), c.handle, i.modified FROM item i "                                 \
    "LEFT JOIN container c ON c.id = i.owning_collection "
#define LIST_FILTER "AND i.status <> 'template' AND (?2 OR i.status <> 'withdrawn') "
#define LIST_ORDER  "ORDER BY i.handle_prefix, i.handle_num, i.handle"
    [S_LIST_ALL] = LIST_COLS "WHERE 1 " LIST_FILTER LIST_ORDER,
    [S_LIST_COLL] = LIST_COLS
    "WHERE i.id IN (SELECT ic.item_id FROM item_collection ic "
    "JOIN container k ON k.id = ic.collection_id WHERE k.handle = ?3) " LIST_FILTER LIST_ORDER,
    [S_LIST_JOB] = LIST_COLS "WHERE i.job_id = ?3 " LIST_FILTER LIST_ORDER,
    [S_REL_INSERT] = "INSERT OR IGNORE INTO relationship(type, left_item, right_item, left_place, "
                     "right_place) VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_REL_MAXPLACE_L] = "SELECT COALESCE(max(left_place) + 1, 0) FROM relationship "
                         "WHERE left_item = ?1 AND type = ?2",
    [S_REL_MAXPLACE_R] = "SELECT COALESCE(max(right_place) + 1, 0) FROM relationship "
                         "WHERE right_item = ?1 AND type = ?2",
    [S_JOB_INSERT] =
        "INSERT INTO job(type, category, name, eperson, status, submitted, started, "
        "input, params, total, mapfile) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10)",
    [S_JOB_STATUS] = "UPDATE job SET status = ?2, message = COALESCE(?3, message), "
                     "ended = CASE WHEN ?4 THEN ?5 ELSE NULL END WHERE id = ?1",
    [S_JOB_TOTAL] = "UPDATE job SET total = ?2 WHERE id = ?1",
    [S_JOB_GET] = "SELECT id, type, category, name, eperson, status, submitted, started, ended, "
                  "input, params, message, total, progress_percent, progress_done, progress_total, "
                  "progress_rate, progress_eta, progress_phase, cancel_requested, failure, "
                  "rerun_of, resume, profile, attempt, parent_job FROM job WHERE id = ?1",
    [S_JOB_COUNTERS] = "SELECT outcome, n, bitstreams, bytes FROM job_tally "
                       "WHERE job_id = ?1 AND n > 0",
    [S_JOB_LIST] = "SELECT id FROM job ORDER BY id DESC",
    [S_JOB_REC_UPSERT] =
        "INSERT INTO job_record(job_id, key, seq, outcome, item_id, handle, message, "
        "bitstreams, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
        "ON CONFLICT(job_id, key) DO UPDATE SET seq = excluded.seq, "
        "outcome = excluded.outcome, item_id = excluded.item_id, "
        "handle = excluded.handle, message = excluded.message, "
        "bitstreams = excluded.bitstreams, bytes = excluded.bytes",
    /* a page of a journal after seq ?3 (br_job_records) */
    [S_JOB_RECS] = "SELECT seq, key, outcome, item_id, handle, message, bitstreams, bytes "
                   "FROM job_record WHERE job_id = ?1 AND seq > ?3 ORDER BY seq LIMIT ?4",
    [S_JOB_RECS_OUTCOME] = "SELECT seq, key, outcome, item_id, handle, message, bitstreams, bytes "
                           "FROM job_record WHERE job_id = ?1 AND outcome = ?2 AND seq > ?3 "
                           "ORDER BY seq LIMIT ?4",
    [S_JOB_BY_MAPFILE] =
        "SELECT id FROM job WHERE type = ?1 AND mapfile = ?2 ORDER BY id DESC LIMIT 1",
    [S_JOB_EVENT] =
        "INSERT INTO job_event(job_id, at, severity, module, description, status, creator) "
        "VALUES (?1, ?2, ?3, ?4, ?5, (SELECT status FROM job WHERE id = ?1), ?6)",
#define JOB_NOT_ENDED "('INITIALIZING', 'RUNNING', 'FINALIZING')"
    [S_JOB_ENQUEUE] =
        "INSERT INTO job(type, category, name, eperson, status, submitted, input, params, "
        "total, mapfile, rerun_of, resume, profile, parent_job) "
        "VALUES (?1, ?2, ?3, ?4, 'PENDING', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    /* One statement: two workers can never both move the same row out of PENDING. */
    [S_JOB_CLAIM] =
        "UPDATE job SET status = 'INITIALIZING', started = COALESCE(started, ?1), "
        "ended = NULL, cancel_requested = 0, attempt = attempt + 1, worker = ?3, heartbeat = ?4 "
        "WHERE id = (SELECT id FROM job "
        "WHERE status = 'PENDING' AND (?2 IS NULL OR type IN (SELECT value FROM json_each(?2))) "
        "ORDER BY id LIMIT 1) AND status = 'PENDING' RETURNING id",
    /* leases (store_job.c): a worker's heartbeat, the jobs whose worker stopped beating, and
     * taking one over (only while it is still stale: one taker wins) */
    [S_JOB_HEARTBEAT] =
        "UPDATE job SET heartbeat = ?2 WHERE worker = ?1 AND status IN " JOB_NOT_ENDED,
    [S_JOB_STALE] = "SELECT id, worker FROM job WHERE status IN " JOB_NOT_ENDED
                    " AND (heartbeat IS NULL OR heartbeat < ?1) ORDER BY id",
    [S_JOB_TAKE_OVER] =
        "UPDATE job SET worker = ?2, heartbeat = ?3 WHERE id = ?1 AND status IN " JOB_NOT_ENDED
        " AND (heartbeat IS NULL OR heartbeat < ?4 OR (?5 IS NOT NULL AND worker = ?5))",
    [S_JOB_PROGRESS] =
        "UPDATE job SET progress_percent = ?2, progress_done = ?3, progress_total = ?4, "
        "progress_rate = ?5, progress_eta = ?6, progress_phase = ?7 WHERE id = ?1",
    [S_JOB_FAILURE] = "UPDATE job SET status = 'FAILED', failure = ?2, "
                      "message = COALESCE(?3, message), ended = ?4 WHERE id = ?1",
    [S_JOB_INPUT] = "UPDATE job SET input = ?2 WHERE id = ?1",
    [S_JOB_REQUEUE] = "UPDATE job SET status = 'PENDING', ended = NULL, cancel_requested = 0, "
                      "failure = NULL, resume = ?2 WHERE id = ?1",
    [S_JOB_CANCEL_PENDING] =
        "UPDATE job SET status = 'USER_ABORTED', cancel_requested = 1, ended = ?2, "
        "message = 'cancelled before it started' WHERE id = ?1 AND status = 'PENDING'",
    [S_JOB_CANCEL_RUNNING] =
        "UPDATE job SET cancel_requested = 1 WHERE id = ?1 AND status IN " JOB_NOT_ENDED,
    [S_JOB_CANCEL_GET] = "SELECT cancel_requested, status FROM job WHERE id = ?1",
    [S_JOB_UNFINISHED] = "SELECT id FROM job WHERE status IN " JOB_NOT_ENDED " ORDER BY id",
    [S_JOB_CARRY] =
        "INSERT OR REPLACE INTO job_record(job_id, key, seq, outcome, item_id, handle, message, "
        "bitstreams, bytes) SELECT ?2, key, seq, 'skipped', item_id, handle, NULL, 0, 0 "
        "FROM job_record WHERE job_id = ?1 AND outcome IN ('imported', 'updated', 'skipped')",
    [S_JOB_FILE_ADD] =
        "INSERT INTO job_file(job_id, name, path, size, created, records, status, problems) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, COALESCE(?7, 'pending'), ?8)",
    [S_JOB_FILE_UPDATE] =
        "UPDATE job_file SET records = ?3, status = COALESCE(?4, status), problems = ?5 "
        "WHERE job_id = ?1 AND name = ?2",
    [S_JOB_FILES] = "SELECT name, path, size, created, records, status, problems FROM job_file "
                    "WHERE job_id = ?1 ORDER BY id",
    [S_JOB_EVENTS] = "SELECT id, job_id, at, severity, status, module, creator, description "
                     "FROM job_event WHERE job_id = ?1 ORDER BY id",
    [S_JOB_QUERY] =
        "SELECT id FROM job WHERE (?1 IS NULL OR status = ?1 "
        "OR (?1 = 'running' AND status IN ('PENDING', 'INITIALIZING', 'RUNNING', 'FINALIZING')) "
        "OR (?1 = 'ended' AND status NOT IN ('PENDING', 'INITIALIZING', 'RUNNING', 'FINALIZING'))) "
        "AND (?2 IS NULL OR category = ?2) AND (?3 IS NULL OR eperson = ?3) "
        "AND (?4 IS NULL OR submitted >= ?4) AND (?5 IS NULL OR type = ?5) "
        "ORDER BY id DESC LIMIT ?6 OFFSET ?7",
    [S_JOB_BY_INPUT] = "SELECT id, status FROM job WHERE input = ?1 ORDER BY id DESC LIMIT 1",
    [S_PROFILE_ADD] = "INSERT INTO profile(name, format, collection, inbox, eperson, created, "
                      "ftp, remote_dir, pattern, after_fetch, schedule, next_run) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
#define PROFILE_COLS                                                                               \
    "name, format, collection, inbox, eperson, created, ftp, remote_dir, "                         \
    "pattern, after_fetch, schedule, next_run"
    [S_PROFILE_GET] = "SELECT " PROFILE_COLS " FROM profile WHERE name = ?1",
    [S_PROFILE_LIST] = "SELECT " PROFILE_COLS " FROM profile ORDER BY name",
    [S_PROFILE_DEL] = "DELETE FROM profile WHERE name = ?1",
    [S_PROFILE_FTP_EXISTS] = "SELECT 1 FROM ftp_config WHERE name = ?1",
    [S_PROFILE_HISTORY] =
        "SELECT id FROM job WHERE profile = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3",
    [S_PROFILE_HISTORY_COUNT] = "SELECT count(*) FROM job WHERE profile = ?1",
    /* Compare-and-set: of two engines that saw the same due time, one advances it. */
    [S_PROFILE_ADVANCE] = "UPDATE profile SET next_run = ?3 WHERE name = ?1 AND next_run IS ?2",
    [S_PROFILE_FETCH_ACTIVE] = "SELECT id FROM job WHERE profile = ?1 AND type = 'fetch-profile' "
                               "AND status IN ('PENDING', 'INITIALIZING', 'RUNNING', "
                               "'FINALIZING') ORDER BY id LIMIT 1",
    [S_FETCHED_LOADED] =
        "SELECT COALESCE(load_job, fetch_job) FROM fetched_file WHERE profile = ?1 "
        "AND name = ?2 AND size = ?3 AND mtime = ?4 "
        "AND state IN ('fetched', 'queued', 'duplicate') ORDER BY id DESC LIMIT 1",
    [S_FETCHED_SHA] = "SELECT COALESCE(load_job, fetch_job) FROM fetched_file WHERE profile = ?1 "
                      "AND name = ?2 AND size = ?3 AND sha256 = ?4 "
                      "AND state IN ('fetched', 'queued') ORDER BY id LIMIT 1",
    [S_FETCHED_ADD] = "INSERT INTO fetched_file(profile, name, size, mtime, sha256, state, "
                      "fetch_job, load_job, fetched) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_FETCHED_SET] = "UPDATE fetched_file SET state = ?2, load_job = COALESCE(?3, load_job) "
                      "WHERE id = ?1",
    [S_FETCHED_PENDING] = "SELECT id, profile, name, size, mtime, sha256, fetch_job FROM "
                          "fetched_file WHERE state = 'fetched' AND (?1 IS NULL OR profile = ?1) "
                          "ORDER BY id",
    [S_JOB_CHILDREN] = "SELECT id FROM job WHERE parent_job = ?1 ORDER BY id",
    [S_BS_SHA_ALL] = "SELECT sha256, min(md5), min(size), count(*) FROM bitstream GROUP BY sha256 "
                     "ORDER BY sha256",
    [S_BS_HAS_SHA] = "SELECT 1 FROM bitstream WHERE sha256 = ?1 "
                     "UNION ALL SELECT 1 FROM asset_hold WHERE sha256 = ?1 LIMIT 1",
    [S_ORG_INSERT] = "INSERT INTO orgunit(code, name, parent_code) VALUES (?1, ?2, ?3)",
    [S_ORG_UPSERT] = "INSERT INTO orgunit(code, name, parent_code) VALUES (?1, ?2, ?3) "
                     "ON CONFLICT(code) DO UPDATE SET name = excluded.name, "
                     "parent_code = excluded.parent_code",
    [S_ORG_EXISTS] = "SELECT 1 FROM orgunit WHERE code = ?1",
    [S_ORG_ALL] = "SELECT code, name, parent_code FROM orgunit ORDER BY code",
    [S_ORG_BAD_PARENT] =
        "SELECT o.code, o.parent_code FROM orgunit o WHERE o.parent_code IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM orgunit p WHERE p.code = o.parent_code) "
        "ORDER BY o.code LIMIT 1",
    [S_ITEM_BY_IDENT] = "SELECT item_id FROM identifier WHERE type = ?1 AND value = ?2",
    [S_ITEM_UPDATE] = "UPDATE item SET status = COALESCE(?2, status), modified = ?3, "
                      "job_id = COALESCE(?4, job_id), version = version + 1 WHERE id = ?1",
    [S_ITEM_CLEAR_MD] = "DELETE FROM metadata_value WHERE item_id = ?1",
    [S_ITEM_CLEAR_BS] = "DELETE FROM bitstream WHERE item_id = ?1",
    [S_ITEM_CLEAR_CREATORS] = "DELETE FROM creator WHERE item_id = ?1",
    [S_ITEM_CLEAR_LINKS] = "DELETE FROM link WHERE item_id = ?1",
    [S_ITEM_CLEAR_IDS] = "DELETE FROM identifier WHERE item_id = ?1",
    [S_JOB_ITEMS_STATUS] = "SELECT r.item_id FROM job_record r JOIN item i ON i.id = r.item_id "
                           "WHERE r.job_id = ?1 AND i.status = ?2 ORDER BY r.seq LIMIT ?3",
    [S_JOB_REC_GET] = "SELECT outcome, handle FROM job_record WHERE job_id = ?1 AND key = ?2",
    [S_USER_INSERT] = "INSERT INTO account(username, password_hash, created) VALUES (?1, ?2, ?3)",
    [S_USER_GET] = "SELECT a.id, a.username, a.password_hash, a.created, "
                   "(SELECT count(*) FROM api_token t WHERE t.account_id = a.id "
                   "  AND t.revoked IS NULL AND (t.expires IS NULL OR t.expires > ?2)), "
                   "a.disabled FROM account a WHERE a.username = ?1",
    [S_USER_LIST] = "SELECT username FROM account ORDER BY username",
    [S_USER_SET_PW] = "UPDATE account SET password_hash = ?2 WHERE id = ?1",
    [S_USER_ROLES] = "SELECT role FROM account_role WHERE account_id = ?1 ORDER BY role",
    [S_USER_ROLES_CLEAR] = "DELETE FROM account_role WHERE account_id = ?1",
    [S_USER_ROLE_INSERT] = "INSERT OR IGNORE INTO account_role(account_id, role) VALUES (?1, ?2)",
    /* Without a name a token is called "token ID" (the id SQLite gives a
     * rowid table without AUTOINCREMENT: one past the largest). */
    [S_TOKEN_INSERT] = "INSERT INTO api_token(account_id, hash, created, name, expires) "
                       "VALUES (?1, ?2, ?3, COALESCE(?4, 'token ' || "
                       "(SELECT COALESCE(max(id), 0) + 1 FROM api_token)), ?5) RETURNING id, name",
    [S_TOKEN_FIND] =
        "SELECT a.id, a.username, t.id, t.expires, t.last_used FROM api_token t "
        "JOIN account a ON a.id = t.account_id WHERE t.hash = ?1 AND t.revoked IS NULL "
        "AND (t.expires IS NULL OR t.expires > ?2) AND a.disabled IS NULL",
    [S_TOKEN_TOUCH] = "UPDATE api_token SET last_used = ?2 WHERE id = ?1 "
                      "AND (last_used IS NULL OR last_used <= ?2 - 60)",
    [S_TOKEN_LIST] = "SELECT t.id, a.username, t.name, t.created, t.expires, t.last_used, "
                     "t.revoked, a.disabled FROM api_token t JOIN account a ON a.id = t.account_id "
                     "WHERE ?1 IS NULL OR a.username = ?1 ORDER BY t.id",
    [S_TOKEN_STATE] = "SELECT revoked FROM api_token WHERE id = ?1",
    [S_TOKEN_REVOKE] = "UPDATE api_token SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL",
    [S_TOKEN_REVOKE_USER] =
        "UPDATE api_token SET revoked = ?2 WHERE account_id = ?1 AND revoked IS NULL",
    [S_USER_SET_DISABLED] = "UPDATE account SET disabled = ?2 WHERE id = ?1",
    /* set jobs, the undo journal and the trash (store_setjob.c) */
    [S_JM_ADD] = "INSERT INTO job_member(job_id, seq, member, item_id) VALUES (?1, ?2, ?3, ?4)",
    [S_JM_COUNT] = "SELECT count(*) FROM job_member WHERE job_id = ?1",
    [S_JM_RANGE] = "SELECT seq, member, item_id FROM job_member WHERE job_id = ?1 AND seq >= ?2 "
                   "ORDER BY seq LIMIT ?3",
    [S_JOB_LAST_SEQ] = "SELECT coalesce(max(seq), -1) FROM job_record WHERE job_id = ?1",
    [S_UNDO_PUT] = "INSERT INTO job_undo(job_id, uuid, action, before, after) "
                   "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(job_id, uuid) DO UPDATE SET "
                   "after = excluded.after, action = CASE WHEN job_undo.action = 'created' "
                   "AND excluded.action = 'deleted' THEN 'deleted' ELSE job_undo.action END",
    [S_UNDO_PAGE] = "SELECT uuid, action, before, after FROM job_undo WHERE job_id = ?1 "
                    "AND uuid > ?2 ORDER BY uuid LIMIT ?3",
    [S_UNDO_COUNT] = "SELECT count(*) FROM job_undo WHERE job_id = ?1",
    [S_TRASH_PUT] = "INSERT OR REPLACE INTO trash(uuid, handle, item_id, job_id, deleted, "
                    "purge_after, record) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_TRASH_GET] = "SELECT uuid, handle, item_id, job_id, deleted, purge_after, record FROM trash "
                    "WHERE uuid = ?1 OR handle = ?1 LIMIT 1",
    [S_TRASH_PAGE] =
        "SELECT uuid, handle, item_id, job_id, deleted, purge_after, record FROM trash "
        "WHERE uuid > ?1 ORDER BY uuid LIMIT ?2",
    [S_TRASH_DEL] = "DELETE FROM trash WHERE uuid = ?1",
    [S_TRASH_EXPIRED] = "SELECT uuid FROM trash WHERE purge_after <= ?1 ORDER BY uuid LIMIT ?2",
    [S_HOLD_ADD] = "INSERT OR IGNORE INTO asset_hold(sha256, holder) VALUES (?1, ?2)",
    [S_HOLD_DEL] = "DELETE FROM asset_hold WHERE holder = ?1",
    [S_ITEM_VERSION] = "SELECT version FROM item WHERE id = ?1",
    [S_UNDO_EXPIRED] = "SELECT DISTINCT u.job_id FROM job_undo u JOIN job j ON j.id = u.job_id "
                       "WHERE j.ended IS NOT NULL AND j.ended < ?1 LIMIT ?2",
    [S_UNDO_DROP] = "DELETE FROM job_undo WHERE job_id = ?1",
    [S_HOLD_DEL_RANGE] = "DELETE FROM asset_hold WHERE holder >= ?1 AND holder < ?2",
    [S_SESSION_INSERT] = "INSERT INTO session(hash, account_id, csrf, created, expires) "
                         "VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_SESSION_FIND] = "SELECT a.id, a.username, s.csrf, s.expires FROM session s "
                       "JOIN account a ON a.id = s.account_id WHERE s.hash = ?1 AND s.expires > ?2 "
                       "AND a.disabled IS NULL",
    [S_SESSION_DELETE] = "DELETE FROM session WHERE hash = ?1",
    [S_SESSION_DELETE_USER] = "DELETE FROM session WHERE account_id = ?1",
    [S_SESSION_PURGE] = "DELETE FROM session WHERE expires <= ?1",
/* sets (store_set.c): an itemized set's members are counted, a logical one's are -1 */
#define SET_COLS                                                                                   \
    "SELECT s.id, s.name, s.content, COALESCE(s.query, ''), COALESCE(s.note, ''), s.created, "     \
    "COALESCE(s.creator, ''), CASE WHEN COALESCE(s.query, '') = '' THEN (SELECT count(*) "         \
    "FROM item_set_member m WHERE m.set_id = s.id) ELSE -1 END FROM item_set s "
    [S_SET_INSERT] = "INSERT INTO item_set(name, content, query, note, created, creator) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_SET_GET] = SET_COLS "WHERE s.name = ?1",
    [S_SET_LIST] = SET_COLS "ORDER BY s.name",
    [S_SET_DELETE] = "DELETE FROM item_set WHERE name = ?1",
    [S_SET_NEXT_SEQ] = "SELECT COALESCE(max(seq) + 1, 0) FROM item_set_member WHERE set_id = ?1",
    [S_SET_MEMBER_ADD] =
        "INSERT OR IGNORE INTO item_set_member(set_id, member, seq) VALUES (?1, ?2, ?3)",
    [S_SET_MEMBER_DEL] = "DELETE FROM item_set_member WHERE set_id = ?1 AND member = ?2",
    /* ?2: an asset set, whose members are item UUIDs (a vanished item: NULLs). */
    [S_SET_MEMBERS] = "SELECT m.member, i.id, i.handle FROM item_set_member m "
                      "LEFT JOIN item i ON ?2 AND i.uuid = m.member AND i.status <> 'template' "
                      "WHERE m.set_id = ?1 ORDER BY m.seq",
    [S_SET_ITEM_UUID] = "SELECT uuid FROM item WHERE id = ?1 AND status <> 'template'",
    [S_SET_USER_EXISTS] = "SELECT 1 FROM account WHERE username = ?1",
    [S_SET_JOB_EXISTS] = "SELECT 1 FROM job WHERE id = ?1",
    /* A journal line's item as a UUID: the item it names, else the item with its handle (a
     * restored one), else the trash's copy of a deleted one; NULL when none is left.
     * ?2/?3: the outcomes wanted (?2 NULL: every line). */
    [S_SET_JOB_MEMBERS] =
        "SELECT r.seq, COALESCE(i.uuid, h.uuid, t.uuid) FROM job_record r "
        "LEFT JOIN item i ON i.id = r.item_id AND i.status <> 'template' "
        "LEFT JOIN item h ON i.id IS NULL AND h.handle = r.handle AND h.status <> 'template' "
        "LEFT JOIN trash t ON i.id IS NULL AND h.id IS NULL AND t.handle = r.handle "
        "WHERE r.job_id = ?1 AND (?2 IS NULL OR r.outcome = ?2 OR r.outcome = ?3) "
        "ORDER BY r.seq",
    /* the search index (store_search.c) */
    [S_FTS_ROW] = br_fts_row_sql,
    [S_FTS_FIELDS] = br_fts_field_sql,
    [S_FTS_FIELD_COUNT] = "SELECT count(*) FROM metadata_field",
    [S_FTS_PUT] = "INSERT INTO item_fts(rowid, title, creator, orcid, affiliation, ident, type, "
                  "coll, status, flags, year, body) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [S_FTS_DELETE] = "DELETE FROM item_fts WHERE rowid BETWEEN ?1 AND ?2",
    [S_FTS_CLEAR] = "DELETE FROM item_fts",
    /* The jobs whose journal names item ?1 by its handle (a replaced item keeps its handle,
     * not its id) and the job that last wrote it, newest first, at most ?2. */
    [S_ITEM_JOBS] = "SELECT j.id, j.type, j.name, max(t.outcome), j.submitted FROM ("
                    "SELECT r.job_id AS job_id, r.outcome AS outcome FROM item x JOIN job_record r "
                    "ON r.handle = x.handle WHERE x.id = ?1 "
                    "UNION ALL SELECT i.job_id, NULL FROM item i WHERE i.id = ?1) t "
                    "JOIN job j ON j.id = t.job_id GROUP BY j.id ORDER BY j.id DESC LIMIT ?2",
    /* DOI profiles and counters (store_doi.c).  ?1 is the profile's name throughout. */
    [S_DOI_PROFILE_ADD] =
        "INSERT INTO doi_profile(name, prefix, pattern, labels, default_label, start, agency, "
        "active, publish, api_url, repository_id, password, landing, created) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [S_DOI_PROFILE_GET] =
        "SELECT name, prefix, pattern, labels, default_label, start, agency, active, publish, "
        "api_url, repository_id, COALESCE(password, '') <> '', landing, created "
        "FROM doi_profile WHERE name = ?1",
    [S_DOI_PROFILE_LIST] =
        "SELECT name, prefix, pattern, labels, default_label, start, agency, active, publish, "
        "api_url, repository_id, COALESCE(password, '') <> '', landing, created "
        "FROM doi_profile WHERE active OR NOT ?1 ORDER BY name",
    [S_DOI_PROFILE_ACTIVE] = "UPDATE doi_profile SET active = ?2 WHERE name = ?1",
    [S_DOI_PROFILE_SECRET] = "SELECT COALESCE(password, '') FROM doi_profile WHERE name = ?1",
    [S_DOI_COUNTER_GET] = "SELECT c.next FROM doi_counter c JOIN doi_profile p "
                          "ON p.id = c.profile_id WHERE p.name = ?1 AND c.label = ?2",
    [S_DOI_COUNTER_PUT] = "INSERT INTO doi_counter(profile_id, label, next) "
                          "SELECT id, ?2, ?3 FROM doi_profile WHERE name = ?1 "
                          "ON CONFLICT(profile_id, label) DO UPDATE SET next = excluded.next",
    [S_DOI_TAKEN] = "SELECT 1 FROM identifier WHERE type IN ('doi', 'doi-reserved', "
                    "'doi-registered', 'doi-findable') AND lower(value) = lower(?1) LIMIT 1",
    [S_DOI_UNIT_NAME] = "SELECT name FROM orgunit WHERE code = ?1",
    /* relations between assets (store_relation.c) */
    [S_REL_EXISTS] = "SELECT 1 FROM relationship WHERE type = ?1 AND left_item = ?2 "
                     "AND right_item = ?3",
    [S_REL_DELETE] = "DELETE FROM relationship WHERE type = ?1 AND left_item = ?2 "
                     "AND right_item = ?3",
    [S_ITEM_IDENT] = "SELECT uuid, handle FROM item WHERE id = ?1",
    [S_ITEM_TOUCH] = "UPDATE item SET version = version + 1, modified = ?2 WHERE id = ?1",
    /* the mail outbox (store_mail.c): a claim (state sending, claimed = ?2) takes a queued
     * message or one whose sender died (claimed before ?3) */
    [S_MAIL_INSERT] = "INSERT INTO mail_outbox(created, kind, recipient, subject, body, secret, "
                      "had_secret, message_id, job_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_MAIL_LIST] = "SELECT id, created, kind, recipient, subject, body, message_id, state, "
                    "attempts, last_error, next_attempt, sent, COALESCE(job_id, 0), had_secret "
                    "FROM mail_outbox WHERE ?1 IS NULL OR state = ?1 ORDER BY id",
    [S_MAIL_COUNT] = "SELECT count(*) FILTER (WHERE state IN ('queued', 'sending')), "
                     "count(*) FILTER (WHERE state = 'sent'), "
                     "count(*) FILTER (WHERE state = 'failed') FROM mail_outbox",
    [S_MAIL_DUE] = "SELECT id FROM mail_outbox WHERE id > ?4 AND ((state = 'queued' AND "
                   "next_attempt <= ?1) OR (state = 'sending' AND claimed < ?2)) "
                   "ORDER BY id LIMIT ?3",
    [S_MAIL_CLAIM] = "UPDATE mail_outbox SET state = 'sending', claimed = ?2 WHERE id = ?1 AND "
                     "(state = 'queued' OR (state = 'sending' AND claimed < ?3))",
    [S_MAIL_GET] = "SELECT created, recipient, subject, body, secret, message_id, state, attempts "
                   "FROM mail_outbox WHERE id = ?1",
    [S_MAIL_SENT] = "UPDATE mail_outbox SET state = 'sent', sent = ?2, attempts = attempts + 1, "
                    "last_error = NULL, secret = NULL, claimed = NULL WHERE id = ?1",
    [S_MAIL_RETRY] = "UPDATE mail_outbox SET state = ?2, attempts = attempts + 1, last_error = ?3, "
                     "next_attempt = ?4, claimed = NULL WHERE id = ?1",
    [S_MAIL_REQUEUE] = "UPDATE mail_outbox SET state = 'queued', next_attempt = 0 "
                       "WHERE id = ?1 AND state IN ('queued', 'failed')",
    [S_MAIL_JOB_COUNT] = "SELECT count(*) FROM mail_outbox WHERE job_id = ?1",
    /* users' account rows (store_account.c) */
    [S_ACCT_GET] = "SELECT id, username, account_type, email FROM account WHERE username = ?1",
    [S_ACCT_BY_ID] = "SELECT id, username, account_type, email FROM account WHERE id = ?1",
    [S_ACCT_SET_TYPE] = "UPDATE account SET account_type = ?2 WHERE id = ?1",
    [S_ACCT_SET_EMAIL] = "UPDATE account SET email = ?2 WHERE id = ?1",
    /* export delivery and job-end mail (issue 17) */
    [S_JOB_DELIVERY_SET] = "UPDATE job SET delivery = ?2 WHERE id = ?1",
    [S_JOB_DELIVERY_GET] = "SELECT delivery FROM job WHERE id = ?1",
    [S_MAIL_JOB_KIND_COUNT] = "SELECT count(*) FROM mail_outbox WHERE job_id = ?1 AND kind = ?2",
    [S_ACCT_NOTIFY_GET] = "SELECT notify_jobs FROM account WHERE username = ?1",
    [S_ACCT_NOTIFY_SET] = "UPDATE account SET notify_jobs = ?2 WHERE username = ?1",
    /* S/FTP configurations (store_ftp.c): the secrets are read only by S_FTP_SECRETS */
    [S_FTP_UPSERT] = "INSERT INTO ftp_config(name, url, username, password, private_key, passive, "
                     "ca_file, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) "
                     "ON CONFLICT(name) DO UPDATE SET url = ?2, username = ?3, password = ?4, "
                     "private_key = ?5, passive = ?6, ca_file = ?7, updated = ?8",
#define FTP_COLS                                                                                   \
    "name, url, username, password IS NOT NULL AND password != '', "                               \
    "private_key IS NOT NULL AND private_key != '', passive, ca_file, created, updated"
    [S_FTP_GET] = "SELECT " FTP_COLS " FROM ftp_config WHERE name = ?1",
    [S_FTP_LIST] = "SELECT " FTP_COLS " FROM ftp_config ORDER BY name",
    [S_FTP_DEL] = "DELETE FROM ftp_config WHERE name = ?1",
    [S_FTP_USED_BY] = "SELECT name FROM profile WHERE ftp = ?1 ORDER BY name LIMIT 1",
    [S_FTP_SECRETS] = "SELECT password, private_key FROM ftp_config WHERE name = ?1",
    /* chunks (store_chunk.c): ?1 job, ?2 chunk number unless named.  A claim takes the first
     * chunk not done whose worker is none or stopped beating (heartbeat < ?4) of a RUNNING job
     * (?1, or any when 0); the outer WHERE checks that again, so of two claimers one wins. */
    [S_CHUNK_ADD] = "INSERT INTO job_chunk(job_id, n, first_seq, end_seq) VALUES (?1, ?2, ?3, ?4)",
    [S_CHUNK_COUNT] = "SELECT count(*), COALESCE(sum(done), 0) FROM job_chunk WHERE job_id = ?1",
    [S_CHUNK_CLAIM] =
        "UPDATE job_chunk SET worker = ?2, heartbeat = ?3 WHERE (job_id, n) = (SELECT c.job_id, "
        "c.n "
        "FROM job_chunk c JOIN job j ON j.id = c.job_id WHERE c.done = 0 AND (c.worker IS NULL "
        "OR c.heartbeat < ?4) AND (?1 = 0 OR c.job_id = ?1) AND j.status = 'RUNNING' "
        "ORDER BY c.job_id, c.n LIMIT 1) AND done = 0 AND (worker IS NULL OR heartbeat < ?4) "
        "RETURNING job_id, n, first_seq, end_seq",
    [S_CHUNK_HOLD] = "UPDATE job_chunk SET heartbeat = ?4 WHERE job_id = ?1 AND n = ?2 "
                     "AND worker = ?3 AND done = 0",
    [S_CHUNK_DONE] = "UPDATE job_chunk SET done = 1, heartbeat = ?4 WHERE job_id = ?1 AND n = ?2 "
                     "AND worker = ?3 AND done = 0",
    [S_CHUNK_RELEASE] = "UPDATE job_chunk SET worker = NULL, heartbeat = NULL WHERE job_id = ?1 "
                        "AND n = ?2 AND worker = ?3 AND done = 0",
    [S_CHUNK_BEAT] = "UPDATE job_chunk SET heartbeat = ?2 WHERE worker = ?1 AND done = 0",
    [S_CHUNK_CLEAR] = "DELETE FROM job_chunk WHERE job_id = ?1",
    /* A key of a shared transaction (br_repo_lock_key): SQLite's writers take turns, so it is
     * always free; PostgreSQL's text tries a transaction-scoped advisory lock. */
    [S_KEY_LOCK] = "SELECT length(?1) >= 0",
    [S_CHUNK_JOURNAL] = "SELECT seq, outcome FROM job_record WHERE job_id = ?1 AND seq >= ?2 "
                        "AND seq < ?3 ORDER BY seq LIMIT ?4",
    /* researchers and their ORCID works (store_researcher.c); ?1 is the row id unless named */
    [S_RES_INSERT] = "INSERT INTO researcher(rid, family, given, middle, suffix, orcid, status, "
                     "flags, last_harvest, created, modified, version) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, 0)",
    [S_RES_UPDATE] = "UPDATE researcher SET family = ?2, given = ?3, middle = ?4, suffix = ?5, "
                     "orcid = ?6, status = ?7, flags = ?8, last_harvest = ?9, modified = ?10, "
                     "version = version + 1 WHERE id = ?1",
    [S_RES_BY_RID] = "SELECT id FROM researcher WHERE rid = ?1",
    [S_RES_BY_ORCID] = "SELECT id FROM researcher WHERE orcid = ?1",
    [S_RES_GET] = "SELECT rid, family, given, middle, suffix, orcid, status, flags, last_harvest, "
                  "created, modified, version FROM researcher WHERE id = ?1",
    [S_RES_AFFS] = "SELECT unit, start_date, end_date FROM researcher_affiliation "
                   "WHERE researcher_id = ?1 ORDER BY place",
    [S_RES_TERMS] = "SELECT kind, value FROM researcher_term WHERE researcher_id = ?1 "
                    "ORDER BY kind, place",
    [S_RES_CLEAR_AFFS] = "DELETE FROM researcher_affiliation WHERE researcher_id = ?1",
    [S_RES_CLEAR_TERMS] = "DELETE FROM researcher_term WHERE researcher_id = ?1",
    [S_RES_AFF_INSERT] = "INSERT INTO researcher_affiliation(researcher_id, place, unit, "
                         "start_date, end_date) VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_RES_TERM_INSERT] = "INSERT INTO researcher_term(researcher_id, kind, place, value) "
                          "VALUES (?1, ?2, ?3, ?4)",
    [S_RES_PAGE] = "SELECT id, rid FROM researcher WHERE rid > ?1 ORDER BY rid LIMIT ?2",
    [S_RES_COUNT] = "SELECT count(*) FROM researcher",
    /* ?1 researcher id, ?2 ORCID iD or NULL, ?3 the field id of dc.title: creators naming the
     * researcher, by item (a full scan of creator: no index slows the imports down for it) */
    [S_RES_ASSETS] =
        "SELECT i.id, i.handle, i.uuid, (SELECT v.value FROM metadata_value v "
        "WHERE v.item_id = i.id AND v.field_id = ?3 ORDER BY v.seq LIMIT 1), c.role, "
        "CASE WHEN c.researcher_id = ?1 THEN 'researcher-id' ELSE 'orcid' END "
        "FROM creator c JOIN item i ON i.id = c.item_id WHERE i.status <> 'template' AND "
        "(c.researcher_id = ?1 OR (?2 IS NOT NULL AND upper(c.orcid) IN (upper(?2), "
        "upper('https://orcid.org/' || ?2), upper('http://orcid.org/' || ?2)))) "
        "ORDER BY i.handle_prefix, i.handle_num, i.handle, c.role <> 'creator', c.place",
    [S_ORCID_WORK_ADD] = "INSERT INTO orcid_work(researcher_id, put_code, asset_uuid, pushed) "
                         "VALUES (?1, ?2, ?3, ?4)",
    [S_ORCID_WORKS] = "SELECT r.rid, r.orcid, w.put_code, w.asset_uuid, i.handle, w.pushed "
                      "FROM orcid_work w JOIN researcher r ON r.id = w.researcher_id "
                      "LEFT JOIN item i ON i.uuid = w.asset_uuid "
                      "WHERE ?1 IS NULL OR w.researcher_id = ?1 "
                      "ORDER BY r.rid, length(w.put_code), w.put_code",
    [S_ORCID_WORK_DEL] = "DELETE FROM orcid_work WHERE researcher_id = ?1 AND put_code = ?2",
};

/* Between transactions no statement may hold a read snapshot (see the backend's release):
 * every statement is finished before the next one starts; inside a transaction the snapshot
 * is the transaction's own and nothing needs resetting. */
static void release_snapshot(br_repo *repo)
{
    repo->db->be->release(repo->db);
}

/* The statement's text on this repository's backend: its own where it has one. */
static const char *stmt_sql(const br_repo *repo, stmt_id id)
{
    const br_db_backend *be = repo->db->be;
    const char *own = be->sql && (size_t)id < be->n_sql ? be->sql[id] : NULL;
    return own ? own : SQL[id];
}

br_dbst *br_stmt(br_repo *repo, stmt_id id, br_error *err)
{
    if (!repo->in_tx && !repo->iterating) release_snapshot(repo);
    br_dbst *st = repo->stmts[id];
    if (st) {
        br_db_reset(st);
        repo->db->be->clear_bindings(st);
        return st;
    }
    if (repo->db->be->prepare(repo->db, stmt_sql(repo, id), -1, 1, &st)) {
        br_store_fail(repo, err, "prepare");
        return NULL;
    }
    repo->stmts[id] = st;
    return st;
}

int br_store_code(br_repo *repo)
{
    const br_db_backend *be = repo->db->be;
    return be->lost && be->lost(repo->db) ? BR_ELOST : BR_ESTORE;
}

int br_store_fail(br_repo *repo, br_error *err, const char *what)
{
    return br_error_set(err, br_store_code(repo), repo->dir, 0, 0, "database %s failed: %s", what,
                        br_db_errmsg(repo->db));
}

int br_bind_text(br_dbst *st, int i, const char *s)
{
    return s ? st->db->be->bind_text(st, i, s, -1) : br_db_bind_null(st, i);
}

const char *br_col_text(br_dbst *st, int i)
{
    return st->db->be->column_text(st, i);
}

/* ---- field cache -------------------------------------------------------------- */

static void field_key(char *out, size_t size, const char *s, const char *e, const char *q)
{
    snprintf(out, size, "%s\x1f%s\x1f%s", s, e, q ? q : "");
}

int64_t br_field_id(br_repo *repo, const char *schema, const char *element, const char *qualifier)
{
    char key[256];
    field_key(key, sizeof key, schema, element, qualifier);
    int64_t id = 0;
    br_strmap_get(&repo->fields, key, &id);
    return id;
}

static int load_registry_cache(br_repo *repo, br_error *err)
{
    br_strmap_dispose(&repo->fields);
    for (size_t i = 0; i < repo->n_schemas; i++)
        free(repo->schemas[i]);
    free(repo->schemas);
    repo->schemas = NULL;
    repo->n_schemas = 0;
    br_dbst *st = br_stmt(repo, S_FIELD_ALL, err);
    if (!st) return BR_ESTORE;
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        char key[256];
        const char *q = br_col_text(st, 3);
        field_key(key, sizeof key, br_col_text(st, 1), br_col_text(st, 2), q && *q ? q : NULL);
        if (br_strmap_put(&repo->fields, key, br_db_col_int64(st, 0)))
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "registry read");
    br_dbst *ss;
    if (br_db_prepare(repo->db, "SELECT prefix FROM metadata_schema ORDER BY prefix", -1, &ss))
        return br_store_fail(repo, err, "prepare");
    int nomem = 0;
    while (!nomem && (rc = br_db_step(ss)) == BR_DB_ROW) {
        char **n = realloc(repo->schemas, (repo->n_schemas + 1) * sizeof *n);
        char *prefix = n ? strdup(br_col_text(ss, 0)) : NULL;
        if (n) repo->schemas = n;
        if (!prefix) {
            nomem = 1;
            break;
        }
        repo->schemas[repo->n_schemas++] = prefix;
    }
    /* The step's error is read before finalize resets it. */
    int ret = nomem              ? br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory")
              : rc == BR_DB_DONE ? 0
                                 : br_store_fail(repo, err, "schema read");
    br_db_finalize(ss);
    return ret;
}

/* ---- meta ----------------------------------------------------------------------- */

/* 0 and out filled, BR_ENOTFOUND when the key is not set, BR_ESTORE. */
int br_store_meta_get(br_repo *repo, const char *key, char *out, size_t size, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_META_GET, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, key);
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) {
        br_strlcpy(out, br_col_text(st, 0), size);
        /* A statement left on its row holds a read snapshot: the connection
         * would not see later commits of other connections. */
        br_db_reset(st);
        return 0;
    }
    if (rc == BR_DB_DONE) return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no meta key %s", key);
    return br_store_fail(repo, err, "meta read");
}

int br_store_meta_set(br_repo *repo, const char *key, const char *value, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_META_SET, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, key);
    br_bind_text(st, 2, value);
    return br_step_ahead(repo, st) == BR_DB_DONE ? 0 : br_store_fail(repo, err, "meta write");
}

/* ---- open / init ------------------------------------------------------------------ */

/* err from the connection's last failure, for a statement text run outside the table. */
static int exec_failed(br_repo *repo, br_error *err)
{
    return br_error_set(err, br_store_code(repo), repo->dir, 0, 0, "database error: %s",
                        br_db_errmsg(repo->db));
}

int br_store_exec(br_repo *repo, const char *sql, br_error *err)
{
    return br_db_exec(repo->db, sql) ? exec_failed(repo, err) : 0;
}

int br_store_connect(const char *dir, const char *create, br_repo **out, br_error *err)
{
    *out = NULL;
    br_repo *repo = calloc(1, sizeof *repo);
    if (!repo) return br_error_set(err, BR_ENOMEM, dir, 0, 0, "out of memory");
    repo->assetdir_fd = -1;
    int rc = 0;
    if (br_strlcpy(repo->dir, dir, sizeof repo->dir) >= sizeof repo->dir) {
        rc = br_error_set(err, BR_ELIMIT, dir, 0, 0, "repository path too long");
        goto done;
    }
    char where[4200];
    if (create)
        br_strlcpy(where, create, sizeof where);
    else if ((rc = br_store_locate(dir, where, sizeof where, err)))
        goto done;
    const br_db_backend *be = br_db_backend_for(where);
    if (be != &br_db_sqlite) br_store_address_shown(where, repo->store, sizeof repo->store);
    char msg[512] = "";
    if ((rc = be->open(where, create != NULL, &repo->db, msg, sizeof msg))) {
        rc = br_error_set(err, rc, dir, 0, 0,
                          create ? "cannot create the repository's database %s: %s"
                                 : "cannot open the repository's database %s: %s",
                          repo->store[0] ? repo->store : BR_STORE_DB_NAME, msg);
        goto done;
    }
    br_db_set_wait(repo->db, BR_DB_WAIT_MS);
    char path[4200];
    /* The search index's field kinds (store_search.c): this connection's own table. */
    if (br_db_exec_session(repo->db, BR_FTS_FIELD_TABLE_SQL)) {
        rc = exec_failed(repo, err);
        goto done;
    }
    br_path_join(path, sizeof path, dir, "assetstore");
    if (create && (rc = br_mkdir_p(path, err))) goto done;
    repo->assetdir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (repo->assetdir_fd < 0) {
        rc = br_error_set(err, BR_EIO, path, 0, 0, "cannot open the assetstore: %s",
                          strerror(errno));
        goto done;
    }
    /* libmagic's database is loaded on first use (br_repo_magic): most
     * connections never need it, and loading it costs tens of milliseconds. */
    *out = repo;
    repo = NULL;
done:
    br_repo_free(repo);
    return rc;
}

static int load_registry_data(br_repo *repo, br_error *err)
{
    /* data/registry.tsv: "@schema\tprefix\tnamespace" and "schema\telement\tqualifier\tnote". */
    char *copy = strdup(br_registry_tsv);
    if (!copy) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    int rc = 0;
    unsigned lineno = 0;
    for (char *line = copy, *next; line && *line; line = next) {
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : NULL;
        if (nl) *nl = 0;
        lineno++;
        if (!*line || *line == '#') continue;
        char *cols[4] = {0};
        int n = 0;
        char *p = line;
        while (n < 4) {
            cols[n++] = p;
            char *t = strchr(p, '\t');
            if (!t) break;
            *t = 0;
            p = t + 1;
        }
        if (!strcmp(cols[0], "@schema")) {
            rc = br_registry_add_schema(repo, cols[1] ? cols[1] : "", n > 2 ? cols[2] : NULL, err);
        } else if (n >= 2) {
            char field[256];
            snprintf(field, sizeof field, "%s.%s%s%s", cols[0], cols[1],
                     n > 2 && *cols[2] ? "." : "", n > 2 ? cols[2] : "");
            rc = br_registry_add(repo, field, n > 3 && *cols[3] ? cols[3] : NULL, err);
            if (rc == BR_EEXISTS) rc = 0;
        }
        if (rc) {
            br_error_locate(err, "data/registry.tsv", lineno, 0);
            break;
        }
    }
    free(copy);
    return rc;
}

int br_repo_init(const char *dir, const char *handle_prefix, br_error *err)
{
    br_init_options o = {.handle_prefix = handle_prefix};
    return br_repo_init_ext(dir, &o, err);
}

/* 1 when the database already holds a repository's tables. */
static int holds_repository(br_repo *repo)
{
    br_dbst *st = NULL;
    if (br_db_prepare(repo->db, "SELECT 1 FROM meta", -1, &st)) return 0;
    int found = br_db_step(st) == BR_DB_ROW;
    br_db_finalize(st);
    if (repo->db->be->in_transaction(repo->db)) br_db_exec(repo->db, "ROLLBACK");
    return found;
}

int br_repo_init_ext(const char *dir, const br_init_options *opts, br_error *err)
{
    const char *handle_prefix = opts ? opts->handle_prefix : NULL;
    const char *store = opts && opts->store && *opts->store ? opts->store : NULL;
    if (!handle_prefix || !*handle_prefix) handle_prefix = BR_DEFAULT_HANDLE_PREFIX;
    if (strchr(handle_prefix, '/') || strchr(handle_prefix, ' ') || strlen(handle_prefix) > 60)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "invalid handle prefix '%s'",
                            handle_prefix);
    if (store && br_db_backend_for(store) == &br_db_sqlite)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "unknown store '%.80s': give a postgresql:// address, or none for the "
                            "embedded database",
                            store);
    if (br_mkdir_p(dir, err)) return BR_EIO;
    char path[4200], conf[4200];
    br_path_join(path, sizeof path, dir, DB_NAME);
    br_path_join(conf, sizeof conf, dir, BR_STORE_CONF_NAME);
    if (!access(path, F_OK) || !access(conf, F_OK))
        return br_error_set(err, BR_EEXISTS, dir, 0, 0, "a repository already exists here");
    br_repo *repo = NULL;
    int conf_written = 0;
    int rc = br_store_connect(dir, store ? store : path, &repo, err);
    if (rc) return rc;
    if (store && holds_repository(repo)) {
        rc = br_error_set(err, BR_EEXISTS, dir, 0, 0,
                          "the database %s already holds a bulkrepo repository", repo->store);
        goto done;
    }
    br_path_join(path, sizeof path, dir, "assetstore/tmp");
    if ((rc = br_mkdir_p(path, err))) goto done;
    br_path_join(path, sizeof path, dir, "tmp");
    if ((rc = br_mkdir_p(path, err))) goto done;
    if ((rc = br_store_exec(repo, "BEGIN", err))) goto done;
    repo->in_tx = 1;
    /* The backend's full current schema: a new repository starts at the latest version, with
     * no migration run. */
    if ((rc = br_store_exec(repo, repo->db->be->schema_sql, err))) goto done;
    char version[16];
    snprintf(version, sizeof version, "%d", br_schema_latest());
    if ((rc = br_store_meta_set(repo, "schema_version", version, err))) goto done;
    if ((rc = br_store_meta_set(repo, "handle_prefix", handle_prefix, err))) goto done;
    if ((rc = load_registry_data(repo, err))) goto done;
    if ((rc = br_group_add(repo, "Anonymous", err))) goto done;
    if ((rc = br_group_add(repo, "Administrator", err))) goto done;
    /* The file that names the database last before the commit: a failure leaves neither. */
    if (store && (rc = br_store_conf_write(dir, store, err))) goto done;
    conf_written = store != NULL;
    rc = br_store_exec(repo, "COMMIT", err);
    repo->in_tx = 0;
done:
    if (rc && repo && repo->in_tx) br_store_exec(repo, "ROLLBACK", NULL);
    br_repo_free(repo);
    if (rc) {
        /* Leave no half-made repository behind. */
        if (conf_written) unlink(conf);
        br_path_join(path, sizeof path, dir, DB_NAME);
        if (!store) unlink(path);
    }
    return rc;
}

int br_repo_open(const char *dir, br_repo **out, br_error *err)
{
    return br_repo_open_ext(dir, NULL, out, err);
}

int br_repo_open_ext(const char *dir, const br_open_options *opts, br_repo **out, br_error *err)
{
    if (!out) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_repo_open: no output");
    *out = NULL;
    if (!dir) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_repo_open: no folder");
    br_repo *repo = NULL;
    int rc = br_store_connect(dir, NULL, &repo, err);
    if (rc) return rc;
    int version = 0;
    if ((rc = br_store_schema_version(repo, &version, err))) goto done;
    if (version < br_schema_latest() && opts && opts->upgrade) {
        /* The upgrade runs on a connection of its own; this one reconnects
         * after it so that nothing it cached predates the new schema. */
        br_repo_free(repo);
        repo = NULL;
        br_upgrade_report up;
        if ((rc = br_repo_upgrade(dir, 0, &up, err))) goto done;
        if (up.to != up.from && opts->on_upgrade) opts->on_upgrade(opts->ctx, &up);
        if ((rc = br_store_connect(dir, NULL, &repo, err))) goto done;
        if ((rc = br_store_schema_version(repo, &version, err))) goto done;
    }
    if (version != br_schema_latest()) {
        rc = br_store_version_refusal(dir, version, err);
        goto done;
    }
    if ((rc = br_store_meta_get(repo, "handle_prefix", repo->prefix, sizeof repo->prefix, err)))
        goto done;
    if ((rc = load_registry_cache(repo, err))) goto done;
    *out = repo;
    repo = NULL;
done:
    br_repo_free(repo);
    return rc;
}

void br_repo_free(br_repo *repo)
{
    if (!repo) return;
    for (int i = 0; i < S_COUNT; i++)
        br_db_finalize(repo->stmts[i]);
    for (int k = 0; k <= BR_MV_ROWS_MAX; k++)
        br_db_finalize(repo->mv_rows[k]);
    if (repo->db) repo->db->be->close(repo->db);
    if (repo->assetdir_fd >= 0) close(repo->assetdir_fd);
    if (repo->magic) magic_close(repo->magic);
    br_strmap_dispose(&repo->fields);
    for (size_t i = 0; i < repo->n_schemas; i++)
        free(repo->schemas[i]);
    free(repo->schemas);
    br_search_forget(repo, 1);
    br_journal_forget(repo, 1);
    free(repo);
}

magic_t br_repo_magic(br_repo *repo)
{
    if (!repo->magic && !repo->magic_failed) {
        repo->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
        if (repo->magic && magic_load(repo->magic, NULL)) {
            magic_close(repo->magic);
            repo->magic = NULL;
        }
        repo->magic_failed = !repo->magic; /* asked once: the extension table decides */
    }
    return repo->magic;
}

const char *br_repo_dir(const br_repo *repo)
{
    return repo->dir;
}

const char *br_repo_store(const br_repo *repo)
{
    return repo->store;
}

unsigned br_repo_chunk_records(const br_repo *repo)
{
    return repo ? repo->db->be->chunk_records : 0;
}

int br_repo_concurrent_writers(const br_repo *repo)
{
    return repo ? repo->db->be->concurrent_writers : 0;
}

const char *br_repo_backend(const br_repo *repo)
{
    return repo->db->be->name;
}

const char *br_repo_handle_prefix(const br_repo *repo)
{
    return repo->prefix;
}

/* ---- transactions ---------------------------------------------------------------------- */

static int step_done(br_repo *repo, stmt_id id, br_error *err, const char *what)
{
    br_dbst *st = br_stmt(repo, id, err);
    if (!st) return BR_ESTORE;
    return br_step(repo, st) == BR_DB_DONE ? 0 : br_store_fail(repo, err, what);
}

/* The gate holds no lock of its own (a waiter can never hang on it): it counts
 * the writers waiting for SQLite's write lock, and a transaction about to begin
 * lets them go first (for at most GATE_PAUSE_MS).  A bulk import thus pauses at
 * its next batch while a login or a job submission takes its turn, instead of
 * winning every race for the lock until the other's busy timeout expires. */
#define GATE_PAUSE_MS 1000

struct br_write_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int waiting; /* writers trying to take SQLite's write lock now */
};

br_write_gate *br_write_gate_new(void)
{
    br_write_gate *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    if (pthread_mutex_init(&g->mu, NULL)) goto fail;
    if (pthread_cond_init(&g->cv, NULL)) {
        pthread_mutex_destroy(&g->mu);
        goto fail;
    }
    return g;
fail:
    free(g);
    return NULL;
}

void br_write_gate_free(br_write_gate *g)
{
    if (!g) return;
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

void br_repo_set_write_gate(br_repo *repo, br_write_gate *gate)
{
    if (!repo->in_tx) repo->gate = gate;
}

static void gate_want(br_write_gate *g, int d)
{
    pthread_mutex_lock(&g->mu);
    g->waiting += d;
    if (!g->waiting) pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* Lets the writers already waiting go first (bounded: a waiter that never
 * finishes delays us by GATE_PAUSE_MS, no more). */
static void gate_yield(br_write_gate *g)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += GATE_PAUSE_MS / 1000;
    until.tv_nsec += (long)(GATE_PAUSE_MS % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&g->mu);
    while (g->waiting > 0 && pthread_cond_timedwait(&g->cv, &g->mu, &until) == 0)
        ;
    pthread_mutex_unlock(&g->mu);
}

int br_step(br_repo *repo, br_dbst *st)
{
    if (repo->in_tx || !repo->gate || repo->db->be->readonly(st)) return br_db_step(st);
    gate_want(repo->gate, 1);
    int rc = br_db_step(st);
    gate_want(repo->gate, -1);
    return rc;
}

int br_step_ahead(br_repo *repo, br_dbst *st)
{
    return repo->in_tx ? br_db_step_ahead(st) : br_step(repo, st);
}

int br_step_guarded(br_repo *repo, br_dbst *st)
{
    const br_db_backend *be = repo->db->be;
    if (!be->step_guarded || !be->in_transaction(repo->db)) return br_step(repo, st);
    return be->step_guarded(st);
}

int br_repo_begin(br_repo *repo, br_error *err)
{
    /* BEGIN IMMEDIATE on an old snapshot would fail at once with
     * SQLITE_BUSY_SNAPSHOT (the busy timeout does not retry it): br_stmt
     * releases the snapshot of any statement left on a row first. */
    if (repo->gate) {
        gate_yield(repo->gate);
        gate_want(repo->gate, 1);
    }
    int rc = step_done(repo, S_BEGIN, err, "begin");
    const char *lock = repo->db->be->write_lock_sql;
    if (!rc && lock && (rc = br_store_exec(repo, lock, err))) br_db_exec(repo->db, "ROLLBACK");
    if (repo->gate) gate_want(repo->gate, -1);
    if (!rc) {
        repo->in_tx = 1;
        repo->next_handle = 0;
    }
    return rc;
}

/* A new block of handle numbers for this connection, in a transaction of its own under the
 * write lock: the high-water mark moves past it, so no other allocation takes them. */
static int reserve_handles(br_repo *repo, int64_t n, br_error *err)
{
    int rc = br_repo_begin(repo, err);
    if (rc) return rc;
    char tmp[128];
    /* Allocating one computes the floor (the largest handle, the mark) and marks it used. */
    if ((rc = br_handle_allocate(repo, tmp, sizeof tmp, err))) goto done;
    int64_t from = repo->next_handle - 1;
    repo->next_handle = from + n;
    char mark[32];
    snprintf(mark, sizeof mark, "%lld", (long long)repo->next_handle);
    if ((rc = br_store_meta_set(repo, "handle_next", mark, err))) goto done;
    if ((rc = br_repo_commit(repo, err))) goto done;
    repo->handle_from = from;
    repo->handle_end = from + n;
done:
    if (rc) br_repo_rollback(repo);
    return rc;
}

int br_repo_begin_shared(br_repo *repo, size_t handles, br_error *err)
{
    if (!repo->db->be->concurrent_writers) return br_repo_begin(repo, err);
    int rc;
    if (repo->handle_end - repo->handle_from < (int64_t)handles &&
        (rc = reserve_handles(repo, (int64_t)handles, err)))
        return rc;
    if ((rc = step_done(repo, S_BEGIN, err, "begin"))) return rc;
    repo->in_tx = 1;
    repo->shared_tx = 1;
    repo->next_handle = 0;
    return 0;
}

int br_repo_lock_key(br_repo *repo, const char *key, br_error *err)
{
    if (!repo->shared_tx) return 1; /* the write lock serializes every writer already */
    br_dbst *st = br_stmt(repo, S_KEY_LOCK, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, key);
    if (br_step(repo, st) != BR_DB_ROW) return br_store_fail(repo, err, "key lock");
    int got = br_db_col_int64(st, 0) != 0;
    br_db_reset(st);
    return got;
}

int br_repo_commit(br_repo *repo, br_error *err)
{
    /* The journal lines a shared transaction kept: last, so that its writers hold the job's
     * counters (job_tally's rows) only from here to the COMMIT. */
    int rc = repo->shared_tx ? br_journal_flush(repo, err) : 0;
    if (rc) return rc;
    /* The search index's rows of the items written (store_search.c), in this transaction. */
    rc = br_search_flush(repo, err);
    if (rc) return rc;
    /* Files first: a committed bitstream row must never name a file that a
     * crash could still lose.  One syncfs per batch instead of one fsync per
     * file, and none when the transaction stored no file (an export's journal
     * would otherwise flush every file the export wrote). */
    if (repo->assets_dirty && repo->assetdir_fd >= 0 && syncfs(repo->assetdir_fd))
        return br_error_set(err, BR_EIO, repo->dir, 0, 0, "cannot flush the assetstore: %s",
                            strerror(errno));
    repo->assets_dirty = 0;
    /* A lookup left on its row (br_collection_resolve stops at its first)
     * keeps a read transaction open past COMMIT, and SQLite's automatic WAL
     * checkpoint then fails (SQLITE_LOCKED) after every commit: an import of
     * 200,000 assets grew the WAL to 1.5 GB and the database file not at all.
     * Finished statements let each commit checkpoint (br_stmt does not
     * release them inside a transaction). */
    if (!repo->iterating) release_snapshot(repo);
    rc = step_done(repo, S_COMMIT, err, "commit");
    if (!rc) repo->in_tx = repo->shared_tx = 0;
    return rc;
}

int br_repo_settle(br_repo *repo, br_error *err)
{
    if (!repo) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_repo_settle: no repository");
    /* no place: the caller names the record */
    if (br_db_settle(repo->db))
        return br_error_set(err, br_store_code(repo), NULL, 0, 0, "database write failed: %s",
                            br_db_errmsg(repo->db));
    return 0;
}

void br_repo_rollback(br_repo *repo)
{
    br_search_forget(repo, 0);
    br_journal_forget(repo, 0);
    if (!repo->in_tx) return;
    br_dbst *st = br_stmt(repo, S_ROLLBACK, NULL);
    if (st) br_step(repo, st);
    repo->in_tx = repo->shared_tx = 0;
    repo->next_handle = 0;
}

void br_repo_reset(br_repo *repo)
{
    release_snapshot(repo);
    br_repo_rollback(repo);
    /* A transaction begun outside br_repo_begin (none should be) ends too. */
    if (repo->db->be->in_transaction(repo->db)) br_db_exec(repo->db, "ROLLBACK");
}

int br_repo_mktemp(br_repo *repo, const char *tag, char *out, size_t size, br_error *err)
{
    char base[4200];
    int rc = br_path_join(base, sizeof base, repo->dir, "tmp");
    if (rc) return br_error_set(err, rc, repo->dir, 0, 0, "path too long");
    if ((rc = br_mkdir_p(base, err))) return rc;
    int n = snprintf(out, size, "%s/%s-%ld-XXXXXX", base, tag ? tag : "work", (long)getpid());
    if (n < 0 || (size_t)n >= size)
        return br_error_set(err, BR_ELIMIT, base, 0, 0, "path too long");
    if (!mkdtemp(out))
        return br_error_set(err, BR_EIO, base, 0, 0, "cannot create a scratch folder: %s",
                            strerror(errno));
    return 0;
}

/* ---- handles ------------------------------------------------------------------------------ */

void br_handle_split(const char *handle, char *prefix, size_t size, int64_t *num)
{
    *num = -1;
    prefix[0] = 0;
    if (!handle) return;
    const char *slash = strchr(handle, '/');
    if (!slash) return;
    size_t n = (size_t)(slash - handle);
    if (n >= size) n = size - 1;
    memcpy(prefix, handle, n);
    prefix[n] = 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(slash + 1, &end, 10);
    if (!errno && end && !*end && slash[1] >= '0' && slash[1] <= '9') *num = v;
}

/* The highest handle number in use, 0 for none, -1 when the database failed
 * (err filled). */
static int64_t max_num(br_repo *repo, stmt_id id, br_error *err)
{
    br_dbst *st = br_stmt(repo, id, err);
    if (!st) return -1;
    br_bind_text(st, 1, repo->prefix);
    if (br_step(repo, st) != BR_DB_ROW) {
        br_store_fail(repo, err, "handle allocation");
        return -1;
    }
    return br_db_col_null(st, 0) ? 0 : br_db_col_int64(st, 0);
}

static int save_handle_mark(br_repo *repo, br_error *err)
{
    char mark[32];
    snprintf(mark, sizeof mark, "%lld", (long long)repo->next_handle);
    return br_store_meta_set(repo, "handle_next", mark, err);
}

/* Handles are never reused, even after a delete: the high-water mark is kept
 * in meta.handle_next, written in the transaction that uses it. */
int br_handle_allocate(br_repo *repo, char *out, size_t size, br_error *err)
{
    if (repo->shared_tx) { /* the connection's reserved block: no lookup, no mark to write */
        if (repo->handle_from >= repo->handle_end)
            return br_error_set(err, BR_EINTERNAL, NULL, 0, 0,
                                "no handle is left in this transaction's reserved block");
        int n = snprintf(out, size, "%s/%lld", repo->prefix, (long long)repo->handle_from);
        if (n < 0 || (size_t)n >= size)
            return br_error_set(err, BR_ELIMIT, NULL, 0, 0, "no room for a handle");
        repo->handle_from++;
        return 0;
    }
    if (!repo->next_handle) {
        int64_t a = max_num(repo, S_MAX_HANDLE_ITEM, err), b = a < 0 ? -1 : 0;
        if (a < 0 || (b = max_num(repo, S_MAX_HANDLE_CONT, err)) < 0) return BR_ESTORE;
        int64_t next = (a > b ? a : b) + 1;
        /* The high-water mark: a failed read must not pass for "no mark", or
         * a handle of a deleted item would be given again. */
        char mark[32];
        int rc = br_store_meta_get(repo, "handle_next", mark, sizeof mark, err);
        if (rc && rc != BR_ENOTFOUND) return rc;
        if (!rc) {
            int64_t m = strtoll(mark, NULL, 10);
            if (m > next) next = m;
        }
        repo->next_handle = next;
    }
    for (;;) {
        int n = snprintf(out, size, "%s/%lld", repo->prefix, (long long)repo->next_handle);
        if (n < 0 || (size_t)n >= size)
            return br_error_set(err, BR_ELIMIT, NULL, 0, 0, "no room for a handle");
        int used = br_handle_exists(repo, out);
        if (used < 0) return br_store_fail(repo, err, "handle lookup");
        repo->next_handle++;
        if (!used) break;
    }
    return save_handle_mark(repo, err);
}

int br_handle_next(br_repo *repo, char *out, size_t size, br_error *err)
{
    if (!repo->in_tx)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "handles are allocated inside a transaction");
    return br_handle_allocate(repo, out, size, err);
}

int br_handle_note_used(br_repo *repo, const char *handle, br_error *err)
{
    char prefix[64];
    int64_t num;
    br_handle_split(handle, prefix, sizeof prefix, &num);
    if (repo->next_handle && num >= repo->next_handle && !strcmp(prefix, repo->prefix)) {
        int64_t was = repo->next_handle;
        repo->next_handle = num + 1;
        int rc = save_handle_mark(repo, err);
        if (rc) repo->next_handle = was;
        return rc;
    }
    return 0;
}

int br_handle_exists(br_repo *repo, const char *handle)
{
    if (!handle) return BR_EUSAGE;
    br_dbst *st = br_stmt(repo, S_HANDLE_USED, NULL);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, handle);
    int rc = br_step(repo, st);
    br_db_reset(st); /* no read snapshot kept past the answer */
    if (rc == BR_DB_ROW) return 1;
    return rc == BR_DB_DONE ? 0 : BR_ESTORE;
}

/* ---- containers --------------------------------------------------------------------------- */

static void read_container(br_dbst *st, br_container *c)
{
    memset(c, 0, sizeof *c);
    c->id = br_db_col_int64(st, 0);
    c->is_community = br_db_col_int(st, 1);
    br_strlcpy(c->handle, br_col_text(st, 2), sizeof c->handle);
    br_strlcpy(c->name, br_col_text(st, 3), sizeof c->name);
    br_strlcpy(c->parent, br_col_text(st, 4), sizeof c->parent);
    c->n_items = br_db_col_int64(st, 5);
}

int br_container_get(br_repo *repo, const char *handle, br_container *out, br_error *err)
{
    if (!handle || !out)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_container_get: missing argument");
    br_dbst *st = br_stmt(repo, S_CONT_BY_HANDLE, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, handle);
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) {
        read_container(st, out);
        br_db_reset(st);
        return 0;
    }
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0,
                            "no community or collection has handle %s", handle);
    return br_store_fail(repo, err, "container lookup");
}

int br_container_create(br_repo *repo, int is_community, const char *name, const char *parent,
                        br_container *out, br_error *err)
{
    if (!name || !*name) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "a name is required");
    int64_t parent_id = 0;
    br_container p;
    if (parent && *parent) {
        int rc = br_container_get(repo, parent, &p, err);
        if (rc) return rc;
        if (!p.is_community)
            return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                                "%s is a collection; only a community can hold others", parent);
        parent_id = p.id;
    }
    int rc = br_repo_begin(repo, err);
    if (rc) return rc;
    char handle[64], now[32];
    int64_t num;
    char prefix[64];
    if ((rc = br_handle_allocate(repo, handle, sizeof handle, err))) goto done;
    br_handle_split(handle, prefix, sizeof prefix, &num);
    br_now_iso(now);
    br_dbst *st = br_stmt(repo, S_CONT_INSERT, err);
    if (!st) {
        rc = BR_ESTORE;
        goto done;
    }
    br_db_bind_int64(st, 1, is_community ? 1 : 0);
    br_bind_text(st, 2, handle);
    br_db_bind_int64(st, 3, num);
    br_bind_text(st, 4, name);
    if (parent_id)
        br_db_bind_int64(st, 5, parent_id);
    else
        br_db_bind_null(st, 5);
    br_bind_text(st, 6, now);
    if (br_step(repo, st) != BR_DB_DONE) {
        rc = br_store_fail(repo, err, "insert container");
        goto done;
    }
    /* Read back before the commit: a failure after it would report an error
     * for a container that was made. */
    if (out && (rc = br_container_get(repo, handle, out, err))) goto done;
    rc = br_repo_commit(repo, err);
done:
    if (rc) br_repo_rollback(repo);
    return rc;
}

int br_container_list(br_repo *repo, br_container_fn fn, void *ctx, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_CONT_LIST, err);
    if (!st) return BR_ESTORE;
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        br_container c;
        read_container(st, &c);
        if (BR_YIELD(repo, fn(ctx, &c))) return 0;
    }
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "container list");
}

/* ---- registry ------------------------------------------------------------------------------- */

int br_registry_add_schema(br_repo *repo, const char *prefix, const char *ns, br_error *err)
{
    if (!prefix || !*prefix || strchr(prefix, '.') || strchr(prefix, ' '))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "invalid schema prefix '%s'",
                            prefix ? prefix : "");
    /* Memory first: the cache must not miss a schema the database has. */
    char **n = realloc(repo->schemas, (repo->n_schemas + 1) * sizeof *n);
    if (n) repo->schemas = n;
    char *copy = n ? strdup(prefix) : NULL;
    if (!copy) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_dbst *st = br_stmt(repo, S_SCHEMA_INSERT, err);
    int rc = BR_DB_ERROR;
    if (st) {
        br_bind_text(st, 1, prefix);
        br_bind_text(st, 2, ns);
        rc = br_step_guarded(repo, st);
    }
    if (rc != BR_DB_DONE) {
        free(copy);
        if (!st) return BR_ESTORE;
        if (rc == BR_DB_UNIQUE)
            return br_error_set(err, BR_EEXISTS, NULL, 0, 0, "schema %s already exists", prefix);
        return br_store_fail(repo, err, "insert schema");
    }
    repo->schemas[repo->n_schemas++] = copy;
    return 0;
}

int br_registry_add(br_repo *repo, const char *field, const char *note, br_error *err)
{
    char s[64], e[64], q[64];
    if (br_field_parse(field, s, e, q))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "'%s' is not a field name (expected schema.element[.qualifier])",
                            field);
    br_dbst *st = br_stmt(repo, S_SCHEMA_BY_PREFIX, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, s);
    int rc = br_step(repo, st);
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "schema '%s' is not in the registry", s);
    if (rc != BR_DB_ROW) return br_store_fail(repo, err, "schema lookup");
    int64_t schema_id = br_db_col_int64(st, 0);
    st = br_stmt(repo, S_FIELD_INSERT, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, schema_id);
    br_bind_text(st, 2, e);
    br_bind_text(st, 3, q);
    br_bind_text(st, 4, note);
    rc = br_step_guarded(repo, st);
    if (rc == BR_DB_UNIQUE)
        return br_error_set(err, BR_EEXISTS, NULL, 0, 0, "%s is already in the registry", field);
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "insert field");
    char key[256];
    field_key(key, sizeof key, s, e, *q ? q : NULL);
    if (br_strmap_put(&repo->fields, key, br_db_last_id(repo->db)))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    return 0;
}

int br_registry_has(br_repo *repo, const char *schema, const char *element, const char *qualifier)
{
    if (!schema || !element) return 0;
    return br_field_id(repo, schema, element, qualifier) != 0;
}

int br_registry_has_schema(br_repo *repo, const char *schema)
{
    if (!schema) return 0;
    for (size_t i = 0; i < repo->n_schemas; i++)
        if (!strcmp(repo->schemas[i], schema)) return 1;
    return 0;
}

int br_registry_suggest(br_repo *repo, const char *schema, const char *element,
                        const char *qualifier, char *out, size_t size)
{
    if (!out || !size) return BR_EUSAGE;
    out[0] = 0;
    if (!schema || !element) return BR_EUSAGE;
    char want[200];
    snprintf(want, sizeof want, "%s.%s%s%s", schema, element, qualifier ? "." : "",
             qualifier ? qualifier : "");
    unsigned best = 1000;
    for (size_t i = 0; i < repo->fields.cap; i++) {
        const char *k = repo->fields.keys[i];
        if (!k) continue;
        char name[256];
        br_strlcpy(name, k, sizeof name);
        for (char *p = name; *p; p++)
            if (*p == '\x1f') *p = '.';
        size_t n = strlen(name);
        if (n && name[n - 1] == '.') name[n - 1] = 0;
        unsigned d = br_levenshtein(want, name);
        if (d < best || (d == best && strcmp(name, out) < 0)) {
            best = d;
            br_strlcpy(out, name, size);
        }
    }
    /* Only suggest what is plausibly a typo. */
    if (best > 3 || best * 3 > strlen(want)) {
        out[0] = 0;
        return BR_ENOTFOUND;
    }
    return 0;
}

int br_registry_list(br_repo *repo, br_field_fn fn, void *ctx, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_FIELD_ALL, err);
    if (!st) return BR_ESTORE;
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        const char *q = br_col_text(st, 3);
        br_field f = {br_col_text(st, 1), br_col_text(st, 2), q && *q ? q : NULL,
                      br_col_text(st, 4)};
        if (BR_YIELD(repo, fn(ctx, &f))) return 0;
    }
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "registry list");
}

/* ---- groups -------------------------------------------------------------------------------- */

int br_group_add(br_repo *repo, const char *name, br_error *err)
{
    if (!name || !*name)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "a group name is required");
    br_dbst *st = br_stmt(repo, S_GROUP_INSERT, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, name);
    int rc = br_step_guarded(repo, st);
    if (rc == BR_DB_UNIQUE)
        return br_error_set(err, BR_EEXISTS, NULL, 0, 0, "group '%s' already exists", name);
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "insert group");
}

int br_group_exists(br_repo *repo, const char *name)
{
    if (!name) return BR_EUSAGE;
    br_dbst *st = br_stmt(repo, S_GROUP_BY_NAME, NULL);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, name);
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) {
        br_db_reset(st);
        return 1;
    }
    return rc == BR_DB_DONE ? 0 : BR_ESTORE;
}
