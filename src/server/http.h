/* Internal to src/server/: one HTTP request, the database pool, replies. */
#ifndef BR_SERVER_HTTP_H
#define BR_SERVER_HTTP_H

#include <pthread.h>
#include <stdint.h>
#include <jansson.h>
#include <microhttpd.h>
#include "bulkrepo/bulkrepo.h"
#include "bulkrepo/engine.h"
#include "bulkrepo/user.h"
#include "server.h"

/* Caps on request bodies other than uploads. */
#define SRV_JSON_MAX (64 * 1024)
/* Form fields of an upload may add this much to the file. */
#define SRV_FIELDS_MAX (1024 * 1024)
/* At most this many argon2id logins at once (64 MiB each). */
#define SRV_LOGINS_MAX 4
#define SRV_COOKIE     "bulkrepo_session"

typedef struct srv_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    br_repo **idle;
    size_t n_idle, n_open, max;
} srv_pool;

struct srv {
    srv_options opt;
    char repo_dir[4096];
    char url[128];
    srv_pool pool;
    br_write_gate *gate; /* shared by the pool and the engine's workers (repo.h) */
    br_engine *engine;
    struct MHD_Daemon *daemon;
    pthread_mutex_t login_mu;
    pthread_cond_t login_cv;
    unsigned logins;
};

/* An upload of POST /api/jobs in progress (upload.c). */
typedef struct srv_upload srv_upload;

enum { BODY_NONE = 0, BODY_JSON, BODY_DISCARD, BODY_UPLOAD };

typedef struct srv_req {
    srv *s;
    struct MHD_Connection *con;
    const char *method;
    char path[1024];
    int route;        /* index into the route table */
    int64_t job_id;   /* /api/jobs/ID/... */
    char handle[256]; /* /api/items/HANDLE */
    int body_kind;
    char *body; /* BODY_JSON */
    size_t body_len;
    uint64_t body_bytes; /* every byte received */
    int body_too_big;
    srv_upload *up;
    int authed;
    int via_cookie;
    char secret[BR_SECRET_SIZE]; /* the session id or token presented */
    br_identity who;
    int replied;
} srv_req;

br_repo *srv_db_get(srv *s, br_error *err);
void srv_db_put(srv *s, br_repo *repo);

/* Replies (each queues the response and returns what the handler returns). */
enum MHD_Result srv_reply(srv_req *r, unsigned status, struct MHD_Response *resp);
/* A JSON response (Content-Type set) for a reply that adds headers; takes
 * ownership of o; NULL when out of memory (srv_reply then answers MHD_NO). */
struct MHD_Response *srv_json_response(json_t *o);
/* Takes ownership of body (malloc'd JSON text). */
enum MHD_Result srv_reply_text(srv_req *r, unsigned status, char *body);
/* Takes ownership of o. */
enum MHD_Result srv_reply_json(srv_req *r, unsigned status, json_t *o);
enum MHD_Result srv_reply_error(srv_req *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Maps a library error onto an HTTP status and replies with its message. */
enum MHD_Result srv_reply_br(srv_req *r, const br_error *err);

/* The API's routes (api.c): called once the body is complete. */
enum MHD_Result srv_api_dispatch(srv_req *r);
/* Route lookup: the index, or -1 (404); *allowed is the method list when the
 * path exists but not with this method (-2). */
int srv_route_find(srv_req *r, const char **allowed);
/* Whether the route takes no authentication / a multipart upload / JSON. */
int srv_route_public(int route);
int srv_route_upload(int route);
int srv_route_json(int route);

/* ---- uploads (upload.c) ---- */
/* Starts an upload: a scratch folder in the repository, MHD's post processor.
 * Returns 0, or an HTTP status (400 not multipart, 500) with *msg. */
unsigned srv_upload_begin(srv_req *r, const char **msg);
/* Feeds body bytes; 0 or an HTTP status at which to stop (400 malformed). */
unsigned srv_upload_feed(srv_req *r, const char *data, size_t size);
/* Removes the scratch folder (the file, unless the job took it) and frees. */
void srv_upload_free(srv_upload *u);
/* POST /api/jobs, once the body is complete. */
enum MHD_Result srv_upload_submit(srv_req *r);

#endif
