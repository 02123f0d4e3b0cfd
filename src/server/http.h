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
#include "throttle.h"

/* Caps on request bodies other than uploads. */
#define SRV_JSON_MAX (64 * 1024)
/* Form fields of an upload may add this much to the file. */
#define SRV_FIELDS_MAX (1024 * 1024)
/* At most this many argon2id logins at once (64 MiB each; half the CPUs, at
 * least 1, so that other requests keep a CPU), and waiting for a slot (more:
 * 429, try again in a second). */
#define SRV_LOGINS_MAX     4
#define SRV_LOGINS_WAITING 32
#define SRV_COOKIE         "bulkrepo_session"

/* One open connection (server.c): its request head's deadline and the slots. */
typedef struct srv_conn {
    struct srv_conn *prev, *next;
    int fd;
    int phase;      /* CONN_HEAD, CONN_PUBLIC_BODY, CONN_ACTIVE */
    int unauth;     /* counted in srv.n_unauth */
    double started; /* of the phase (monotonic seconds) */
    int closing;    /* shut down by the deadline or to make room */
} srv_conn;

enum { CONN_HEAD = 0, CONN_PUBLIC_BODY, CONN_ACTIVE };

typedef struct srv_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    br_repo **idle;
    size_t n_idle, n_open, max;
} srv_pool;

struct srv {
    srv_options opt;
    char repo_dir[4096];
    /* The repository's path as given and resolved, JSON-escaped without the
     * quotes (srv_relative_paths). */
    char repo_json[2][8200];
    char url[128];
    srv_pool pool;
    br_write_gate *gate; /* shared by the pool and the engine's workers (repo.h) */
    br_engine *engine;
    struct MHD_Daemon *daemon;
    pthread_mutex_t login_mu;
    pthread_cond_t login_cv;
    unsigned logins, logins_waiting, login_slots;
    srv_throttle *throttle;
    /* Connections: every open one, those still sending their head, and
     * unauthenticated requests being served (docs/api.md "Limits"). */
    pthread_mutex_t conn_mu;
    pthread_cond_t conn_cv;
    srv_conn *conns;
    unsigned n_conns, n_head, n_unauth;
    pthread_t watchdog;
    int watchdog_started, stopping;
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
    int64_t file_seq; /* /api/items/HANDLE/files/SEQ */
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
    srv_conn *conn;    /* its connection's slot (NULL when not tracked) */
    char address[64];  /* the client's address key (throttling, audit) */
    double over_since; /* when the body passed its cap */
} srv_req;

br_repo *srv_db_get(srv *s, br_error *err);
/* As srv_db_get, waiting at most timeout_ms for a free connection (NULL and
 * BR_EIO when none came). */
br_repo *srv_db_get_timed(srv *s, unsigned timeout_ms, br_error *err);
void srv_db_put(srv *s, br_repo *repo);

/* Replies (each queues the response and returns what the handler returns). */
enum MHD_Result srv_reply(srv_req *r, unsigned status, struct MHD_Response *resp);
/* A JSON response (Content-Type set) for a reply that adds headers; takes
 * ownership of o; NULL when out of memory (srv_reply then answers MHD_NO).
 * Paths of the repository in the text become relative to it. */
struct MHD_Response *srv_json_response(srv_req *r, json_t *o);
/* The repository's absolute paths in a JSON text made relative (in place). */
void srv_relative_paths(const srv *s, char *json_text);
/* The session cookie's attributes ("; Secure" with --secure-cookies). */
const char *srv_cookie_attrs(const srv *s);
/* Takes ownership of body (malloc'd JSON text). */
enum MHD_Result srv_reply_text(srv_req *r, unsigned status, char *body);
/* Takes ownership of o. */
enum MHD_Result srv_reply_json(srv_req *r, unsigned status, json_t *o);
/* The JSON text a library call made (rc: the call's result) as a value to reply with; text is
 * freed.  NULL when the call failed or the text cannot be parsed (out of memory). */
json_t *srv_json_of(int rc, char *text);
enum MHD_Result srv_reply_error(srv_req *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Maps a library error onto an HTTP status and replies with its message. */
enum MHD_Result srv_reply_br(srv_req *r, const br_error *err);

/* The API's routes (api.c): called once the body is complete. */
enum MHD_Result srv_api_dispatch(srv_req *r);
/* Search and the record view (api_search.c): GET /api/items?q=...; the record's JSON
 * (br_record_to_json's text, taken) with its "jobs"; GET /api/items/HANDLE/files/SEQ. */
enum MHD_Result srv_api_search(srv_req *r, br_repo *repo);
enum MHD_Result srv_item_reply(srv_req *r, br_repo *repo, int64_t id, char *record_json);
enum MHD_Result srv_api_item_file(srv_req *r, br_repo *repo);
/* Route lookup: the index, or -1 (404); *allowed is the method list when the
 * path exists but not with this method (-2). */
int srv_route_find(srv_req *r, const char **allowed);
/* Whether the route takes no authentication / a multipart upload / JSON. */
int srv_route_public(int route);
int srv_route_upload(int route);
int srv_route_json(int route);

/* A job's JSON as GET /api/jobs/ID answers it, with "output", "set" and "revertible"
 * (api.c); NULL and err when it cannot be built. */
json_t *srv_job_json(srv_req *r, br_repo *repo, const br_job *j, br_error *err);
/* Adds a job type's "description", "content" and "params" to o (api_setjobs.c). */
void srv_job_type_fields(const br_job_type *t, json_t *o);

/* ---- uploads (upload.c) ---- */
/* Before the body: 403 when the query (type=, format=) or the header
 * X-Job-Type names a job type the user's roles do not allow, or when they
 * allow none; 400 for an unknown one.  0 to go on. */
unsigned srv_upload_precheck(srv_req *r, char *msg, size_t size);
/* Nonzero (the body bytes read then) once the upload was refused at its
 * file's first bytes (a role check or fields missing before the file). */
uint64_t srv_upload_refused(const srv_upload *u);
/* Starts an upload: MHD's post processor (the scratch folder is made when
 * the file's part begins and its role check passed).
 * Returns 0, or an HTTP status (400 not multipart, 500) with *msg. */
unsigned srv_upload_begin(srv_req *r, const char **msg);
/* Feeds body bytes; 0 or an HTTP status at which to stop (400 malformed). */
unsigned srv_upload_feed(srv_req *r, const char *data, size_t size);
/* Removes the scratch folder (the file, unless the job took it) and frees. */
void srv_upload_free(srv_upload *u);
/* POST /api/jobs, once the body is complete. */
enum MHD_Result srv_upload_submit(srv_req *r);

#endif
