/* Letters (mail.h): templates with {{placeholders}}, shipped in data/letters/TYPE.txt (compiled
 * in) or the repository's letters/TYPE.txt, which takes the shipped one's place.
 *
 * A template is checked whole when it loads, so a letter with an unknown placeholder or an
 * unclosed section is refused before a job queues anything with it (its file, line and
 * column named), never discovered half-way through a set. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bulkrepo/mail.h"
#include "core/core.h"

typedef struct br_embedded_file {
    const char *name;
    const char *data;
    size_t size;
} br_embedded_file;
extern const br_embedded_file br_letter_files[];

#define LETTER_MAX (64 * 1024) /* bytes of a template */
#define DEPTH_MAX  4           /* nested sections */

/* The placeholders, in the order of br_letter_vars. */
static const char *const NAMES[] = {
    "user_name", "roles_added", "account_type", "new_password", "job_id", "repository_name",
    /* the job-end letter (issue 17) */
    "job_name", "job_status", "job_message", "counters", "report", "delivery"};
enum { N_NAMES = 12 };

struct br_letter {
    char type[64];
    char source[4200];
    char *subject; /* the template's subject (one line) */
    char *body;    /* the template's body */
    unsigned uses; /* bit i: NAMES[i] appears */
};

static int name_index(const char *s, size_t n)
{
    for (int i = 0; i < N_NAMES; i++)
        if (strlen(NAMES[i]) == n && !memcmp(NAMES[i], s, n)) return i;
    return -1;
}

static int type_ok(const char *t)
{
    size_t n = t ? strlen(t) : 0;
    if (!n || n > 63) return 0;
    for (; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= '0' && *t <= '9') || *t == '-')) return 0;
    return 1;
}

/* One {{...}} at p (p points at "{{"): kind '#', '/' or 0, the name's index; the length of the
 * tag in *len.  An error names the place (line, column of text). */
static int read_tag(const char *text, const char *p, const char *src, int *kind, int *idx,
                    size_t *len, br_error *err)
{
    unsigned line, col;
    br_text_position(text, (size_t)(p - text), &line, &col);
    const char *q = p + 2;
    *kind = (*q == '#' || *q == '/') ? *q++ : 0;
    const char *name = q;
    while ((*q >= 'a' && *q <= 'z') || *q == '_')
        q++;
    if (q[0] != '}' || q[1] != '}') {
        const char *nl = strchr(p, '\n');
        int shown = (int)(nl ? nl - p : (ptrdiff_t)strlen(p));
        return br_error_set(err, BR_EINVAL, src, line, col,
                            "'%.*s' is not a placeholder: write {{name}} with a name of a-z and _",
                            shown > 40 ? 40 : shown, p);
    }
    if ((*idx = name_index(name, (size_t)(q - name))) < 0)
        return br_error_set(err, BR_EINVAL, src, line, col,
                            "unknown placeholder {{%.*s}} (a letter knows user_name, roles_added, "
                            "account_type, new_password, job_id, repository_name, job_name, "
                            "job_status, job_message, counters, report and delivery)",
                            (int)(q - name), name);
    *len = (size_t)(q + 2 - p);
    return 0;
}

/* The line holding only a section tag (spaces around allowed): 1 and the tag, else 0. */
static int section_line(const char *line, size_t n, const char **tag)
{
    while (n && (*line == ' ' || *line == '\t'))
        line++, n--;
    while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
        n--;
    if (n < 5 || line[0] != '{' || line[1] != '{' || (line[2] != '#' && line[2] != '/')) return 0;
    if (line[n - 1] != '}' || line[n - 2] != '}' || memchr(line + 2, '}', n - 4)) return 0;
    *tag = line;
    return 1;
}

/* Checks a template text (subject 1: a one-line subject, no sections); uses gets its names. */
static int check(const char *text, const char *src, int subject, unsigned *uses, br_error *err)
{
    int stack[DEPTH_MAX], depth = 0;
    unsigned open_line[DEPTH_MAX];
    const char *line = text;
    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        const char *tag;
        int kind, idx;
        size_t len;
        if (!subject && section_line(line, n, &tag)) {
            int rc = read_tag(text, tag, src, &kind, &idx, &len, err);
            if (rc) return rc;
            *uses |= 1u << idx;
            unsigned l, c;
            br_text_position(text, (size_t)(tag - text), &l, &c);
            if (kind == '#') {
                if (depth == DEPTH_MAX)
                    return br_error_set(err, BR_EINVAL, src, l, c, "sections nest at most %d deep",
                                        DEPTH_MAX);
                open_line[depth] = l;
                stack[depth++] = idx;
            } else if (!depth || stack[depth - 1] != idx) {
                return br_error_set(err, BR_EINVAL, src, l, c,
                                    "{{/%s}} closes no open {{#%s}} section", NAMES[idx],
                                    NAMES[idx]);
            } else {
                depth--;
            }
        } else {
            for (const char *p = line; p < line + n; p++) {
                if (p[0] != '{' || p[1] != '{') continue;
                int rc = read_tag(text, p, src, &kind, &idx, &len, err);
                if (rc) return rc;
                if (kind) {
                    unsigned l, c;
                    br_text_position(text, (size_t)(p - text), &l, &c);
                    return br_error_set(err, BR_EINVAL, src, l, c,
                                        subject ? "a subject has no sections"
                                                : "a section tag {{%c%s}} stands alone on its line",
                                        kind, NAMES[idx]);
                }
                *uses |= 1u << idx;
                p += len - 1;
            }
        }
        line += n + (nl != NULL);
    }
    if (depth)
        return br_error_set(err, BR_EINVAL, src, open_line[depth - 1], 1,
                            "section {{#%s}} is not closed with {{/%s}}", NAMES[stack[depth - 1]],
                            NAMES[stack[depth - 1]]);
    return 0;
}

/* Parses a template's text (copied) into l. */
static int parse(br_letter *l, const char *data, size_t size, br_error *err)
{
    const char *src = l->source;
    size_t bad;
    if (size > LETTER_MAX)
        return br_error_set(err, BR_ELIMIT, src, 0, 0, "a letter has at most %d bytes", LETTER_MAX);
    if (br_utf8_check(data, size, &bad) || memchr(data, 0, size)) {
        unsigned line, col;
        br_text_position(data, bad < size ? bad : 0, &line, &col);
        return br_error_set(err, BR_EINVAL, src, line, col, "a letter must be UTF-8 text");
    }
    if (size < 8 || strncasecmp(data, "Subject:", 8))
        return br_error_set(err, BR_EINVAL, src, 1, 1,
                            "a letter starts with a \"Subject: \" line, then a blank line");
    const char *nl = memchr(data, '\n', size);
    size_t n = nl ? (size_t)(nl - data) : size;
    const char *rest = nl ? nl + 1 : data + size;
    size_t rest_n = size - (size_t)(rest - data);
    if (rest_n && *rest != '\n' && !(*rest == '\r' && rest_n > 1 && rest[1] == '\n'))
        return br_error_set(err, BR_EINVAL, src, 2, 1, "a blank line follows the Subject line");
    if (rest_n) {
        size_t skip = *rest == '\r' ? 2 : 1;
        rest += skip;
        rest_n -= skip;
    }
    const char *s = data + 8;
    while (s < data + n && (*s == ' ' || *s == '\t'))
        s++;
    size_t sn = (size_t)(data + n - s);
    while (sn && (s[sn - 1] == '\r' || s[sn - 1] == ' '))
        sn--;
    if (!sn) return br_error_set(err, BR_EINVAL, src, 1, 9, "the subject is empty");
    if (!(l->subject = strndup(s, sn)) || !(l->body = strndup(rest, rest_n)))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    /* The body's positions count from the file's third line. */
    br_error e;
    int rc = check(l->subject, src, 1, &l->uses, err);
    if (!rc && (rc = check(l->body, src, 0, &l->uses, &e))) {
        if (e.place.line) e.place.line += 2;
        if (err) *err = e;
    }
    return rc;
}

static const br_embedded_file *shipped(const char *file)
{
    for (const br_embedded_file *f = br_letter_files; f->name; f++)
        if (!strcmp(f->name, file)) return f;
    return NULL;
}

int br_letter_load(br_repo *repo, const char *type, br_letter **out, br_error *err)
{
    *out = NULL;
    if (!type_ok(type))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "'%.80s' is not a letter type (1-63 of a-z 0-9 -)", type ? type : "");
    br_letter *l = calloc(1, sizeof *l);
    if (!l) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_strlcpy(l->type, type, sizeof l->type);
    char file[80], path[4200];
    snprintf(file, sizeof file, "letters/%s.txt", type);
    char *data = NULL;
    size_t len = 0;
    int rc = 0;
    if (repo && !br_path_join(path, sizeof path, br_repo_dir(repo), file) && br_is_file(path)) {
        br_strlcpy(l->source, path, sizeof l->source);
        if (!(rc = br_read_file(path, LETTER_MAX + 1, &data, &len, err)))
            rc = parse(l, data, len, err);
        free(data);
    } else {
        const br_embedded_file *f = shipped(file + strlen("letters/"));
        snprintf(l->source, sizeof l->source, "data/%s", file);
        rc = f ? parse(l, f->data, f->size, err)
               : br_error_set(err, BR_ENOTFOUND, NULL, 0, 0,
                              "no letter '%s' (bulkrepo mail letters lists them)", type);
        if (!rc) snprintf(l->source, sizeof l->source, "shipped");
    }
    if (rc) {
        br_letter_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void br_letter_free(br_letter *l)
{
    if (!l) return;
    free(l->subject);
    free(l->body);
    free(l);
}

int br_letter_uses(const br_letter *l, const char *name)
{
    int i = name ? name_index(name, strlen(name)) : -1;
    return l && i >= 0 && (l->uses & (1u << i)) != 0;
}

const char *br_letter_source(const br_letter *l)
{
    return l ? l->source : "";
}

/* ---- rendering ------------------------------------------------------------------------------ */

static const char *value_of(const br_letter_vars *v, int i)
{
    const char *vals[N_NAMES] = {v->user_name,    v->roles_added, v->account_type,
                                 v->new_password, v->job_id,      v->repository_name,
                                 v->job_name,     v->job_status,  v->job_message,
                                 v->counters,     v->report,      v->delivery};
    const char *s = vals[i];
    if (i == 3 && s && *s) return BR_MAIL_SECRET_MARK; /* the outbox puts it there */
    return s ? s : "";
}

/* Appends text with its placeholders replaced. */
static int fill(br_buf *b, const char *p, size_t n, const br_letter_vars *v)
{
    const char *end = p + n;
    while (p < end) {
        const char *t = strstr(p, "{{");
        if (!t || t >= end) return br_buf_append(b, p, (size_t)(end - p));
        if (br_buf_append(b, p, (size_t)(t - p))) return BR_ENOMEM;
        const char *name = t + 2, *q = name;
        while (q < end && ((*q >= 'a' && *q <= 'z') || *q == '_'))
            q++;
        int i = name_index(name, (size_t)(q - name)); /* checked at load */
        if (i < 0 || br_buf_puts(b, value_of(v, i))) return BR_ENOMEM;
        p = q + 2;
    }
    return 0;
}

int br_letter_render(const br_letter *l, const br_letter_vars *v, char **subject, char **body,
                     br_error *err)
{
    *subject = *body = NULL;
    const char *vals[N_NAMES] = {v->user_name,    v->roles_added, v->account_type,
                                 v->new_password, v->job_id,      v->repository_name,
                                 v->job_name,     v->job_status,  v->job_message,
                                 v->counters,     v->report,      v->delivery};
    for (int i = 0; i < N_NAMES; i++)
        for (const unsigned char *p = (const unsigned char *)vals[i]; p && *p; p++)
            if (*p < 0x20 || *p == 0x7f)
                return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                    "the value of {{%s}} has a control character", NAMES[i]);
    br_buf s = {0}, b = {0};
    int rc = fill(&s, l->subject, strlen(l->subject), v);
    int keep[DEPTH_MAX + 1] = {1}, depth = 0;
    for (const char *line = l->body; !rc && *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        const char *tag;
        if (section_line(line, n, &tag)) {
            const char *name = tag + 3, *q = name;
            while ((*q >= 'a' && *q <= 'z') || *q == '_')
                q++;
            int i = name_index(name, (size_t)(q - name));
            if (tag[2] == '#' && depth < DEPTH_MAX) {
                depth++;
                keep[depth] = keep[depth - 1] && i >= 0 && *value_of(v, i);
            } else if (tag[2] == '/' && depth) {
                depth--;
            }
        } else if (keep[depth]) {
            rc = fill(&b, line, n, v);
            if (!rc) rc = br_buf_append(&b, "\n", 1);
        }
        line += n + (nl != NULL);
    }
    if (!rc && !s.p) rc = br_buf_puts(&s, "");
    if (!rc && !b.p) rc = br_buf_puts(&b, "");
    if (rc) {
        br_buf_dispose(&s);
        br_buf_dispose(&b);
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    *subject = s.p;
    *body = b.p;
    return 0;
}

/* ---- listing ------------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int br_letter_list(br_repo *repo, br_letter_fn fn, void *ctx, br_error *err)
{
    char **types = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (const br_embedded_file *f = br_letter_files; f->name && !rc; f++) {
        size_t len = strlen(f->name);
        if (len <= 4 || strcmp(f->name + len - 4, ".txt")) continue;
        if (br_grow((void **)&types, &cap, n + 1, sizeof *types) ||
            !(types[n] = strndup(f->name, len - 4)))
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        else
            n++;
    }
    char dir[4200];
    DIR *d = NULL;
    if (!rc && repo && !br_path_join(dir, sizeof dir, br_repo_dir(repo), "letters"))
        d = opendir(dir);
    for (struct dirent *e; d && !rc && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len <= 4 || strcmp(e->d_name + len - 4, ".txt")) continue;
        char type[80];
        snprintf(type, sizeof type, "%.*s", (int)(len - 4), e->d_name);
        int seen = 0;
        for (size_t i = 0; i < n && !seen; i++)
            seen = !strcmp(types[i], type);
        if (seen) continue;
        if (br_grow((void **)&types, &cap, n + 1, sizeof *types) || !(types[n] = strdup(type)))
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        else
            n++;
    }
    if (d) closedir(d);
    if (n) qsort(types, n, sizeof *types, cmp_str);
    int stop = 0;
    for (size_t i = 0; i < n && !rc && !stop; i++) {
        br_letter *l = NULL;
        br_error e;
        int lr = br_letter_load(repo, types[i], &l, &e);
        if (lr == BR_ENOMEM) {
            rc = lr;
            if (err) *err = e;
            break;
        }
        char source[4200];
        if (l)
            br_strlcpy(source, l->source, sizeof source);
        else
            br_strlcpy(source, e.place.source[0] ? e.place.source : "shipped", sizeof source);
        stop = fn(ctx, types[i], source, lr ? &e : NULL);
        br_letter_free(l);
    }
    for (size_t i = 0; i < n; i++)
        free(types[i]);
    free(types);
    return rc;
}
