/* S/FTP configurations (ftp.h) in the table ftp_config (migration 009).
 *
 * The password and the private key are sealed with the repository's key (doi/seal.c: libsodium
 * secretbox, "sb1:" + base64) before they are bound; a private key longer than one sealed box
 * takes (1000 bytes each) is sealed in pieces joined by '\n'.  Reads for callers never select
 * the secret columns (only whether they are set); br_ftp_open_secrets, for net/remote.c, is
 * the one place they are unsealed. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include <sodium.h>
#include "bulkrepo/ftp.h"
#include "core/core.h"
#include "doi/doi_internal.h"
#include "store/store_ftp.h"
#include "store/store_internal.h"

#define PIECE      1000 /* bytes of a secret per sealed box (seal.c takes at most 1024) */
#define SEALED_MAX (4 * PIECE + 128)

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 63) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return 0;
    return 1;
}

static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
    return 0;
}

/* Checks url (see ftp.h); *scheme gets "ftp", "ftps" or "sftp". */
static int check_url(const char *url, const char **scheme, br_error *err)
{
    const char *sep = strstr(url, "://");
    if (!sep || sep == url)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "URL '%s': give ftp://, ftps:// or sftp://HOST[:PORT]/FOLDER/", url);
    size_t sl = (size_t)(sep - url);
    if (sl == 3 && !strncmp(url, "ftp", 3))
        *scheme = "ftp";
    else if (sl == 4 && !strncmp(url, "ftps", 4))
        *scheme = "ftps";
    else if (sl == 4 && !strncmp(url, "sftp", 4))
        *scheme = "sftp";
    else
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "URL scheme '%.*s' is not supported: use ftp://, ftps:// (FTP with "
                            "explicit TLS) or sftp://",
                            (int)(sl > 32 ? 32 : sl), url);
    if (strlen(url) >= sizeof((br_ftp_config *)0)->url)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "URL: at most %zu bytes",
                            sizeof((br_ftp_config *)0)->url - 1);
    for (const char *c = url; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '%' || *c == '?' || *c == '#' ||
            *c == '\\')
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                "URL: no spaces, control characters, '%%', '?', '#' or '\\' "
                                "(write the folder as it is, without %%-escapes)");
    const char *host = sep + 3;
    size_t al = strcspn(host, "/");
    if (memchr(host, '@', al))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "URL: no user or password in the URL: give the user with --user "
                            "and the password with --password-stdin (it is stored sealed)");
    const char *port = NULL;
    size_t hl = al;
    if (al && host[0] == '[') {
        const char *close = memchr(host, ']', al);
        if (!close) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "URL: unclosed '[' in host");
        hl = (size_t)(close - host) + 1;
        if (hl < al) {
            if (host[hl] != ':')
                return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "URL: bad host '%.*s'", (int)al,
                                    host);
            port = host + hl + 1;
        }
    } else {
        const char *colon = memchr(host, ':', al);
        if (colon) {
            hl = (size_t)(colon - host);
            port = colon + 1;
        }
    }
    if (hl == 0 || (host[0] == '[' && hl <= 2))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "URL '%s' names no host", url);
    if (port) {
        size_t pl = (size_t)(host + al - port);
        long v = 0;
        for (size_t i = 0; i < pl; i++) {
            if (port[i] < '0' || port[i] > '9' || v > 65535) {
                v = -1;
                break;
            }
            v = v * 10 + (port[i] - '0');
        }
        if (pl == 0 || v < 1 || v > 65535)
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "URL: port '%.*s' is not 1-65535",
                                (int)pl, port);
    }
    /* The root folder: segments without "." or "..". */
    const char *p = host + al;
    while (*p) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                "URL: the folder may not contain '.' or '..' segments");
        p += n;
    }
    size_t bad = 0;
    if (br_utf8_check(url, strlen(url), &bad))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "URL: not UTF-8 at byte %zu", bad + 1);
    return 0;
}

static int looks_like_key(const char *pem)
{
    return !strncmp(pem, "-----BEGIN ", 11) && strstr(pem, "PRIVATE KEY-----") &&
           strstr(pem, "-----END ");
}

/* Seals text (any length up to BR_FTP_KEY_MAX) in pieces: malloc'd into *out. */
static int seal_all(br_repo *repo, const char *text, char **out, br_error *err)
{
    size_t n = strlen(text), pieces = (n + PIECE - 1) / PIECE;
    char *buf = malloc(pieces * (SEALED_MAX + 1) + 1);
    if (!buf) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    size_t len = 0;
    char piece[PIECE + 1];
    for (size_t i = 0; i < pieces; i++) {
        size_t k = n - i * PIECE < PIECE ? n - i * PIECE : PIECE;
        memcpy(piece, text + i * PIECE, k);
        piece[k] = 0;
        if (i) buf[len++] = '\n';
        int rc = br_doi_seal(br_repo_dir(repo), piece, buf + len, SEALED_MAX, err);
        sodium_memzero(piece, sizeof piece);
        if (rc) {
            free(buf);
            return rc;
        }
        len += strlen(buf + len);
    }
    buf[len] = 0;
    *out = buf;
    return 0;
}

/* The reverse of seal_all: malloc'd clear text ("" for NULL or ""). */
static int unseal_all(br_repo *repo, const char *sealed, char **out, br_error *err)
{
    size_t n = sealed ? strlen(sealed) : 0;
    size_t cap = n + 1; /* the clear text is shorter than its sealed form */
    char *buf = malloc(cap);
    if (!buf) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    size_t len = 0;
    const char *p = sealed;
    while (p && *p) {
        size_t k = strcspn(p, "\n");
        char one[SEALED_MAX + 1];
        if (k > SEALED_MAX) {
            sodium_memzero(buf, cap);
            free(buf);
            return br_error_set(err, BR_EIO, NULL, 0, 0, "a sealed secret is damaged");
        }
        memcpy(one, p, k);
        one[k] = 0;
        int rc = br_doi_unseal(br_repo_dir(repo), one, buf + len, cap - len, err);
        if (rc) {
            sodium_memzero(buf, cap);
            free(buf);
            return rc;
        }
        len += strlen(buf + len);
        p += k;
        if (*p == '\n') p++;
    }
    buf[len] = 0;
    *out = buf;
    return 0;
}

static void row_to_config(br_dbst *st, br_ftp_config *c)
{
    memset(c, 0, sizeof *c);
    const char *s;
    br_strlcpy(c->name, (s = br_col_text(st, 0)) ? s : "", sizeof c->name);
    br_strlcpy(c->url, (s = br_col_text(st, 1)) ? s : "", sizeof c->url);
    br_strlcpy(c->user, (s = br_col_text(st, 2)) ? s : "", sizeof c->user);
    c->has_password = br_db_col_int(st, 3);
    c->has_key = br_db_col_int(st, 4);
    c->passive = br_db_col_int(st, 5);
    br_strlcpy(c->ca_file, (s = br_col_text(st, 6)) ? s : "", sizeof c->ca_file);
    br_strlcpy(c->created, (s = br_col_text(st, 7)) ? s : "", sizeof c->created);
    br_strlcpy(c->updated, (s = br_col_text(st, 8)) ? s : "", sizeof c->updated);
}

/* The stored sealed secrets of name (malloc'd, NULL when none); 0, BR_ENOTFOUND, BR_ESTORE. */
static int read_sealed(br_repo *repo, const char *name, char **pw, char **key, br_error *err)
{
    *pw = *key = NULL;
    br_dbst *st = br_stmt(repo, S_FTP_SECRETS, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, name);
    int rc = br_step(repo, st);
    if (rc == BR_DB_DONE) {
        br_db_reset(st);
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0,
                            "no S/FTP configuration '%s' (bulkrepo ftp list)", name);
    }
    if (rc != BR_DB_ROW) {
        rc = br_store_fail(repo, err, "S/FTP configuration read");
        br_db_reset(st);
        return rc;
    }
    const char *a = br_col_text(st, 0), *b = br_col_text(st, 1);
    int want_a = a && *a, want_b = b && *b; /* a and b end with the reset */
    if (want_a) *pw = strdup(a);
    if (want_b) *key = strdup(b);
    br_db_reset(st);
    if ((want_a && !*pw) || (want_b && !*key)) {
        free(*pw);
        free(*key);
        *pw = *key = NULL;
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    return 0;
}

/* "scheme://host[:port]" of a URL checked by check_url, into out. */
static const char *server_of(const char *url, char *out, size_t size)
{
    const char *h = strstr(url, "://");
    size_t n = h ? (size_t)(h + 3 - url) + strcspn(h + 3, "/") : strlen(url);
    if (n >= size) n = size - 1;
    memcpy(out, url, n);
    out[n] = 0;
    return out;
}

int br_ftp_set(br_repo *repo, const br_ftp_config *cfg, const char *password,
               const char *private_key_pem, br_error *err)
{
    char *old_pw = NULL, *old_key = NULL, *new_pw = NULL, *new_key = NULL;
    const char *scheme = NULL;
    int rc = 0;
    if (!name_ok(cfg->name)) {
        rc = br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                          "S/FTP configuration name '%s': use 1 to 63 letters, digits, '-', "
                          "'_' or '.'",
                          cfg->name);
        goto done;
    }
    if ((rc = check_url(cfg->url, &scheme, err))) goto done;
    size_t bad = 0;
    if (!cfg->user[0] || has_ctl(cfg->user) || br_utf8_check(cfg->user, strlen(cfg->user), &bad)) {
        rc = br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                          "user: give 1 to 255 bytes of UTF-8 without control characters");
        goto done;
    }
    if (password && (strlen(password) > BR_FTP_SECRET_MAX || has_ctl(password))) {
        rc = br_error_set(err, strlen(password) > BR_FTP_SECRET_MAX ? BR_ELIMIT : BR_EUSAGE, NULL,
                          0, 0,
                          "password: at most %d bytes without control characters (a line "
                          "ending is not part of it)",
                          BR_FTP_SECRET_MAX);
        goto done;
    }
    if (private_key_pem && *private_key_pem) {
        if (strcmp(scheme, "sftp")) {
            rc = br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                              "a private key is for sftp:// only (%s:// logs in with a password)",
                              scheme);
            goto done;
        }
        if (strlen(private_key_pem) > BR_FTP_KEY_MAX) {
            rc = br_error_set(err, BR_ELIMIT, NULL, 0, 0, "private key: at most %d bytes",
                              BR_FTP_KEY_MAX);
            goto done;
        }
        if (!looks_like_key(private_key_pem)) {
            rc = br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                              "private key: not a PEM or OpenSSH private key (-----BEGIN ... "
                              "PRIVATE KEY-----)");
            goto done;
        }
        if (strstr(private_key_pem, "ENCRYPTED")) {
            rc = br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                              "private key: protected by a passphrase; give a key without one "
                              "(it is stored sealed)");
            goto done;
        }
    }
    if (cfg->ca_file[0]) {
        if (strcmp(scheme, "ftps")) {
            rc = br_error_set(err, BR_EUSAGE, NULL, 0, 0, "a CA file is for ftps:// only");
            goto done;
        }
        if (cfg->ca_file[0] != '/' || has_ctl(cfg->ca_file) || access(cfg->ca_file, R_OK)) {
            rc = br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                              "CA file '%s': give the absolute path of a readable file",
                              cfg->ca_file);
            goto done;
        }
    }
    rc = read_sealed(repo, cfg->name, &old_pw, &old_key, err);
    if (rc == BR_ENOTFOUND)
        rc = 0;
    else if (rc)
        goto done;
    if ((old_pw && !password) || (old_key && !private_key_pem)) {
        /* A stored secret is only ever sent to the server it was given for: pointing the
         * configuration elsewhere (or to another account) while keeping it would hand it to
         * whoever runs that server. */
        br_ftp_config was;
        if ((rc = br_ftp_get(repo, cfg->name, &was, err))) goto done;
        char a[512], b[512];
        if (strcmp(server_of(was.url, a, sizeof a), server_of(cfg->url, b, sizeof b)) ||
            strcmp(was.user, cfg->user)) {
            rc = br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                              "configuration '%s' moves from %s@%s to %s@%s: give its %s again "
                              "(a stored secret goes only to the server and user it was given "
                              "for)",
                              cfg->name, was.user, a, cfg->user, b,
                              old_key ? "private key" : "password");
            goto done;
        }
    }
    if (password && *password && (rc = seal_all(repo, password, &new_pw, err))) goto done;
    if (private_key_pem && *private_key_pem &&
        (rc = seal_all(repo, private_key_pem, &new_key, err)))
        goto done;
    const char *pw = password ? new_pw : old_pw;
    const char *key = private_key_pem ? new_key : old_key;
    if (key && strcmp(scheme, "sftp")) {
        rc = br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                          "configuration '%s' keeps a private key, which is for sftp:// only: "
                          "remove it (an empty key) or keep sftp://",
                          cfg->name);
        goto done;
    }
    if (!strcmp(scheme, "sftp") && !pw && !key) {
        rc = br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                          "sftp:// needs a password (--password-stdin) or a private key (--key)");
        goto done;
    }
    char now[32];
    br_now_iso(now);
    br_dbst *st = br_stmt(repo, S_FTP_UPSERT, err);
    if (!st) {
        rc = BR_ESTORE;
        goto done;
    }
    br_bind_text(st, 1, cfg->name);
    br_bind_text(st, 2, cfg->url);
    br_bind_text(st, 3, cfg->user);
    br_bind_text(st, 4, pw);
    br_bind_text(st, 5, key);
    br_db_bind_int64(st, 6, cfg->passive ? 1 : 0);
    br_bind_text(st, 7, cfg->ca_file[0] ? cfg->ca_file : NULL);
    br_bind_text(st, 8, now);
    if (br_step(repo, st) != BR_DB_DONE) rc = br_store_fail(repo, err, "S/FTP configuration write");
    br_db_reset(st);
done:
    free(old_pw);
    free(old_key);
    free(new_pw);
    free(new_key);
    return rc;
}

int br_ftp_get(br_repo *repo, const char *name, br_ftp_config *out, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_FTP_GET, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, name);
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) {
        row_to_config(st, out);
        rc = 0;
    } else if (rc == BR_DB_DONE)
        rc = br_error_set(err, BR_ENOTFOUND, NULL, 0, 0,
                          "no S/FTP configuration '%s' (bulkrepo ftp list)", name);
    else
        rc = br_store_fail(repo, err, "S/FTP configuration read");
    br_db_reset(st);
    return rc;
}

int br_ftp_list(br_repo *repo, br_ftp_fn fn, void *ctx, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_FTP_LIST, err);
    if (!st) return BR_ESTORE;
    int rc, out = 0;
    br_ftp_config c;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        row_to_config(st, &c);
        if ((out = BR_YIELD(repo, fn(ctx, &c)))) break;
    }
    if (!out && rc != BR_DB_DONE) out = br_store_fail(repo, err, "S/FTP configuration list");
    br_db_reset(st);
    return out;
}

int br_ftp_remove(br_repo *repo, const char *name, br_error *err)
{
    br_ftp_config c;
    int rc = br_ftp_get(repo, name, &c, err);
    if (rc) return rc;
    br_dbst *st = br_stmt(repo, S_FTP_USED_BY, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, name);
    rc = br_step(repo, st);
    if (rc == BR_DB_ROW) {
        char prof[64];
        const char *p = br_col_text(st, 0);
        br_strlcpy(prof, p ? p : "", sizeof prof);
        br_db_reset(st);
        return br_error_set(err, BR_EEXISTS, NULL, 0, 0,
                            "S/FTP configuration '%s' is used by import profile '%s': remove or "
                            "change the profile first",
                            name, prof);
    }
    br_db_reset(st);
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "profile read");
    st = br_stmt(repo, S_FTP_DEL, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, name);
    rc = br_step(repo, st) == BR_DB_DONE ? 0
                                         : br_store_fail(repo, err, "S/FTP configuration delete");
    br_db_reset(st);
    return rc;
}

int br_ftp_open_secrets(br_repo *repo, const char *name, br_ftp_config *cfg, char **password,
                        char **key, br_error *err)
{
    char *spw = NULL, *skey = NULL;
    *password = *key = NULL;
    int rc = br_ftp_get(repo, name, cfg, err);
    if (rc) return rc;
    if ((rc = read_sealed(repo, name, &spw, &skey, err))) goto done;
    if ((rc = unseal_all(repo, spw, password, err))) goto done;
    if ((rc = unseal_all(repo, skey, key, err))) {
        sodium_memzero(*password, strlen(*password));
        free(*password);
        *password = NULL;
    }
done:
    free(spw);
    free(skey);
    return rc;
}

int br_ftp_to_json(const br_ftp_config *c, char **out, br_error *err)
{
    json_t *o =
        json_pack("{s:s,s:s,s:s,s:b,s:b,s:b,s:s,s:s,s:s}", "name", c->name, "url", c->url, "user",
                  c->user, "has_password", c->has_password, "has_key", c->has_key, "passive",
                  c->passive, "ca_file", c->ca_file, "created", c->created, "updated", c->updated);
    *out = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!*out) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    return 0;
}
