/* The fetch policy (fetch.h): which addresses an outgoing request may reach.
 * The refused ranges are a table; the allowlist is read from the repository's
 * fetch-allow.txt, the environment and the caller, for each request (a few
 * lines: no state is kept between requests, so a change to the file applies
 * to the next download). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include "core/core.h"
#include "net/fetch.h"

/* Ranges no request may reach unless allowlisted (IANA special-purpose
 * registries; RFC 6890 and successors). */
static const struct {
    const char *cidr, *what;
} SPECIAL[] = {
    {"0.0.0.0/8", "this network"},
    {"10.0.0.0/8", "private (RFC 1918)"},
    {"100.64.0.0/10", "shared address space (CGNAT)"},
    {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link-local"},
    {"172.16.0.0/12", "private (RFC 1918)"},
    {"192.0.0.0/24", "IETF protocol assignments"},
    {"192.0.2.0/24", "documentation"},
    {"192.88.99.0/24", "6to4 relay anycast"},
    {"192.168.0.0/16", "private (RFC 1918)"},
    {"198.18.0.0/15", "benchmarking"},
    {"198.51.100.0/24", "documentation"},
    {"203.0.113.0/24", "documentation"},
    {"224.0.0.0/4", "multicast"},
    {"240.0.0.0/4", "reserved"},
    {"::/96", "unspecified, loopback, IPv4-compatible"},
    {"64:ff9b:1::/48", "local-use NAT64"},
    {"100::/64", "discard-only"},
    {"2001::/23", "IETF protocol assignments (Teredo, ORCHID, ...)"},
    {"2001:db8::/32", "documentation"},
    {"fc00::/7", "unique local (ULA)"},
    {"fe80::/10", "link-local"},
    {"fec0::/10", "site-local"},
    {"ff00::/8", "multicast"},
};

/* An address range: IPv4 as IPv4-mapped IPv6, so one comparison serves both. */
typedef struct range {
    unsigned char a[16];
    unsigned prefix; /* of the 128 bits */
    unsigned port;   /* 0 = any */
} range;

typedef struct host_rule {
    char name[256]; /* lowercase; "*.x" matches names under x */
    unsigned port;  /* 0 = any */
} host_rule;

struct br_fetch_policy {
    range *ranges;
    size_t n_ranges, cap_ranges;
    host_rule *hosts;
    size_t n_hosts, cap_hosts;
};

#define ALLOW_FILE_MAX (64 * 1024)
#define ALLOW_MAX      4096

static void mapped(const unsigned char v4[4], unsigned char out[16])
{
    memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    memcpy(out + 12, v4, 4);
}

/* "a.b.c.d" or an IPv6 text (no brackets) as 16 bytes; *v4 when IPv4. */
static int parse_addr(const char *s, unsigned char out[16], int *v4)
{
    unsigned char b[16];
    if (inet_pton(AF_INET, s, b) == 1) {
        mapped(b, out);
        *v4 = 1;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out) == 1) {
        *v4 = 0;
        return 0;
    }
    return -1;
}

static int parse_cidr(const char *s, range *r)
{
    char buf[128];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n >= sizeof buf) return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    int v4;
    if (parse_addr(buf, r->a, &v4)) return -1;
    unsigned max = v4 ? 32 : 128, p = max;
    if (slash) {
        char *end;
        errno = 0;
        long v = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || errno || v < 0 || (unsigned long)v > max) return -1;
        p = (unsigned)v;
    }
    r->prefix = v4 ? p + 96 : p;
    r->port = 0;
    return 0;
}

static int in_range(const unsigned char a[16], const range *r)
{
    unsigned full = r->prefix / 8, rest = r->prefix % 8;
    if (memcmp(a, r->a, full)) return 0;
    if (!rest) return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[full] & mask) == (r->a[full] & mask);
}

/* The socket address as 16 bytes and its port; -1 for other families. */
static int sockaddr_bytes(const struct sockaddr *sa, unsigned char out[16], unsigned *port)
{
    if (!sa) return -1;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        mapped((const unsigned char *)&in->sin_addr, out);
        *port = ntohs(in->sin_port);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(out, &in6->sin6_addr, 16);
        *port = ntohs(in6->sin6_port);
        return 0;
    }
    return -1;
}

/* IPv4 carried inside IPv6 (NAT64 64:ff9b::/96, 6to4 2002::/16) as mapped. */
static int embedded_v4(const unsigned char a[16], unsigned char out[16])
{
    static const unsigned char nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    if (!memcmp(a, nat64, 12)) {
        mapped(a + 12, out);
        return 1;
    }
    if (a[0] == 0x20 && a[1] == 0x02) {
        mapped(a + 2, out);
        return 1;
    }
    return 0;
}

static int special_bytes(const unsigned char a[16])
{
    for (size_t i = 0; i < BR_ARRAY_LEN(SPECIAL); i++) {
        range r;
        if (!parse_cidr(SPECIAL[i].cidr, &r) && in_range(a, &r)) return 1;
    }
    unsigned char v4[16];
    return embedded_v4(a, v4) && special_bytes(v4);
}

int br_fetch_addr_special(const struct sockaddr *sa)
{
    unsigned char a[16];
    unsigned port;
    if (sockaddr_bytes(sa, a, &port)) return 1; /* not an internet address: refused */
    return special_bytes(a);
}

/* ---- the allowlist ------------------------------------------------------------------------ */

static int valid_host_name(const char *s)
{
    if (!*s || strlen(s) > 253) return 0;
    if (s[0] == '*' && s[1] != '.') return 0;
    for (const char *c = s[0] == '*' ? s + 1 : s; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '.' && *c != '_') return 0;
    return 1;
}

/* One entry; 0, -1 malformed, BR_ENOMEM. */
static int add_entry(br_fetch_policy *p, const char *e)
{
    if (p->n_ranges + p->n_hosts >= ALLOW_MAX) return -1;
    char buf[300];
    if (strlen(e) >= sizeof buf) return -1;
    br_strlcpy(buf, e, sizeof buf);
    unsigned port = 0;
    char *addr = buf;
    if (buf[0] == '[') { /* [v6] or [v6]:port */
        char *close = strchr(buf, ']');
        if (!close || strchr(buf, '/')) return -1;
        *close = 0;
        addr = buf + 1;
        if (close[1] == ':') {
            char *end;
            long v = strtol(close + 2, &end, 10);
            if (!close[2] || *end || v < 1 || v > 65535) return -1;
            port = (unsigned)v;
        } else if (close[1]) {
            return -1;
        }
    } else if (strchr(buf, '/') || strchr(buf, ':') != strrchr(buf, ':')) {
        /* a range, or a bare IPv6 address */
    } else if (strchr(buf, ':')) {
        char *colon = strrchr(buf, ':'), *end;
        long v = strtol(colon + 1, &end, 10);
        if (!colon[1] || *end || v < 1 || v > 65535) return -1;
        port = (unsigned)v;
        *colon = 0;
    }
    range r;
    if (!parse_cidr(addr, &r)) {
        r.port = port;
        if (br_grow((void **)&p->ranges, &p->cap_ranges, p->n_ranges + 1, sizeof r))
            return BR_ENOMEM;
        p->ranges[p->n_ranges++] = r;
        return 0;
    }
    if (addr != buf || strchr(addr, '/') || !valid_host_name(addr)) return -1;
    host_rule h = {.port = port};
    for (size_t i = 0; addr[i] && i + 1 < sizeof h.name; i++)
        h.name[i] = (char)tolower((unsigned char)addr[i]);
    if (br_grow((void **)&p->hosts, &p->cap_hosts, p->n_hosts + 1, sizeof h)) return BR_ENOMEM;
    p->hosts[p->n_hosts++] = h;
    return 0;
}

/* Entries of a text (lines, '#' comments, separated by white space or commas). */
static int add_text(br_fetch_policy *p, const char *text, const char *source, br_error *err)
{
    unsigned line = 1;
    for (const char *s = text; *s;) {
        if (*s == '#') {
            s += strcspn(s, "\n");
            continue;
        }
        if (*s == '\n') line++;
        if (isspace((unsigned char)*s) || *s == ',') {
            s++;
            continue;
        }
        size_t n = strcspn(s, " \t\r\n,#");
        char e[300];
        if (n >= sizeof e)
            return br_error_set(err, BR_EINVAL, source, line, 0,
                                "an allowlist entry is too long (%zu bytes)", n);
        memcpy(e, s, n);
        e[n] = 0;
        int rc = add_entry(p, e);
        if (rc == BR_ENOMEM) return br_error_set(err, BR_ENOMEM, source, line, 0, "out of memory");
        if (rc)
            return br_error_set(err, BR_EINVAL, source, line, 0,
                                "'%s' is not a host name, address or address range of the fetch "
                                "allowlist (at most %d entries)",
                                e, ALLOW_MAX);
        s += n;
    }
    return 0;
}

void br_fetch_policy_free(br_fetch_policy *p)
{
    if (!p) return;
    free(p->ranges);
    free(p->hosts);
    free(p);
}

int br_fetch_policy_load(const char *repo_dir, const char *extra, br_fetch_policy **out,
                         br_error *err)
{
    *out = NULL;
    br_fetch_policy *p = calloc(1, sizeof *p);
    if (!p) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    int rc = 0;
    char *text = NULL;
    if (repo_dir) {
        char path[4200];
        int n = snprintf(path, sizeof path, "%s/" BR_FETCH_ALLOW_FILE, repo_dir);
        if (n < 0 || (size_t)n >= sizeof path) {
            rc = br_error_set(err, BR_ELIMIT, repo_dir, 0, 0, "the repository path is too long");
            goto done;
        }
        FILE *f = fopen(path, "re");
        if (f) {
            text = malloc(ALLOW_FILE_MAX + 1);
            size_t got = text ? fread(text, 1, ALLOW_FILE_MAX + 1, f) : 0;
            int bad = ferror(f);
            fclose(f);
            if (!text) {
                rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
                goto done;
            }
            if (bad || got > ALLOW_FILE_MAX) {
                rc = br_error_set(err, bad ? BR_EIO : BR_ELIMIT, BR_FETCH_ALLOW_FILE, 0, 0,
                                  bad ? "cannot read the fetch allowlist"
                                      : "the fetch allowlist is larger than 64 KiB");
                goto done;
            }
            text[got] = 0;
            if ((rc = add_text(p, text, BR_FETCH_ALLOW_FILE, err))) goto done;
        } else if (errno != ENOENT) {
            rc = br_error_set(err, BR_EIO, BR_FETCH_ALLOW_FILE, 0, 0,
                              "cannot read the fetch allowlist: %s", strerror(errno));
            goto done;
        }
    }
    const char *env = getenv(BR_FETCH_ALLOW_ENV);
    if (env && (rc = add_text(p, env, BR_FETCH_ALLOW_ENV, err))) goto done;
    if (extra && (rc = add_text(p, extra, "allowlist option", err))) goto done;
    *out = p;
    p = NULL;
done:
    free(text);
    br_fetch_policy_free(p);
    return rc;
}

static int host_matches(const host_rule *h, const char *host, unsigned port)
{
    if (h->port && h->port != port) return 0;
    if (h->name[0] != '*') return !strcmp(h->name, host);
    size_t n = strlen(h->name + 1), m = strlen(host); /* ".example.org" */
    return m > n && !strcmp(host + m - n, h->name + 1);
}

int br_fetch_policy_allows(const br_fetch_guard *g, const struct sockaddr *sa)
{
    unsigned char a[16];
    unsigned port;
    if (!g || !g->policy || sockaddr_bytes(sa, a, &port)) return 0;
    if (g->host_listed) return 1;
    const br_fetch_policy *p = g->policy;
    for (size_t i = 0; i < p->n_ranges; i++)
        if (in_range(a, &p->ranges[i]) && (!p->ranges[i].port || p->ranges[i].port == port))
            return 1;
    return !special_bytes(a);
}

/* ---- libcurl callbacks ------------------------------------------------------------------- */

static curl_socket_t on_open(void *ctx, curlsocktype purpose, struct curl_sockaddr *addr)
{
    br_fetch_guard *g = ctx;
    if (purpose != CURLSOCKTYPE_IPCXN || !br_fetch_policy_allows(g, &addr->addr)) {
        g->refused = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* Again before each request is sent: the connection's address (also a
 * reused connection's). */
static int on_prereq(void *ctx, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
    (void)local_ip, (void)local_port;
    br_fetch_guard *g = ctx;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, primary_ip, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)primary_port);
    } else if (inet_pton(AF_INET6, primary_ip, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)primary_port);
    }
    if (br_fetch_policy_allows(g, (struct sockaddr *)&ss)) return CURL_PREREQFUNC_OK;
    g->refused = 1;
    return CURL_PREREQFUNC_ABORT;
}

int br_fetch_guard_url(br_fetch_guard *g, void *curl, const char *url, br_error *err)
{
    g->host[0] = 0;
    g->port = 0;
    g->host_listed = 0;
    g->refused = 0;
    CURLU *u = curl_url();
    if (!u) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = 0;
    if (curl_url_set(u, CURLUPART_URL, url, 0) || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
        (strcasecmp(scheme, "http") && strcasecmp(scheme, "https"))) {
        rc = br_error_set(err, BR_EUSAGE, url, 0, 0, "only http:// and https:// URLs are fetched");
        goto done;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT)) {
        rc = br_error_set(err, BR_EUSAGE, url, 0, 0, "the URL has no host");
        goto done;
    }
    const char *h = host;
    size_t n = strlen(h);
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') h++, n -= 2;
    if (n >= sizeof g->host) {
        rc = br_error_set(err, BR_EUSAGE, url, 0, 0, "the URL's host name is too long");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        g->host[i] = (char)tolower((unsigned char)h[i]);
    g->host[n] = 0;
    g->port = (unsigned)strtoul(port, NULL, 10);
    for (size_t i = 0; g->policy && i < g->policy->n_hosts; i++)
        if (host_matches(&g->policy->hosts[i], g->host, g->port)) g->host_listed = 1;
    CURLcode c = CURLE_OK;
#define SET(opt, val)                                                                              \
    if (c == CURLE_OK) c = curl_easy_setopt(curl, opt, val)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PROXY, "");
    SET(CURLOPT_OPENSOCKETFUNCTION, on_open);
    SET(CURLOPT_OPENSOCKETDATA, g);
    SET(CURLOPT_PREREQFUNCTION, on_prereq);
    SET(CURLOPT_PREREQDATA, g);
#undef SET
    if (c != CURLE_OK)
        rc = br_error_set(err, BR_EIO, url, 0, 0, "cannot set up the request: %s",
                          curl_easy_strerror(c));
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}
