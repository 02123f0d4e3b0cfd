/* File transfer with S/FTP servers through libcurl (net/remote.h).
 *
 * One easy handle per br_remote, reset between operations so that its connection is reused
 * (a pull lists and then downloads several files over one login).  Credentials are given with
 * CURLOPT_USERNAME/PASSWORD, never in a URL, and messages name the configuration, the host and
 * the path only.  An SFTP private key exists in clear only as a mode-0600 file in <repo>/tmp
 * for the duration of one operation (libssh2 reads keys from files).
 *
 * ftps:// is FTP with explicit TLS: the URL given to curl is ftp:// with CURLUSESSL_ALL, so
 * the control and the data connections are both encrypted or nothing is sent.  SFTP host keys
 * are checked by our CURLOPT_SSH_KEYFUNCTION against <repo>/known_hosts, read by libssh2:
 * a match passes, a changed key is refused naming the line, a missing one is refused unless
 * br_remote_accept_new_host_key, then appended here. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <sodium.h>
#include "bulkrepo/ftp.h"
#include "core/core.h"
#include "net/remote.h"
#include "store/store_ftp.h"

enum { P_FTP, P_FTPS, P_SFTP };
enum { HK_NONE, HK_UNKNOWN, HK_CHANGED, HK_ADD_FAILED };

struct br_remote {
    br_repo *repo;
    CURL *h;
    int proto;
    char name[64];
    char hostport[300]; /* as in the URL: host, [v6] or host:port */
    char host[256];     /* without port or brackets, for known_hosts */
    int port;
    char base[512]; /* the root folder from the URL: "/" or "/a/b/" */
    char user[256];
    char *password; /* "" none; wiped by br_remote_free */
    char *key;      /* PEM, "" none */
    int passive;
    char ca_file[1024];
    int accept_new;
    char known_hosts[4200];
    char keyfile[4200]; /* the private key's temporary file during an operation, "" none */
    /* the host key check of the last operation */
    int hk;
    char hk_type[64], hk_fp[80];
    unsigned hk_line;
    char errbuf[CURL_ERROR_SIZE];
};

/* ---- path rules ------------------------------------------------------------------------- */

static int segment_check(const char *s, size_t n, br_error *err)
{
    if (n == 0 || n > BR_REMOTE_NAME_MAX)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "remote name '%.*s': 1 to %d bytes (an empty segment, or '//', or a "
                            "'/' at either end is not allowed)",
                            (int)(n > 64 ? 64 : n), s, BR_REMOTE_NAME_MAX);
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "remote name '%.*s': '.' and '..' would leave the folder", (int)n, s);
    /* ProFTPD and Pure-FTPd expand "~" and "~user" in CWD, RNFR and DELE: out of the root. */
    if (s[0] == '~')
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "remote name '%.*s': a leading '~' names a home folder outside the "
                            "configured one",
                            (int)(n > 64 ? 64 : n), s);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                "remote name: a control character (0x%02x) at byte %zu", c, i + 1);
        if (c == '\\')
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "remote name '%.*s': no '\\'",
                                (int)(n > 64 ? 64 : n), s);
    }
    size_t bad = 0;
    if (br_utf8_check(s, n, &bad))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "remote name: not UTF-8 at byte %zu",
                            bad + 1);
    return 0;
}

int br_remote_path_check(const char *rel, br_error *err)
{
    if (!rel) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no remote path");
    size_t n = strlen(rel);
    if (n == 0) return 0;
    if (n > BR_REMOTE_PATH_MAX)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "remote path: at most %d bytes",
                            BR_REMOTE_PATH_MAX);
    if (rel[0] == '/')
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "remote path '%s': give it relative to the configuration's folder "
                            "(no leading '/')",
                            rel);
    const char *p = rel;
    for (;;) {
        size_t k = strcspn(p, "/");
        int rc = segment_check(p, k, err);
        if (rc) return rc;
        if (!p[k]) break;
        p += k + 1;
    }
    return 0;
}

int br_remote_name_check(const char *name, br_error *err)
{
    if (!name) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no remote name");
    if (strchr(name, '/'))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "remote name '%s': no '/'", name);
    return segment_check(name, strlen(name), err);
}

/* ---- opening ---------------------------------------------------------------------------- */

static void wipe_free(char *s)
{
    if (!s) return;
    sodium_memzero(s, strlen(s));
    free(s);
}

void br_remote_free(br_remote *r)
{
    if (!r) return;
    if (r->h) curl_easy_cleanup(r->h);
    if (r->keyfile[0]) unlink(r->keyfile); /* an operation that returned before its end */
    wipe_free(r->password);
    wipe_free(r->key);
    sodium_memzero(r, sizeof *r);
    free(r);
}

void br_remote_accept_new_host_key(br_remote *r, int yes)
{
    if (r) r->accept_new = yes != 0;
}

int br_remote_open(br_repo *repo, const char *name, br_remote **out, br_error *err)
{
    *out = NULL;
    br_remote *r = calloc(1, sizeof *r);
    if (!r) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_ftp_config c;
    int rc = br_ftp_open_secrets(repo, name, &c, &r->password, &r->key, err);
    if (rc) goto done;
    r->repo = repo;
    br_strlcpy(r->name, c.name, sizeof r->name);
    br_strlcpy(r->user, c.user, sizeof r->user);
    br_strlcpy(r->ca_file, c.ca_file, sizeof r->ca_file);
    r->passive = c.passive;
    const char *sep = strstr(c.url, "://");
    if (!sep) {
        rc = br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "configuration '%s': bad URL", name);
        goto done;
    }
    size_t sl = (size_t)(sep - c.url);
    r->proto = sl == 3 ? P_FTP : !strncmp(c.url, "ftps", 4) ? P_FTPS : P_SFTP;
    const char *a = sep + 3;
    size_t al = strcspn(a, "/");
    snprintf(r->hostport, sizeof r->hostport, "%.*s", (int)al, a);
    r->port = r->proto == P_SFTP ? 22 : 21;
    const char *colon = NULL;
    if (a[0] == '[') {
        const char *close = memchr(a, ']', al);
        snprintf(r->host, sizeof r->host, "%.*s", close ? (int)(close - a - 1) : 0, a + 1);
        if (close && close + 1 < a + al && close[1] == ':') colon = close + 1;
    } else {
        colon = memchr(a, ':', al);
        snprintf(r->host, sizeof r->host, "%.*s", colon ? (int)(colon - a) : (int)al, a);
    }
    if (colon) r->port = atoi(colon + 1);
    snprintf(r->base, sizeof r->base, "%s", a[al] ? a + al : "/");
    size_t bl = strlen(r->base);
    if (bl + 1 < sizeof r->base && r->base[bl - 1] != '/') {
        r->base[bl] = '/';
        r->base[bl + 1] = 0;
    }
    if (br_path_join(r->known_hosts, sizeof r->known_hosts, br_repo_dir(repo), "known_hosts")) {
        rc = br_error_set(err, BR_ELIMIT, NULL, 0, 0, "repository path too long");
        goto done;
    }
    r->h = curl_easy_init();
    if (!r->h) rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "libcurl could not start");
done:
    if (rc) {
        br_remote_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* ---- URLs ------------------------------------------------------------------------------- */

/* Appends the %-escaped segments of path (keeping its '/') to out. */
static int append_escaped(br_remote *r, char *out, size_t size, const char *path)
{
    size_t len = strlen(out);
    for (const char *p = path; *p;) {
        if (*p == '/') {
            if (len + 1 >= size) return -1;
            out[len++] = '/';
            out[len] = 0;
            p++;
            continue;
        }
        size_t k = strcspn(p, "/");
        char *e = curl_easy_escape(r->h, p, (int)k);
        if (!e) return -1;
        size_t el = strlen(e);
        if (len + el >= size) {
            curl_free(e);
            return -1;
        }
        memcpy(out + len, e, el + 1);
        len += el;
        curl_free(e);
        p += k;
    }
    return 0;
}

/* The URL of rel (relative to the root; a trailing '/' names a folder). */
static int make_url(br_remote *r, const char *rel, char *out, size_t size, br_error *err)
{
    snprintf(out, size, "%s://%s", r->proto == P_SFTP ? "sftp" : "ftp", r->hostport);
    if (append_escaped(r, out, size, r->base) || append_escaped(r, out, size, rel))
        return br_error_set(err, BR_ELIMIT, NULL, 0, 0, "remote path too long");
    return 0;
}

/* The path of rel as SFTP quote commands take it: absolute from the URL's folder ("/~/" is the
 * login's home: relative), in double quotes with '"' escaped. */
static int sftp_quoted(br_remote *r, const char *rel, char *out, size_t size)
{
    char path[BR_REMOTE_PATH_MAX + 600];
    const char *b = r->base;
    if (!strncmp(b, "/~/", 3)) b += 3;
    snprintf(path, sizeof path, "%s%s", b, rel);
    size_t len = 0;
    if (size < 3) return -1;
    out[len++] = '"';
    for (const char *p = path; *p; p++) {
        if (len + 3 >= size) return -1;
        if (*p == '"' || *p == '\\') out[len++] = '\\';
        out[len++] = *p;
    }
    out[len++] = '"';
    out[len] = 0;
    return 0;
}

/* ---- host keys -------------------------------------------------------------------------- */

static void host_token(br_remote *r, char *out, size_t size)
{
    if (r->port == 22)
        snprintf(out, size, "%s", r->host);
    else
        snprintf(out, size, "[%s]:%d", r->host, r->port);
}

/* The 1-based line of known_hosts naming the host, 0 when none is found (hashed entries). */
static unsigned known_line(br_remote *r)
{
    char tok[300], line[16384];
    host_token(r, tok, sizeof tok);
    FILE *f = fopen(r->known_hosts, "r");
    if (!f) return 0;
    unsigned n = 0, found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        n++;
        char *sp = strpbrk(line, " \t");
        if (!sp || line[0] == '#') continue;
        *sp = 0;
        for (char *h = line; h && !found;) {
            char *comma = strchr(h, ',');
            if (comma) *comma = 0;
            if (!strcmp(h, tok)) found = n;
            h = comma ? comma + 1 : NULL;
        }
    }
    fclose(f);
    return found;
}

/* The key type name from an SSH public key blob (string type, ...), or "". */
static void blob_type(const unsigned char *b, size_t n, char *out, size_t size)
{
    out[0] = 0;
    if (n < 4) return;
    size_t k = ((size_t)b[0] << 24) | ((size_t)b[1] << 16) | ((size_t)b[2] << 8) | b[3];
    if (k == 0 || k + 4 > n || k >= size) return;
    memcpy(out, b + 4, k);
    out[k] = 0;
    for (size_t i = 0; i < k; i++)
        if (out[i] <= 0x20 || out[i] >= 0x7f) {
            out[0] = 0;
            return;
        }
}

static int keyfn(CURL *easy, const struct curl_khkey *knownkey, const struct curl_khkey *foundkey,
                 enum curl_khmatch match, void *clientp)
{
    (void)easy;
    (void)knownkey;
    br_remote *r = clientp;
    const unsigned char *raw = (const unsigned char *)foundkey->key;
    size_t rawlen = foundkey->len;
    unsigned char dec[8192];
    if (rawlen == 0) { /* base64 form */
        size_t dl = 0;
        if (sodium_base642bin(dec, sizeof dec, foundkey->key, strlen(foundkey->key), NULL, &dl,
                              NULL, sodium_base64_VARIANT_ORIGINAL))
            return CURLKHSTAT_REJECT;
        raw = dec;
        rawlen = dl;
    }
    blob_type(raw, rawlen, r->hk_type, sizeof r->hk_type);
    unsigned char md[32];
    unsigned mdlen = 0;
    EVP_Digest(raw, rawlen, md, &mdlen, EVP_sha256(), NULL);
    char fp[64];
    sodium_bin2base64(fp, sizeof fp, md, mdlen, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    snprintf(r->hk_fp, sizeof r->hk_fp, "SHA256:%s", fp);
    if (match == CURLKHMATCH_OK) return CURLKHSTAT_FINE;
    if (match == CURLKHMATCH_MISMATCH) {
        r->hk = HK_CHANGED;
        r->hk_line = known_line(r);
        return CURLKHSTAT_REJECT;
    }
    if (!r->accept_new || !r->hk_type[0]) {
        r->hk = HK_UNKNOWN;
        return CURLKHSTAT_REJECT;
    }
    /* Recorded in OpenSSH's form: "[host]:port type base64". */
    size_t b64n = sodium_base64_ENCODED_LEN(rawlen, sodium_base64_VARIANT_ORIGINAL);
    char *line = malloc(b64n + 400);
    if (!line) {
        r->hk = HK_ADD_FAILED;
        return CURLKHSTAT_REJECT;
    }
    char tok[300];
    host_token(r, tok, sizeof tok);
    int k = snprintf(line, b64n + 400, "%s %s ", tok, r->hk_type);
    sodium_bin2base64(line + k, b64n, raw, rawlen, sodium_base64_VARIANT_ORIGINAL);
    size_t len = strlen(line);
    line[len++] = '\n';
    int fd = open(r->known_hosts, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    int ok = fd >= 0 && br_write_all(fd, line, len) == 0;
    if (fd >= 0 && close(fd)) ok = 0;
    free(line);
    if (!ok) {
        r->hk = HK_ADD_FAILED;
        return CURLKHSTAT_REJECT;
    }
    return CURLKHSTAT_FINE;
}

/* ---- one operation ---------------------------------------------------------------------- */

/* Writes the private key into a mode-0600 file in <repo>/tmp for this operation. */
static int key_file_make(br_remote *r, br_error *err)
{
    r->keyfile[0] = 0;
    if (r->proto != P_SFTP || !r->key[0]) return 0;
    char dir[4200];
    if (br_path_join(dir, sizeof dir, br_repo_dir(r->repo), "tmp") ||
        /* "<tag>-<pid>-XXXXXX": a file left by a killed process is removed at the next start
         * (br_repo_clean_stale), never kept in clear. */
        snprintf(r->keyfile, sizeof r->keyfile, "%s/sshkey-%ld-XXXXXX", dir, (long)getpid()) >=
            (int)sizeof r->keyfile) {
        r->keyfile[0] = 0;
        return br_error_set(err, BR_ELIMIT, NULL, 0, 0, "repository path too long");
    }
    mkdir(dir, 0700);
    int fd = mkostemp(r->keyfile, O_CLOEXEC); /* mode 0600 */
    if (fd < 0) {
        int e = errno;
        r->keyfile[0] = 0;
        return br_error_set(err, BR_EIO, dir, 0, 0, "cannot write the private key for SFTP: %s",
                            strerror(e));
    }
    fchmod(fd, 0600);
    size_t n = strlen(r->key);
    int bad = br_write_all(fd, r->key, n) || (r->key[n - 1] != '\n' && br_write_all(fd, "\n", 1));
    if (close(fd)) bad = 1;
    if (bad) {
        unlink(r->keyfile);
        r->keyfile[0] = 0;
        return br_error_set(err, BR_EIO, dir, 0, 0, "cannot write the private key for SFTP");
    }
    return 0;
}

static void key_file_drop(br_remote *r)
{
    if (r->keyfile[0]) unlink(r->keyfile);
    r->keyfile[0] = 0;
}

/* Nothing of an answer is printed: NOBODY requests hand curl's own header lines (size,
 * date) to the write function, whose default writes to stdout. */
static size_t discard(char *data, size_t size, size_t nmemb, void *userp)
{
    (void)data;
    (void)userp;
    return size * nmemb;
}

/* Resets the handle for an operation on url with the configuration's options. */
static int setup(br_remote *r, const char *url, br_error *err)
{
    CURL *h = r->h;
    curl_easy_reset(h);
    r->hk = HK_NONE;
    r->errbuf[0] = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "ftp,sftp");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)BR_REMOTE_CONNECT_MS);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)BR_REMOTE_STALL_S);
    curl_easy_setopt(h, CURLOPT_USERNAME, r->user);
    if (r->password[0]) curl_easy_setopt(h, CURLOPT_PASSWORD, r->password);
    if (r->proto == P_SFTP) {
        long auth = 0;
        if (r->key[0]) {
            int rc = key_file_make(r, err);
            if (rc) return rc;
            curl_easy_setopt(h, CURLOPT_SSH_PRIVATE_KEYFILE, r->keyfile);
            curl_easy_setopt(h, CURLOPT_SSH_PUBLIC_KEYFILE, ""); /* derived from the private */
            auth |= CURLSSH_AUTH_PUBLICKEY;
        }
        if (r->password[0]) auth |= CURLSSH_AUTH_PASSWORD | CURLSSH_AUTH_KEYBOARD;
        curl_easy_setopt(h, CURLOPT_SSH_AUTH_TYPES, auth);
        curl_easy_setopt(h, CURLOPT_SSH_KNOWNHOSTS, r->known_hosts);
        curl_easy_setopt(h, CURLOPT_SSH_KEYFUNCTION, keyfn);
        curl_easy_setopt(h, CURLOPT_SSH_KEYDATA, r);
    } else {
        if (!r->passive) curl_easy_setopt(h, CURLOPT_FTPPORT, "-");
        if (r->proto == P_FTPS) {
            curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
            if (r->ca_file[0]) curl_easy_setopt(h, CURLOPT_CAINFO, r->ca_file);
        }
    }
    return 0;
}

/* Maps a libcurl failure of `what` on rel to a br_code and a message naming the configuration
 * and the host (never a URL or a secret). */
static int fail(br_remote *r, CURLcode cc, const char *what, const char *rel, br_error *err)
{
    char tok[300];
    host_token(r, tok, sizeof tok);
    const char *hp = r->hostport;
    const char *detail = r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc);
    if (r->hk == HK_UNKNOWN)
        return br_error_set(err, BR_EDENIED, NULL, 0, 0,
                            "S/FTP configuration '%s': unknown host key of %s (%s %s); if it is "
                            "the server's, accept it with `bulkrepo ftp test %s --accept-host-key`",
                            r->name, tok, r->hk_type, r->hk_fp, r->name);
    if (r->hk == HK_CHANGED) {
        if (r->hk_line)
            return br_error_set(err, BR_EDENIED, NULL, 0, 0,
                                "S/FTP configuration '%s': the host key of %s CHANGED (it now "
                                "offers %s %s, %s line %u has another key); nothing was sent. "
                                "If the change is expected, remove line %u and run `bulkrepo ftp "
                                "test %s --accept-host-key`",
                                r->name, tok, r->hk_type, r->hk_fp, r->known_hosts, r->hk_line,
                                r->hk_line, r->name);
        return br_error_set(err, BR_EDENIED, NULL, 0, 0,
                            "S/FTP configuration '%s': the host key of %s CHANGED (it now offers "
                            "%s %s, %s has another key for it); nothing was sent",
                            r->name, tok, r->hk_type, r->hk_fp, r->known_hosts);
    }
    if (r->hk == HK_ADD_FAILED)
        return br_error_set(err, BR_EIO, r->known_hosts, 0, 0,
                            "S/FTP configuration '%s': cannot record the host key of %s", r->name,
                            tok);
    int code = BR_EIO;
    const char *say = "";
    switch (cc) {
    case CURLE_LOGIN_DENIED:
        code = BR_EAUTH;
        say = "the server refused the login (user, password or key): ";
        break;
    case CURLE_REMOTE_FILE_NOT_FOUND:
        code = BR_ENOTFOUND;
        say = "not found: ";
        break;
    case CURLE_FILESIZE_EXCEEDED:
        code = BR_ELIMIT;
        break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
        say = "cannot reach the server: ";
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        say = "the server's certificate was not accepted: ";
        break;
    case CURLE_USE_SSL_FAILED:
        say = "the server does not offer TLS (AUTH TLS): ";
        break;
    default:
        break;
    }
    return br_error_set(err, code, NULL, 0, 0, "S/FTP configuration '%s' (%s): %s %s%s%s: %s%s",
                        r->name, hp, what, rel[0] ? "'" : "the root folder", rel, rel[0] ? "'" : "",
                        say, detail);
}

/* Runs the prepared operation; the key file is removed whatever happens. */
static CURLcode perform(br_remote *r)
{
    CURLcode cc = curl_easy_perform(r->h);
    key_file_drop(r);
    return cc;
}

/* ---- listing ---------------------------------------------------------------------------- */

typedef struct list_ctx {
    br_remote *r;
    br_remote_entry_fn fn;
    void *ctx;
    int mlsd;
    char line[8192];
    size_t len;
    int overlong;
    int64_t entries, given, skipped;
    int stop;  /* fn's nonzero return */
    int limit; /* BR_REMOTE_LIST_MAX passed */
} list_ctx;

static int64_t parse_mlsd_time(const char *v)
{
    struct tm tm = {0};
    if (strlen(v) < 14) return -1;
    if (sscanf(v, "%4d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

/* "type=file;size=12;modify=20261203223538; name" */
static int parse_mlsd(char *line, br_remote_entry *e, int *is_file)
{
    char *sp = strchr(line, ' ');
    if (!sp) return -1;
    *sp = 0;
    e->name = sp + 1;
    e->size = -1;
    e->mtime = -1;
    *is_file = 0;
    for (char *f = line; f && *f;) {
        char *semi = strchr(f, ';');
        if (semi) *semi = 0;
        char *eq = strchr(f, '=');
        if (eq) {
            *eq = 0;
            const char *v = eq + 1;
            if (!strcasecmp(f, "type"))
                *is_file = !strcasecmp(v, "file");
            else if (!strcasecmp(f, "size"))
                e->size = strtoll(v, NULL, 10);
            else if (!strcasecmp(f, "modify"))
                e->mtime = parse_mlsd_time(v);
        }
        f = semi ? semi + 1 : NULL;
    }
    return 0;
}

static int month_of(const char *m)
{
    static const char *const names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                        "jul", "aug", "sep", "oct", "nov", "dec"};
    for (int i = 0; i < 12; i++)
        if (!strncasecmp(m, names[i], 3)) return i;
    return -1;
}

/* A Unix `ls -l` line (FTP LIST, SFTP's long names):
 * "-rw-r--r-- 1 owner group 100000 Dec  3 22:35 name" or "... Dec  3  2025 name". */
static int parse_ls(char *line, br_remote_entry *e, int *is_file)
{
    char *f[8];
    char *p = line;
    for (int i = 0; i < 8; i++) {
        while (*p == ' ')
            p++;
        if (!*p) return -1;
        f[i] = p;
        p += strcspn(p, " ");
        if (!*p) return -1;
        *p++ = 0;
    }
    /* after the time field exactly one space separates the name (names may begin with one) */
    e->name = p;
    *is_file = f[0][0] == '-';
    char *end;
    long long size = strtoll(f[4], &end, 10);
    e->size = *end ? -1 : size;
    e->mtime = -1;
    int mon = month_of(f[5]), day = atoi(f[6]);
    if (mon >= 0 && day >= 1 && day <= 31) {
        struct tm tm = {0};
        time_t now = time(NULL);
        struct tm nowtm;
        gmtime_r(&now, &nowtm);
        tm.tm_mon = mon;
        tm.tm_mday = day;
        int hh, mm;
        if (sscanf(f[7], "%d:%d", &hh, &mm) == 2) {
            tm.tm_year = nowtm.tm_year;
            tm.tm_hour = hh;
            tm.tm_min = mm;
            int64_t t = (int64_t)timegm(&tm);
            if (t > (int64_t)now + 86400) { /* "recent" means within the last year */
                tm.tm_year--;
                t = (int64_t)timegm(&tm);
            }
            e->mtime = t;
        } else if (atoi(f[7]) > 1900) {
            tm.tm_year = atoi(f[7]) - 1900;
            e->mtime = (int64_t)timegm(&tm);
        }
    }
    return 0;
}

static void list_line(list_ctx *c, char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\r' || line[n - 1] == '\n'))
        line[--n] = 0;
    if (!n) return;
    br_remote_entry e;
    int is_file = 0;
    if ((c->mlsd ? parse_mlsd(line, &e, &is_file) : parse_ls(line, &e, &is_file)) != 0) return;
    if (!is_file) return;
    if (++c->entries > BR_REMOTE_LIST_MAX) {
        c->limit = 1;
        return;
    }
    if (br_remote_name_check(e.name, NULL)) {
        c->skipped++;
        return;
    }
    c->given++;
    if (c->fn(c->ctx, &e)) c->stop = 1;
}

static size_t list_write(char *data, size_t size, size_t nmemb, void *userp)
{
    list_ctx *c = userp;
    size_t n = size * nmemb;
    for (size_t i = 0; i < n; i++) {
        char ch = data[i];
        if (ch == '\n') {
            if (!c->overlong) {
                c->line[c->len] = 0;
                list_line(c, c->line);
            } else
                c->skipped++; /* a name longer than any we take */
            c->len = 0;
            c->overlong = 0;
            if (c->stop || c->limit) return 0;
            continue;
        }
        if (c->len + 1 >= sizeof c->line)
            c->overlong = 1;
        else
            c->line[c->len++] = ch;
    }
    return n;
}

static CURLcode list_once(br_remote *r, list_ctx *c, const char *url, int mlsd, br_error *err,
                          int *setup_rc)
{
    c->mlsd = mlsd;
    c->len = 0;
    c->overlong = 0;
    if ((*setup_rc = setup(r, url, err))) return CURLE_OK;
    curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, list_write);
    curl_easy_setopt(r->h, CURLOPT_WRITEDATA, c);
    if (mlsd) curl_easy_setopt(r->h, CURLOPT_CUSTOMREQUEST, "MLSD");
    CURLcode cc = perform(r);
    if (cc == CURLE_OK && c->len && !c->overlong) { /* a last line without its ending */
        c->line[c->len] = 0;
        list_line(c, c->line);
        c->len = 0;
    }
    return cc;
}

int br_remote_list(br_remote *r, const char *dir, br_remote_entry_fn fn, void *ctx,
                   int64_t *skipped, br_error *err)
{
    if (skipped) *skipped = 0;
    int rc = br_remote_path_check(dir, err);
    if (rc) return rc;
    char url[4096], rel[BR_REMOTE_PATH_MAX + 2];
    snprintf(rel, sizeof rel, "%s%s", dir, dir[0] ? "/" : "");
    if ((rc = make_url(r, rel, url, sizeof url, err))) return rc;
    list_ctx *c = calloc(1, sizeof *c);
    if (!c) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    c->r = r;
    c->fn = fn;
    c->ctx = ctx;
    int srs = 0;
    CURLcode cc = list_once(r, c, url, r->proto != P_SFTP, err, &srs);
    if (srs) {
        rc = srs;
        goto done;
    }
    /* A server without MLSD (RFC 3659) answers 500/502: LIST's Unix lines then. */
    if (cc != CURLE_OK && r->proto != P_SFTP && c->entries == 0 && !c->stop && !c->limit &&
        r->hk == HK_NONE &&
        (cc == CURLE_FTP_COULDNT_RETR_FILE || cc == CURLE_REMOTE_ACCESS_DENIED ||
         cc == CURLE_QUOTE_ERROR || cc == CURLE_FTP_WEIRD_SERVER_REPLY)) {
        long resp = 0;
        curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &resp);
        if (resp == 500 || resp == 502 || resp == 501 || resp == 504) {
            cc = list_once(r, c, url, 0, err, &srs);
            if (srs) {
                rc = srs;
                goto done;
            }
        }
    }
    if (c->limit) {
        const char *tok = r->hostport;
        rc = br_error_set(err, BR_ELIMIT, NULL, 0, 0,
                          "S/FTP configuration '%s' (%s): the folder '%s' lists more than %d "
                          "files; the first %d were read",
                          r->name, tok, dir, BR_REMOTE_LIST_MAX, BR_REMOTE_LIST_MAX);
    } else if (c->stop)
        rc = 0;
    else if (cc != CURLE_OK) {
        rc = fail(r, cc, "cannot list", dir, err);
        if (rc == BR_ENOTFOUND) { /* a folder that does not exist: BR_EIO, as remote.h says */
            rc = BR_EIO;
            if (err) err->code = BR_EIO;
        }
    }
done:
    if (skipped) *skipped = c->skipped;
    free(c);
    return rc;
}

/* ---- download --------------------------------------------------------------------------- */

typedef struct get_ctx {
    br_remote *r;
    FILE *f;
    int64_t have, got, cap;
    int over, over_before, first, ioerr;
} get_ctx;

static size_t get_write(char *data, size_t size, size_t nmemb, void *userp)
{
    get_ctx *g = userp;
    size_t n = size * nmemb;
    if (g->first) {
        g->first = 0;
        curl_off_t cl = -1;
        if (curl_easy_getinfo(g->r->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK &&
            cl >= 0 && g->cap > 0 && g->have + cl > g->cap) {
            g->over = g->over_before = 1;
            return 0;
        }
    }
    if (g->cap > 0 && g->have + g->got + (int64_t)n > g->cap) {
        g->over = 1;
        return 0;
    }
    if (fwrite(data, 1, n, g->f) != n) {
        g->ioerr = errno ? errno : EIO;
        return 0;
    }
    g->got += (int64_t)n;
    return n;
}

static int sha256_file(const char *path, char hex[65], int64_t *bytes, br_error *err)
{
    int rc = 0;
    FILE *f = fopen(path, "rb");
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!f || !md) {
        rc = br_error_set(err, BR_EIO, path, 0, 0, "cannot read: %s", strerror(errno));
        goto done;
    }
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    unsigned char buf[65536], out[32];
    size_t n;
    int64_t total = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        EVP_DigestUpdate(md, buf, n);
        total += (int64_t)n;
    }
    if (ferror(f)) {
        rc = br_error_set(err, BR_EIO, path, 0, 0, "cannot read: %s", strerror(errno));
        goto done;
    }
    unsigned len = 0;
    EVP_DigestFinal_ex(md, out, &len);
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", out[i]);
    if (bytes) *bytes = total;
done:
    if (f) fclose(f);
    EVP_MD_CTX_free(md);
    return rc;
}

int br_remote_get(br_remote *r, const char *rel, const char *local, int64_t cap, int64_t *bytes,
                  char sha256_hex[65], br_error *err)
{
    int rc = br_remote_path_check(rel, err);
    if (rc) return rc;
    if (!rel[0]) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no remote file named");
    char url[4096];
    if ((rc = make_url(r, rel, url, sizeof url, err))) return rc;
    get_ctx g = {.r = r, .cap = cap};
    for (int attempt = 0; attempt < 2; attempt++) {
        struct stat st;
        g.have = stat(local, &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : 0;
        g.got = 0;
        g.first = 1;
        g.f = fopen(local, g.have ? "ab" : "wb");
        if (!g.f)
            return br_error_set(err, BR_EIO, local, 0, 0, "cannot write: %s", strerror(errno));
        if ((rc = setup(r, url, err))) {
            fclose(g.f);
            return rc;
        }
        curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, get_write);
        curl_easy_setopt(r->h, CURLOPT_WRITEDATA, &g);
        if (cap > 0) curl_easy_setopt(r->h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cap);
        if (g.have) curl_easy_setopt(r->h, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)g.have);
        CURLcode cc = perform(r);
        if (fclose(g.f) && cc == CURLE_OK) {
            g.ioerr = errno;
            cc = CURLE_WRITE_ERROR;
        }
        /* The local part is longer than the remote file (it changed): start again. */
        if (cc == CURLE_BAD_DOWNLOAD_RESUME && g.have && attempt == 0) {
            if (truncate(local, 0))
                return br_error_set(err, BR_EIO, local, 0, 0, "cannot truncate: %s",
                                    strerror(errno));
            continue;
        }
        if (g.over || cc == CURLE_FILESIZE_EXCEEDED) {
            unlink(local);
            const char *tok = r->hostport;
            return br_error_set(err, BR_ELIMIT, NULL, 0, 0,
                                "S/FTP configuration '%s' (%s): '%s' is larger than the cap of "
                                "%lld bytes (%s); not downloaded",
                                r->name, tok, rel, (long long)cap,
                                g.over && !g.over_before ? "it grew past it while downloading"
                                                         : "the server says so");
        }
        if (g.ioerr)
            return br_error_set(err, BR_EIO, local, 0, 0, "cannot write: %s", strerror(g.ioerr));
        if (cc != CURLE_OK) {
            if (cc == CURLE_REMOTE_FILE_NOT_FOUND && !g.have) unlink(local);
            return fail(r, cc, "cannot download", rel, err);
        }
        break;
    }
    int64_t total = 0;
    if ((rc = sha256_file(local, sha256_hex, &total, err))) return rc;
    if (bytes) *bytes = total;
    return 0;
}

/* ---- upload, rename, delete ------------------------------------------------------------- */

/* 1 when rel exists (a file or a folder), 0 not, or a negative code. */
static int remote_exists(br_remote *r, const char *rel, br_error *err)
{
    char url[4096];
    int rc = make_url(r, rel, url, sizeof url, err);
    if (rc) return rc;
    if ((rc = setup(r, url, err))) return rc;
    curl_easy_setopt(r->h, CURLOPT_NOBODY, 1L);
    CURLcode cc = perform(r);
    if (cc == CURLE_OK) return 1;
    if (cc == CURLE_REMOTE_FILE_NOT_FOUND) return 0;
    /* FTP: a missing folder on the way answers CWD with 550 */
    if (cc == CURLE_REMOTE_ACCESS_DENIED && r->proto != P_SFTP && r->hk == HK_NONE) return 0;
    return fail(r, cc, "cannot look at", rel, err);
}

/* Runs quote commands (after the login, in the root folder for FTP). */
static int run_quotes(br_remote *r, struct curl_slist *cmds, const char *what, const char *rel,
                      br_error *err)
{
    char url[4096];
    int rc = make_url(r, "", url, sizeof url, err);
    if (rc) return rc;
    if ((rc = setup(r, url, err))) return rc;
    curl_easy_setopt(r->h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(r->h, CURLOPT_POSTQUOTE, cmds);
    CURLcode cc = perform(r);
    return cc == CURLE_OK ? 0 : fail(r, cc, what, rel, err);
}

/* Appends "CMD ARG" (FTP, relative to the root) or "cmd "ABS"" (SFTP) to *l. */
static int add_cmd(br_remote *r, struct curl_slist **l, const char *ftp_cmd, const char *sftp_cmd,
                   const char *a, const char *b)
{
    char qa[BR_REMOTE_PATH_MAX * 2 + 1200], qb[BR_REMOTE_PATH_MAX * 2 + 1200],
        line[sizeof qa + sizeof qb + 64];
    if (r->proto == P_SFTP) {
        if (sftp_quoted(r, a, qa, sizeof qa) || (b && sftp_quoted(r, b, qb, sizeof qb))) return -1;
        snprintf(line, sizeof line, "%s %s%s%s", sftp_cmd, qa, b ? " " : "", b ? qb : "");
    } else
        snprintf(line, sizeof line, "%s %s", ftp_cmd, a);
    struct curl_slist *n = curl_slist_append(*l, line);
    if (!n) return -1;
    *l = n;
    return 0;
}

/* "*MKD a", "*MKD a/b" for each folder of rel's parent (failures ignored: it may exist). */
static int add_mkdirs(br_remote *r, struct curl_slist **l, const char *rel)
{
    char dir[BR_REMOTE_PATH_MAX + 1];
    br_strlcpy(dir, rel, sizeof dir);
    for (char *p = dir; (p = strchr(p, '/')); p++) {
        *p = 0;
        if (add_cmd(r, l, "*MKD", "*mkdir", dir, NULL)) return -1;
        *p = '/';
    }
    return 0;
}

int br_remote_put(br_remote *r, const char *local, const char *rel, br_error *err)
{
    int rc = br_remote_path_check(rel, err);
    if (rc) return rc;
    if (!rel[0]) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no remote file named");
    const char *slash = strrchr(rel, '/');
    const char *name = slash ? slash + 1 : rel;
    char part[BR_REMOTE_PATH_MAX + 16], url[4096];
    snprintf(part, sizeof part, "%.*s.%s.part", slash ? (int)(slash - rel + 1) : 0, rel, name);
    if (strlen(name) + 6 > BR_REMOTE_NAME_MAX)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "remote name '%s': at most %d bytes for an upload", name,
                            BR_REMOTE_NAME_MAX - 6);
    FILE *f = NULL;
    struct curl_slist *post = NULL;
    int uploaded = 0;
    rc = remote_exists(r, rel, err);
    if (rc < 0) goto done;
    if (rc == 1) {
        const char *tok = r->hostport;
        rc = br_error_set(err, BR_EEXISTS, NULL, 0, 0,
                          "S/FTP configuration '%s' (%s): '%s' exists already; not replaced",
                          r->name, tok, rel);
        goto done;
    }
    struct stat st;
    f = fopen(local, "rb");
    if (!f || fstat(fileno(f), &st)) {
        rc = br_error_set(err, BR_EIO, local, 0, 0, "cannot read: %s", strerror(errno));
        goto done;
    }
    if ((rc = make_url(r, part, url, sizeof url, err))) goto done;
    if ((rc = setup(r, url, err))) goto done;
    /* the rename after the upload, in the file's folder (FTP) or by absolute paths (SFTP) */
    char from[BR_REMOTE_NAME_MAX + 8];
    snprintf(from, sizeof from, ".%s.part", name);
    int bad = r->proto == P_SFTP ? add_cmd(r, &post, NULL, "rename", part, rel)
                                 : (add_cmd(r, &post, "RNFR", NULL, from, NULL) ||
                                    add_cmd(r, &post, "RNTO", NULL, name, NULL));
    if (bad) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    curl_easy_setopt(r->h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(r->h, CURLOPT_READDATA, f);
    curl_easy_setopt(r->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
    curl_easy_setopt(r->h, CURLOPT_FTP_CREATE_MISSING_DIRS, (long)CURLFTP_CREATE_DIR_RETRY);
    curl_easy_setopt(r->h, CURLOPT_POSTQUOTE, post);
    CURLcode cc = perform(r);
    if (cc != CURLE_OK) {
        rc = fail(r, cc, "cannot upload", rel, err);
        uploaded = 1; /* the part may be there: removed below */
        goto done;
    }
    rc = 0;
done:
    if (f) fclose(f);
    curl_slist_free_all(post);
    if (rc && uploaded) {
        /* never leave the part behind; the error above is the one reported */
        br_remote_delete(r, part, NULL);
    }
    return rc;
}

int br_remote_rename(br_remote *r, const char *from, const char *to, br_error *err)
{
    int rc = br_remote_path_check(from, err);
    if (!rc) rc = br_remote_path_check(to, err);
    if (rc) return rc;
    if (!from[0] || !to[0]) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no remote file named");
    struct curl_slist *cmds = NULL;
    int bad = add_mkdirs(r, &cmds, to) ||
              (r->proto == P_SFTP ? add_cmd(r, &cmds, NULL, "rename", from, to)
                                  : (add_cmd(r, &cmds, "RNFR", NULL, from, NULL) ||
                                     add_cmd(r, &cmds, "RNTO", NULL, to, NULL)));
    if (bad) rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (!rc) rc = run_quotes(r, cmds, "cannot rename", from, err);
    curl_slist_free_all(cmds);
    return rc;
}

int br_remote_delete(br_remote *r, const char *rel, br_error *err)
{
    int rc = br_remote_path_check(rel, err);
    if (rc) return rc;
    if (!rel[0]) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no remote file named");
    struct curl_slist *cmds = NULL;
    if (add_cmd(r, &cmds, "DELE", "rm", rel, NULL))
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (!rc) rc = run_quotes(r, cmds, "cannot delete", rel, err);
    curl_slist_free_all(cmds);
    return rc;
}

/* ---- ftp.h's test ----------------------------------------------------------------------- */

static int count_file(void *ctx, const br_remote_entry *e)
{
    (void)e;
    (*(int64_t *)ctx)++;
    return 0;
}

int br_ftp_test(br_repo *repo, const char *name, int accept_new_host_key, int64_t *files,
                br_error *err)
{
    br_remote *r = NULL;
    int64_t n = 0;
    int rc = br_remote_open(repo, name, &r, err);
    if (rc) return rc;
    br_remote_accept_new_host_key(r, accept_new_host_key);
    rc = br_remote_list(r, "", count_file, &n, NULL, err);
    br_remote_free(r);
    if (!rc && files) *files = n;
    return rc;
}
