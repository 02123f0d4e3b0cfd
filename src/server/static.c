/* The web UI's static files, compiled in from web/ (Makefile: scripts/embed_files.sh). */
#include <string.h>
#include <microhttpd.h>
#include "server.h"

static const struct {
    const char *ext, *type;
} TYPES[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
};

/* Shown until web/index.html exists. */
static const char PLACEHOLDER[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta "
    "charset=\"utf-8\"><title>bulkrepo</title></head>\n"
    "<body><h1>bulkrepo</h1><p>The server runs; the web interface is not built into this binary.\n"
    "The REST API is under <code>/api/</code> (docs/api.md).</p></body></html>\n";

static const char *content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (!strcmp(dot, TYPES[i].ext)) return TYPES[i].type;
    return "application/octet-stream";
}

void srv_security_headers(struct MHD_Response *r, int api)
{
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; frame-ancestors 'none'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    if (api) MHD_add_response_header(r, "Cache-Control", "no-store");
}

struct MHD_Response *srv_static_response(const char *path, unsigned *status)
{
    const char *name = strcmp(path, "/") ? path + 1 : "index.html";
    const br_embedded_file *f = NULL;
    /* Exact names only: the embedded table is the whole file system here, so
     * "..", "%2f" or absolute paths can never reach a file on disk. */
    for (const br_embedded_file *e = br_web_files; e->name; e++)
        if (!strcmp(e->name, name)) f = e;
    struct MHD_Response *r = NULL;
    if (f) {
        r = MHD_create_response_from_buffer(f->size, (void *)f->data, MHD_RESPMEM_PERSISTENT);
    } else if (!strcmp(name, "index.html")) {
        r = MHD_create_response_from_buffer(sizeof PLACEHOLDER - 1, (void *)PLACEHOLDER,
                                            MHD_RESPMEM_PERSISTENT);
    }
    if (!r) {
        *status = MHD_HTTP_NOT_FOUND;
        return NULL;
    }
    *status = MHD_HTTP_OK;
    MHD_add_response_header(r, "Content-Type", content_type(name));
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    srv_security_headers(r, 0);
    return r;
}
