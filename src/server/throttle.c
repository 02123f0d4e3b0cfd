/* Login throttling and the audit log (docs/api.md "Login throttling").
 *
 * Each login attempt counts against its account (the username as sent, known
 * or not, so throttling tells nothing about which accounts exist) and against
 * its client address (IPv4, or the /64 of IPv6).  The attempt is counted
 * before the password is checked and uncounted when it succeeds, so a burst
 * of concurrent attempts cannot all pass the check before the first failure
 * is recorded.  Past a rule's free failures, each failure locks the key for
 * base * 2^(failures - free) seconds, at most max; while locked, attempts are
 * answered 429 with Retry-After without checking the password (the right one
 * too) and are not counted.  A success clears the account's failures.  A key
 * is forgotten `forget` seconds after its last failure.  Failures and
 * lockouts are appended as JSON lines to <repo>/log/audit.log (0600). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "core/core.h"
#include "throttle.h"

/* The rules, as data. */
static const struct rule {
    const char *scope;
    unsigned free;   /* failures before the first lock */
    unsigned base;   /* seconds of the first lock */
    unsigned max;    /* seconds, the longest lock */
    unsigned forget; /* seconds after the last failure */
} RULES[] = {
    {"account", 5, 1, 900, 3600},
    {"address", 20, 1, 900, 3600},
};
enum { N_RULES = sizeof RULES / sizeof RULES[0], MAX_KEYS = 10000 };

/* Times are monotonic milliseconds. */
typedef struct entry {
    char key[80];
    unsigned failures;
    int64_t last, locked_until;
} entry;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct table {
    entry *e;
    size_t n;
} table;

struct srv_throttle {
    pthread_mutex_t mu;
    table t[N_RULES];
    char log_dir[4200], log_path[4300];
    unsigned log_failures; /* lines that could not be written (best effort: logins go on) */
};

srv_throttle *srv_throttle_new(const char *repo_dir)
{
    srv_throttle *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    pthread_mutex_init(&t->mu, NULL);
    snprintf(t->log_dir, sizeof t->log_dir, "%s/log", repo_dir);
    snprintf(t->log_path, sizeof t->log_path, "%s/audit.log", t->log_dir);
    return t;
}

void srv_throttle_free(srv_throttle *t)
{
    if (!t) return;
    for (int i = 0; i < N_RULES; i++)
        free(t->t[i].e);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* The address key: IPv4 as is, IPv6 by its /64. */
void srv_address_key(const struct sockaddr *sa, char *out, size_t size)
{
    char buf[INET6_ADDRSTRLEN] = "?";
    if (sa && sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, sizeof buf);
    } else if (sa && sa->sa_family == AF_INET6) {
        struct in6_addr a = ((const struct sockaddr_in6 *)sa)->sin6_addr;
        static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (!memcmp(a.s6_addr, v4mapped, 12)) {
            inet_ntop(AF_INET, a.s6_addr + 12, buf, sizeof buf);
        } else {
            memset(a.s6_addr + 8, 0, 8);
            inet_ntop(AF_INET6, &a, buf, sizeof buf);
            snprintf(out, size, "%s/64", buf);
            return;
        }
    }
    snprintf(out, size, "%s", buf);
}

static entry *find(table *tb, const char *key, int64_t now, int create)
{
    entry *oldest = NULL;
    for (size_t i = 0; i < tb->n; i++) {
        entry *e = &tb->e[i];
        if (!strcmp(e->key, key)) return e;
        if (!oldest || e->last < oldest->last) oldest = e;
    }
    if (!create) return NULL;
    entry *e = NULL;
    if (tb->n < MAX_KEYS) {
        entry *grown = realloc(tb->e, (tb->n + 1) * sizeof *grown);
        if (grown) {
            tb->e = grown;
            e = &tb->e[tb->n++];
        }
    }
    if (!e) e = oldest; /* full (or out of memory): the least recent key makes room */
    if (!e) return NULL;
    memset(e, 0, sizeof *e);
    br_strlcpy(e->key, key, sizeof e->key);
    e->last = now;
    return e;
}

static void forget_old(table *tb, const struct rule *r, int64_t now)
{
    for (size_t i = 0; i < tb->n;) {
        entry *e = &tb->e[i];
        if (e->locked_until <= now && now - e->last > (int64_t)r->forget * 1000)
            tb->e[i] = tb->e[--tb->n];
        else
            i++;
    }
}

/* Milliseconds of the lock after this many failures (0: none). */
static int64_t lock_for(const struct rule *r, unsigned failures)
{
    if (failures < r->free) return 0;
    unsigned k = failures - r->free;
    uint64_t s = k >= 30 ? r->max : (uint64_t)r->base << k;
    return (int64_t)(s > r->max ? r->max : s) * 1000;
}

static void iso_time(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The username for the log: at most 64 bytes, cut at a character boundary. */
static json_t *user_json(const char *user)
{
    size_t n = strlen(user);
    if (n > 64) {
        n = 64;
        while (n && ((unsigned char)user[n] & 0xc0) == 0x80)
            n--;
    }
    json_t *s = json_stringn(user, n);
    return s ? s : json_string("?");
}

/* One JSON line, appended with one write (best effort: a log that cannot be
 * written must not stop logins; failures are counted). */
static void audit(srv_throttle *t, json_t *o)
{
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!line) return;
    size_t n = strlen(line);
    char *l = realloc(line, n + 2);
    if (!l) {
        free(line);
        return;
    }
    l[n] = '\n';
    l[n + 1] = 0;
    if (mkdir(t->log_dir, 0700) && errno != EEXIST) {
        free(l);
        return;
    }
    int fd = open(t->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    int bad = fd < 0;
    if (fd >= 0) {
        bad = br_write_all(fd, l, n + 1) != 0;
        if (close(fd)) bad = 1;
    }
    if (bad) __atomic_add_fetch(&t->log_failures, 1, __ATOMIC_RELAXED);
    free(l);
}

unsigned srv_throttle_begin(srv_throttle *t, const char *user, const char *addr)
{
    const char *keys[N_RULES] = {user, addr};
    int64_t now = now_ms();
    unsigned wait = 0;
    pthread_mutex_lock(&t->mu);
    for (int i = 0; i < N_RULES; i++) {
        forget_old(&t->t[i], &RULES[i], now);
        entry *e = find(&t->t[i], keys[i], now, 0);
        unsigned left =
            e && e->locked_until > now ? (unsigned)((e->locked_until - now + 999) / 1000) : 0;
        if (left > wait) wait = left;
    }
    if (wait) {
        pthread_mutex_unlock(&t->mu);
        return wait;
    }
    /* Counted as a failure until srv_throttle_end says it was not one. */
    for (int i = 0; i < N_RULES; i++) {
        entry *e = find(&t->t[i], keys[i], now, 1);
        if (!e) continue;
        e->failures++;
        e->last = now;
        int64_t lock = lock_for(&RULES[i], e->failures);
        if (lock) e->locked_until = now + lock;
    }
    pthread_mutex_unlock(&t->mu);
    return 0;
}

void srv_throttle_end(srv_throttle *t, const char *user, const char *addr, int ok)
{
    const char *keys[N_RULES] = {user, addr};
    int64_t now = now_ms();
    time_t wall = time(NULL);
    json_t *lines[N_RULES + 1] = {0};
    char at[32];
    iso_time(wall, at);
    pthread_mutex_lock(&t->mu);
    for (int i = 0; i < N_RULES; i++) {
        entry *e = find(&t->t[i], keys[i], now, 0);
        if (!e) continue;
        if (ok) {
            /* The account starts again; the address gets its attempt back. */
            e->failures = i == 0 || !e->failures ? 0 : e->failures - 1;
            int64_t lock = lock_for(&RULES[i], e->failures);
            e->locked_until = lock ? e->last + lock : 0;
            continue;
        }
        /* The lock runs from the failure's answer (the check took time). */
        int64_t lock = lock_for(&RULES[i], e->failures);
        if (lock && now + lock > e->locked_until) e->locked_until = now + lock;
        if (e->locked_until > now) {
            char until[32];
            iso_time(wall + (time_t)((e->locked_until - now + 999) / 1000), until);
            lines[i + 1] =
                json_pack("{s:s,s:s,s:s,s:o,s:s,s:I,s:s,s:I}", "time", at, "event", "login_lockout",
                          "scope", RULES[i].scope, "user", user_json(user), "address", addr,
                          "failures", (json_int_t)e->failures, "until", until, "seconds",
                          (json_int_t)(e->locked_until - now));
        }
    }
    pthread_mutex_unlock(&t->mu);
    if (!ok)
        lines[0] = json_pack("{s:s,s:s,s:o,s:s}", "time", at, "event", "login_failed", "user",
                             user_json(user), "address", addr);
    for (int i = 0; i <= N_RULES; i++)
        if (lines[i]) audit(t, lines[i]);
}
