/* The parameters of set jobs (data/job_params.tsv; setjob.h): listing and checking. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "bulkrepo/setjob.h"
#include "bulkrepo/user.h"
#include "core/core.h"
#include "jobs/setjob.h"

extern const char br_job_params_tsv[];

static const char *const KINDS[] = {"bool", "int", "enum", "text", "regex", "field"};

const char *br_param_kind_name(br_param_kind k)
{
    return (size_t)k < BR_ARRAY_LEN(KINDS) ? KINDS[k] : "?";
}

void br_job_param_list(const char *type, br_job_param_fn fn, void *ctx)
{
    const char *p = br_job_params_tsv;
    char buf[4096], *c[9];
    int n;
    while (type && (n = br_tsv_next(&p, buf, sizeof buf, c, 9)) > 0) {
        if (n < 8 || strcmp(c[0], type)) continue;
        br_job_param jp;
        memset(&jp, 0, sizeof jp);
        br_strlcpy(jp.name, c[1], sizeof jp.name);
        for (size_t k = 0; k < BR_ARRAY_LEN(KINDS); k++)
            if (!strcmp(c[2], KINDS[k])) jp.kind = (br_param_kind)k;
        jp.required = !strcmp(c[3], "1");
        br_strlcpy(jp.def, c[4], sizeof jp.def);
        br_strlcpy(jp.values, c[5], sizeof jp.values);
        br_strlcpy(jp.label, c[6], sizeof jp.label);
        br_strlcpy(jp.help, c[7], sizeof jp.help);
        if (n > 8) br_strlcpy(jp.when, c[8], sizeof jp.when);
        if (fn(ctx, &jp)) return;
    }
}

/* A comma-separated list as a JSON array of strings. */
static json_t *list_json(const char *s)
{
    json_t *a = json_array();
    while (a && *s) {
        size_t n = strcspn(s, ",");
        json_array_append_new(a, json_stringn(s, n));
        s += n + (s[n] == ',');
    }
    return a;
}

int br_job_param_json(const br_job_param *p, char **out, br_error *err)
{
    json_t *def = json_null(), *values = json_null(), *when = json_null();
    long long lo, hi;
    if (p->def[0] && p->kind == BR_PARAM_BOOL)
        def = json_boolean(!strcmp(p->def, "true"));
    else if (p->def[0] && p->kind == BR_PARAM_INT)
        def = json_integer(strtoll(p->def, NULL, 10));
    else if (p->def[0])
        def = json_string(p->def);
    if (p->kind == BR_PARAM_ENUM)
        values = list_json(p->values);
    else if (p->kind == BR_PARAM_INT && sscanf(p->values, "%lld..%lld", &lo, &hi) == 2)
        values = json_pack("{s:I,s:I}", "min", (json_int_t)lo, "max", (json_int_t)hi);
    const char *eq = strchr(p->when, '=');
    char key[64];
    if (eq && (size_t)(eq - p->when) < sizeof key) {
        memcpy(key, p->when, (size_t)(eq - p->when));
        key[eq - p->when] = 0;
        when = json_pack("{s:o}", key, list_json(eq + 1));
    }
    json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:o,s:o,s:s,s:o}", "name", p->name, "kind",
                          br_param_kind_name(p->kind), "label", p->label, "required", p->required,
                          "default", def, "values", values, "help", p->help, "when", when);
    *out = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return *out ? 0 : br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
}

typedef struct find_ctx {
    const char *name;
    br_job_param *out;
    int found;
    char names[512];
} find_ctx;

static int find_one(void *ctx, const br_job_param *p)
{
    find_ctx *f = ctx;
    size_t n = strlen(f->names);
    snprintf(f->names + n, sizeof f->names - n, "%s%s", n ? ", " : "", p->name);
    if (f->name && !strcmp(p->name, f->name)) {
        *f->out = *p;
        f->found = 1;
    }
    return 0;
}

int br_sj_param_find(const char *type, const char *name, br_job_param *out, char *names,
                     size_t size)
{
    find_ctx f = {name, out, 0, ""};
    br_job_param_list(type, find_one, &f);
    if (names) br_strlcpy(names, f.names[0] ? f.names : "none", size);
    return f.found;
}

/* A value as text: strings as they are, booleans and integers spelled out. */
const char *br_sj_value_text(json_t *v, char *buf, size_t size)
{
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_true(v)) return "true";
    if (json_is_false(v)) return "false";
    if (json_is_integer(v)) {
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    return NULL;
}

static int in_list(const char *v, const char *list)
{
    size_t n = strlen(v);
    for (const char *s = list; *s;) {
        const char *e = strchr(s, ',');
        size_t k = e ? (size_t)(e - s) : strlen(s);
        if (k == n && !strncmp(s, v, n)) return 1;
        s += k + (e ? 1 : 0);
    }
    return 0;
}

/* ---- the size of a compiled expression ----
 *
 * glibc's regcomp copies what a repetition repeats (a+ becomes a a*, a{2,5} five copies), so
 * stacked or nested repetitions multiply: "a++++++++++++++++++++++++++" or "((a{99}){99}){99}"
 * take gigabytes to compile, well within 512 bytes.  This
 * estimates the nodes of the compiled expression by the same rule, so that such an expression
 * is refused before regcomp sees it. */

enum { RX_NODES_MAX = 10000, RX_DEPTH_MAX = 64 };

typedef struct rx {
    const char *p;
    int depth;
} rx;

static double rx_alt(rx *x);

/* A bracket expression, from its '[': [^]a-z[:alpha:][.-.][=e=]] */
static void rx_bracket(rx *x)
{
    const char *p = x->p + 1;
    if (*p == '^') p++;
    if (*p == ']') p++;
    while (*p && *p != ']') {
        if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
            char end = p[1];
            p += 2;
            while (*p && !(*p == end && p[1] == ']'))
                p++;
            if (*p) p += 2;
        } else {
            p++;
        }
    }
    x->p = *p ? p + 1 : p;
}

static double rx_atom(rx *x)
{
    if (*x->p == '(') {
        x->p++;
        if (++x->depth > RX_DEPTH_MAX) return 1e18;
        double n = rx_alt(x);
        x->depth--;
        if (*x->p == ')') x->p++;
        return n + 1;
    }
    if (*x->p == '[')
        rx_bracket(x);
    else
        x->p += *x->p == '\\' && x->p[1] ? 2 : 1;
    return 1;
}

/* An interval {m}, {m,} or {m,n} at x->p: its largest count, or -1 when it is none. */
static double rx_interval(rx *x)
{
    const char *p = x->p + 1;
    double m = 0, n = -1;
    if (*p < '0' || *p > '9') return -1;
    while (*p >= '0' && *p <= '9')
        m = m * 10 + (*p++ - '0');
    if (*p == ',') {
        p++;
        if (*p >= '0' && *p <= '9') n = 0;
        while (*p >= '0' && *p <= '9')
            n = n * 10 + (*p++ - '0');
    }
    if (*p != '}') return -1;
    x->p = p + 1;
    return n > m ? n : m;
}

static double rx_piece(rx *x)
{
    double n = rx_atom(x);
    for (;;) {
        if (*x->p == '*' || *x->p == '+' || *x->p == '?') {
            x->p++;
            n = n * 2 + 1;
        } else if (*x->p == '{') {
            double k = rx_interval(x);
            if (k < 0) break;
            n = n * (k + 1) + 1;
        } else {
            break;
        }
    }
    return n;
}

static double rx_alt(rx *x)
{
    double n = 0;
    for (;;) {
        while (*x->p && *x->p != '|' && *x->p != ')')
            n += rx_piece(x);
        if (*x->p != '|') return n;
        x->p++;
        n++;
    }
}

/* The estimated node count of the compiled pattern (a stray ')' is a literal here). */
static double rx_nodes(const char *pat)
{
    rx x = {pat, 0};
    double n = 0;
    while (*x.p) {
        n += rx_alt(&x);
        if (*x.p == ')') {
            x.p++;
            n++;
        }
    }
    return n;
}

int br_sj_regex_check(const char *pattern, regex_t *re, br_error *err)
{
    if (strlen(pattern) > 512)
        return br_error_set(err, BR_EUSAGE, "from", 0, 0,
                            "the regular expression is longer than 512 bytes");
    /* Back-references make POSIX matching exponential; without them glibc's matcher is
     * bounded by the pattern and value sizes, which are capped. */
    for (const char *s = pattern; *s; s++) {
        if (*s == '\\' && s[1] >= '1' && s[1] <= '9')
            return br_error_set(err, BR_EUSAGE, "from", 0, (unsigned)(s - pattern) + 1,
                                "back-references (\\%c) are not allowed in a regular expression: "
                                "they can make matching run away",
                                s[1]);
        if (*s == '\\' && s[1]) s++;
    }
    if (rx_nodes(pattern) > RX_NODES_MAX)
        return br_error_set(err, BR_EUSAGE, "from", 0, 0,
                            "the regular expression repeats too much: stacked or nested "
                            "repetitions (a++, (a{9}){9}) multiply what it compiles to (at most "
                            "%d parts)",
                            RX_NODES_MAX);
    regex_t tmp;
    int rc = regcomp(re ? re : &tmp, pattern, REG_EXTENDED);
    if (rc) {
        char msg[256];
        regerror(rc, re ? re : &tmp, msg, sizeof msg);
        return br_error_set(err, BR_EUSAGE, "from", 0, 0,
                            "the regular expression /%s/ does not compile: %s", pattern, msg);
    }
    if (!re) regfree(&tmp);
    return 0;
}

static int check_value(br_repo *repo, const char *type, const br_job_param *p, json_t *v,
                       br_error *err)
{
    char buf[32];
    const char *s = br_sj_value_text(v, buf, sizeof buf);
    if (!s)
        return br_error_set(err, BR_EUSAGE, p->name, 0, 0,
                            "parameter '%s' of %s must be a %s value", p->name, type,
                            br_param_kind_name(p->kind));
    switch (p->kind) {
    case BR_PARAM_BOOL:
        if (strcmp(s, "true") && strcmp(s, "false"))
            return br_error_set(err, BR_EUSAGE, p->name, 0, 0,
                                "parameter '%s': '%s' is not true or false", p->name, s);
        return 0;
    case BR_PARAM_INT: {
        char *end;
        long long x = strtoll(s, &end, 10), lo = 0, hi = 0;
        if (!*s || *end)
            return br_error_set(err, BR_EUSAGE, p->name, 0, 0,
                                "parameter '%s': '%s' is not a whole number", p->name, s);
        if (sscanf(p->values, "%lld..%lld", &lo, &hi) == 2 && (x < lo || x > hi))
            return br_error_set(err, BR_EUSAGE, p->name, 0, 0,
                                "parameter '%s': %lld is outside %lld..%lld", p->name, x, lo, hi);
        return 0;
    }
    case BR_PARAM_ENUM:
        if (!in_list(s, p->values))
            return br_error_set(err, BR_EUSAGE, p->name, 0, 0,
                                "parameter '%s': '%s' is not one of %s", p->name, s, p->values);
        return 0;
    case BR_PARAM_REGEX:
        return br_sj_regex_check(s, NULL, err);
    case BR_PARAM_FIELD: {
        char sc[64], el[64], q[64];
        if (br_field_parse(s, sc, el, q) || !br_registry_has(repo, sc, el, q[0] ? q : NULL))
            return br_error_set(err, BR_EUSAGE, p->name, 0, 0,
                                "parameter '%s': '%s' is not a field of the registry "
                                "(bulkrepo registry list)",
                                p->name, s);
        return 0;
    }
    case BR_PARAM_TEXT:
        if (strlen(s) > 4096)
            return br_error_set(err, BR_EUSAGE, p->name, 0, 0,
                                "parameter '%s' is longer than 4096 bytes", p->name);
        return 0;
    }
    return 0;
}

typedef struct req_ctx {
    json_t *params;
    const char *type;
    br_error *err;
    int rc;
} req_ctx;

static int check_required(void *ctx, const br_job_param *p)
{
    req_ctx *c = ctx;
    json_t *v = json_object_get(c->params, p->name);
    if (p->required && (!v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v)))) {
        c->rc = br_error_set(c->err, BR_EUSAGE, p->name, 0, 0, "%s needs the parameter '%s' (%s)",
                             c->type, p->name, p->label);
        return 1;
    }
    return 0;
}

/* A parameter given a value other than its default where its "applies when" does not hold
 * (update-set's "from" with operation field-add) would be silently ignored: refused instead. */
static int check_applies(const char *type, const br_job_param *p, json_t *params, json_t *v,
                         br_error *err)
{
    const char *eq = strchr(p->when, '=');
    char buf[32], key[64], ob[256];
    const char *given = br_sj_value_text(v, buf, sizeof buf);
    if (!eq || (size_t)(eq - p->when) >= sizeof key ||
        (given && p->def[0] && !strcmp(given, p->def)))
        return 0;
    memcpy(key, p->when, (size_t)(eq - p->when));
    key[eq - p->when] = 0;
    const char *other = br_sj_param(params, type, key, ob, sizeof ob);
    if (other && in_list(other, eq + 1)) return 0;
    return br_error_set(err, BR_EUSAGE, p->name, 0, 0,
                        "parameter '%s' of %s applies only when %s is one of %s (%s is %s)",
                        p->name, type, key, eq + 1, key, other ? other : "not given");
}

int br_sj_params_check(br_repo *repo, const char *type, json_t *params, br_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(params, key, v)
    {
        if (!strcmp(key, "set")) continue;
        br_job_param p;
        char names[512];
        if (!br_sj_param_find(type, key, &p, names, sizeof names))
            return br_error_set(err, BR_EUSAGE, key, 0, 0,
                                "%s takes no parameter '%s' (it takes: %s)", type, key, names);
        int rc = check_value(repo, type, &p, v, err);
        if (!rc) rc = check_applies(type, &p, params, v, err);
        if (rc) return rc;
    }
    req_ctx c = {params, type, err, 0};
    br_job_param_list(type, check_required, &c);
    return c.rc;
}

const char *br_sj_param(json_t *params, const char *type, const char *name, char *buf, size_t size)
{
    json_t *v = json_object_get(params, name);
    const char *s = v ? br_sj_value_text(v, buf, size) : NULL;
    if (s) return s;
    br_job_param p;
    if (br_sj_param_find(type, name, &p, NULL, 0) && p.def[0]) {
        br_strlcpy(buf, p.def, size);
        return buf;
    }
    return NULL;
}

int br_sj_param_bool(json_t *params, const char *type, const char *name)
{
    char buf[64];
    const char *s = br_sj_param(params, type, name, buf, sizeof buf);
    return s && !strcmp(s, "true");
}
