/* The export folders and the user's own settings (issue 17; docs/api.md, docs/delivery.md):
 *
 *   GET  /api/exports?folder=private|institution[&user=NAME]
 *        -> {"folder", "files": [{name, size, modified, job_id}]}
 *   GET  /api/exports/FOLDER/NAME        the file (private: the caller's own)
 *   POST /api/me/settings {"notify_jobs": bool}
 *
 * Who sees what (br_export_folder_allowed): a private folder its owner (another user's:
 * ?user=NAME, General System Administrators only), the institution folder the roles that may
 * see export jobs; anyone else 403. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "bulkrepo/delivery.h"
#include "bulkrepo/mail.h"
#include "http.h"

/* The folder and whose it is, checked: 0, or replied (1). */
static int folder_of(srv_req *r, const char *name, const char *user, br_export_folder *f,
                     const char **owner, enum MHD_Result *res)
{
    if (!name || br_export_folder_parse(name, f)) {
        *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                               "folder is private or institution, not '%.100s'", name ? name : "");
        return 1;
    }
    *owner = *f == BR_EXPORT_FOLDER_PRIVATE ? (user ? user : r->who.username) : NULL;
    if (*f == BR_EXPORT_FOLDER_INSTITUTION && user) {
        *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "user goes with folder=private");
        return 1;
    }
    if (!br_export_folder_allowed(*f, *owner, r->who.username, r->who.roles)) {
        *res = srv_reply_error(r, MHD_HTTP_FORBIDDEN,
                               *f == BR_EXPORT_FOLDER_PRIVATE
                                   ? "a private export folder is seen by its owner only"
                                   : "your roles do not allow seeing exports");
        return 1;
    }
    return 0;
}

static int add_file(void *ctx, const br_export_file *f)
{
    json_array_append_new(ctx, json_pack("{s:s,s:I,s:s,s:o}", "name", f->name, "size",
                                         (json_int_t)f->size, "modified", f->modified, "job_id",
                                         f->job_id ? json_integer(f->job_id) : json_null()));
    return 0;
}

enum MHD_Result srv_exports_list(srv_req *r, br_repo *repo)
{
    const char *name = MHD_lookup_connection_value(r->con, MHD_GET_ARGUMENT_KIND, "folder");
    const char *user = MHD_lookup_connection_value(r->con, MHD_GET_ARGUMENT_KIND, "user");
    if (user && !*user) user = NULL;
    br_export_folder f;
    const char *owner;
    enum MHD_Result res;
    if (folder_of(r, name ? name : "private", user, &f, &owner, &res)) return res;
    json_t *files = json_array();
    br_error err;
    if (br_export_folder_list(repo, f, owner, add_file, files, &err)) {
        json_decref(files);
        return srv_reply_br(r, &err);
    }
    return srv_reply_json(r, MHD_HTTP_OK,
                          json_pack("{s:s,s:o}", "folder",
                                    f == BR_EXPORT_FOLDER_PRIVATE ? "private" : "institution",
                                    "files", files));
}

/* r->handle: "FOLDER/NAME". */
enum MHD_Result srv_exports_file(srv_req *r, br_repo *repo)
{
    char folder[32];
    const char *slash = strchr(r->handle, '/');
    if (!slash || (size_t)(slash - r->handle) >= sizeof folder)
        return srv_reply_error(r, MHD_HTTP_NOT_FOUND, "no such export folder");
    memcpy(folder, r->handle, (size_t)(slash - r->handle));
    folder[slash - r->handle] = 0;
    const char *user = MHD_lookup_connection_value(r->con, MHD_GET_ARGUMENT_KIND, "user");
    if (user && !*user) user = NULL;
    br_export_folder f;
    const char *owner;
    enum MHD_Result res;
    if (folder_of(r, folder, user, &f, &owner, &res)) return res;
    int fd = -1;
    int64_t size = 0;
    br_error err;
    if (br_export_folder_open(repo, f, owner, slash + 1, &fd, &size, &err)) {
        if (err.code == BR_EUSAGE) return srv_reply_error(r, MHD_HTTP_NOT_FOUND, "%s", err.message);
        return srv_reply_br(r, &err);
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((size_t)size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    char cd[400];
    snprintf(cd, sizeof cd, "attachment; filename=\"%.300s\"", slash + 1);
    for (char *c = cd + 22; *c && c[1]; c++)
        if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20) *c = '_';
    size_t n = strlen(slash + 1);
    const char *type = n > 4 && !strcmp(slash + 1 + n - 4, ".zip")   ? "application/zip"
                       : n > 4 && !strcmp(slash + 1 + n - 4, ".csv") ? "text/csv; charset=utf-8"
                                                                     : "application/octet-stream";
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Content-Disposition", cd);
    return srv_reply(r, MHD_HTTP_OK, resp);
}

enum MHD_Result srv_me_settings(srv_req *r, br_repo *repo)
{
    json_error_t je;
    json_t *b = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(b)) {
        json_decref(b);
        return srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                               "send a JSON object: {\"notify_jobs\": true}");
    }
    json_t *v = json_object_get(b, "notify_jobs");
    const char *k;
    json_t *x;
    json_object_foreach(b, k, x)
    {
        if (strcmp(k, "notify_jobs")) {
            enum MHD_Result res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                                                  "'%.100s' is not a setting (notify_jobs)", k);
            json_decref(b);
            return res;
        }
    }
    if (!json_is_boolean(v)) {
        json_decref(b);
        return srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "notify_jobs is true or false");
    }
    int on = json_is_true(v);
    json_decref(b);
    br_error err;
    if (br_user_set_notify_jobs(repo, r->who.username, on, &err)) return srv_reply_br(r, &err);
    return srv_reply_json(r, MHD_HTTP_OK, json_pack("{s:b}", "notify_jobs", on));
}

json_t *srv_me_extra(br_repo *repo, const char *username)
{
    int on = 0;
    char mail[BR_MAIL_ADDRESS_MAX + 1] = "";
    if (repo) {
        br_user_notify_jobs(repo, username, &on, NULL);
        if (br_user_mail(repo, username, mail, sizeof mail, NULL)) mail[0] = 0;
    }
    return json_pack("{s:b,s:o}", "notify_jobs", on, "email",
                     mail[0] ? json_string(mail) : json_null());
}
