/* The REST API's S/FTP configurations (ftp.h, docs/ftp.md): list, add or replace, test,
 * remove.  Only the roles of data/read_access.tsv's "ftp" row (General System Administrator,
 * Repository Administrator) reach them, for reading too: a configuration names servers and
 * users.  No answer ever holds a password or a key: the configuration's JSON is ftp.h's
 * br_ftp_to_json, which has only has_password and has_key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bulkrepo/ftp.h"
#include "http.h"

/* 1 when the user's roles allow the S/FTP configurations, else replied 403. */
static int allowed(srv_req *r, enum MHD_Result *res)
{
    if (br_read_allowed("ftp", r->who.roles)) return 1;
    *res = srv_reply_error(r, MHD_HTTP_FORBIDDEN,
                           "your roles do not allow the S/FTP configurations (General System "
                           "Administrator or Repository Administrator)");
    return 0;
}

static json_t *config_json(const br_ftp_config *c)
{
    char *text = NULL;
    int rc = br_ftp_to_json(c, &text, NULL);
    json_t *o = srv_json_of(rc, text);
    return o ? o : json_null();
}

static int add_one(void *ctx, const br_ftp_config *c)
{
    json_array_append_new(ctx, config_json(c));
    return 0;
}

enum MHD_Result srv_ftp_list(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    if (!allowed(r, &res)) return res;
    br_error err;
    json_t *arr = json_array();
    if (br_ftp_list(repo, add_one, arr, &err)) {
        json_decref(arr);
        return srv_reply_br(r, &err);
    }
    return srv_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "configs", arr));
}

/* The request's JSON object body ("" is {}), or NULL with a 400 replied. */
static json_t *body_object(srv_req *r, enum MHD_Result *res)
{
    if (!r->body || !r->body_len) return json_object();
    json_error_t je;
    json_t *b = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!b) {
        *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "malformed JSON at line %d, column %d: %s",
                               je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(b)) {
        json_decref(b);
        *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "send a JSON object");
        return NULL;
    }
    return b;
}

/* o[key] as a string into out: 0 (absent: out untouched, *given 0), -1 with a 400 replied. */
static int str_field(srv_req *r, json_t *o, const char *key, char *out, size_t size, int *given,
                     enum MHD_Result *res)
{
    json_t *v = json_object_get(o, key);
    if (given) *given = 0;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v) || json_string_length(v) >= size) {
        *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "%s must be a string of at most %zu bytes",
                               key, size - 1);
        return -1;
    }
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    if (given) *given = 1;
    return 0;
}

enum MHD_Result srv_ftp_add(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    if (!allowed(r, &res)) return res;
    json_t *b = body_object(r, &res);
    if (!b) return res;
    static const char KEYS[] = " name url user password private_key passive ca_file ";
    const char *k;
    json_t *v;
    json_object_foreach(b, k, v)
    {
        char probe[80];
        snprintf(probe, sizeof probe, " %s ", k);
        if (strlen(k) > 60 || !strstr(KEYS, probe)) {
            res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                                  "unknown field '%.60s' (name, url, user, password, private_key, "
                                  "passive, ca_file)",
                                  k);
            json_decref(b);
            return res;
        }
    }
    br_ftp_config c;
    memset(&c, 0, sizeof c);
    c.passive = 1;
    char *password = calloc(1, BR_FTP_SECRET_MAX + 1), *key = calloc(1, BR_FTP_KEY_MAX + 1);
    int has_pw = 0, has_key = 0;
    if (!password || !key) {
        res = srv_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        goto done;
    }
    json_t *pv = json_object_get(b, "passive");
    if (pv && !json_is_boolean(pv)) {
        res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "passive must be true or false");
        goto done;
    }
    if (pv) c.passive = json_is_true(pv);
    if (str_field(r, b, "name", c.name, sizeof c.name, NULL, &res) ||
        str_field(r, b, "url", c.url, sizeof c.url, NULL, &res) ||
        str_field(r, b, "user", c.user, sizeof c.user, NULL, &res) ||
        str_field(r, b, "ca_file", c.ca_file, sizeof c.ca_file, NULL, &res) ||
        str_field(r, b, "password", password, BR_FTP_SECRET_MAX + 1, &has_pw, &res) ||
        str_field(r, b, "private_key", key, BR_FTP_KEY_MAX + 1, &has_key, &res))
        goto done;
    if (!c.name[0] || !c.url[0] || !c.user[0]) {
        res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "give name, url and user");
        goto done;
    }
    br_error err;
    if (br_ftp_set(repo, &c, has_pw ? password : NULL, has_key ? key : NULL, &err) ||
        br_ftp_get(repo, c.name, &c, &err)) {
        res = srv_reply_br(r, &err);
        goto done;
    }
    res = srv_reply_json(r, MHD_HTTP_CREATED, config_json(&c));
done:
    /* the body held the secrets too */
    if (r->body) memset(r->body, 0, r->body_len);
    if (password) {
        memset(password, 0, BR_FTP_SECRET_MAX + 1);
        free(password);
    }
    if (key) {
        memset(key, 0, BR_FTP_KEY_MAX + 1);
        free(key);
    }
    json_decref(b);
    return res;
}

enum MHD_Result srv_ftp_test(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    if (!allowed(r, &res)) return res;
    json_t *b = body_object(r, &res);
    if (!b) return res;
    json_t *a = json_object_get(b, "accept_host_key");
    if (a && !json_is_boolean(a)) {
        json_decref(b);
        return srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "accept_host_key must be true or false");
    }
    int accept = a && json_is_true(a);
    json_decref(b);
    br_error err;
    int64_t files = 0;
    int rc = br_ftp_test(repo, r->handle, accept, &files, &err);
    if (rc == BR_ENOTFOUND || rc == BR_ESTORE || rc == BR_EUSAGE) return srv_reply_br(r, &err);
    if (rc)
        return srv_reply_json(
            r, MHD_HTTP_BAD_GATEWAY,
            json_pack("{s:b,s:s,s:s}", "ok", 0, "error", err.message, "code", br_code_name(rc)));
    return srv_reply_json(r, MHD_HTTP_OK,
                          json_pack("{s:b,s:I}", "ok", 1, "files", (json_int_t)files));
}

enum MHD_Result srv_ftp_delete(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    if (!allowed(r, &res)) return res;
    /* server.c checks X-CSRF-Token for POSTs only: a DELETE sent with the session cookie
     * proves it read the session's token here. */
    if (r->via_cookie) {
        const char *h = MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, "X-CSRF-Token");
        if (!h || !br_secret_equal(h, r->who.csrf))
            return srv_reply_error(r, MHD_HTTP_FORBIDDEN,
                                   "the X-CSRF-Token header is missing or wrong");
    }
    br_error err;
    if (br_ftp_remove(repo, r->handle, &err)) return srv_reply_br(r, &err);
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    return srv_reply(r, MHD_HTTP_NO_CONTENT, resp);
}
