/* A new format is one file: a JSON Lines driver defined here, in a few lines,
 * converts to and from the registry's formats through the one convert loop
 * (br_convert_with, jobs/convert_internal.h) without any change to the loop.
 *
 * The toy format: one record per line, {"key": "...", "dc.title": ["..."],
 * "dc.contributor.author": ["...", "..."]}; any "schema.element[.qualifier]"
 * member is a field with a list of values. */
#define _GNU_SOURCE
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testutil.h"
#include "bulkrepo/bulkrepo.h"
#include "formats/format.h"
#include "jobs/convert_internal.h"

/* ---- the toy driver ------------------------------------------------------------------------- */

struct br_reader {
    FILE *f;
    br_diag_sink *diags;
    char *line;
    size_t cap;
    unsigned lineno;
    char key[256];
};

static int toy_open(const br_read_options *opt, br_reader **out, br_error *err)
{
    br_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->f = fopen(opt->source, "r"))) {
        free(r);
        return br_error_set(err, BR_ENOTFOUND, opt->source, 0, 0, "cannot open");
    }
    r->diags = opt->diags;
    *out = r;
    return 0;
}

/* "dc.contributor.author" -> schema, element, qualifier (in buf). */
static int split_field(const char *name, char *buf, size_t size, const char **parts)
{
    snprintf(buf, size, "%s", name);
    parts[0] = buf;
    parts[1] = parts[2] = NULL;
    char *dot = strchr(buf, '.');
    if (!dot) return -1;
    *dot = 0;
    parts[1] = dot + 1;
    if ((dot = strchr(dot + 1, '.'))) *dot = 0, parts[2] = dot + 1;
    return 0;
}

static int toy_next(br_reader *r, br_record *rec, br_read_info *info, br_error *err)
{
    memset(info, 0, sizeof *info);
    if (getline(&r->line, &r->cap, r->f) < 0) return 0;
    br_record_reset(rec);
    info->first_line = info->last_line = ++r->lineno;
    json_error_t je;
    json_t *j = json_loads(r->line, 0, &je);
    snprintf(r->key, sizeof r->key, "line_%u", r->lineno);
    if (j && json_is_string(json_object_get(j, "key")))
        snprintf(r->key, sizeof r->key, "%s", json_string_value(json_object_get(j, "key")));
    info->key = r->key;
    if (!json_is_object(j)) {
        br_diag_emitf(r->diags, BR_SEV_ERROR, r->key, "in.jsonl", r->lineno, 0, "toy.json", NULL,
                      "not a JSON object: %s", je.text);
        info->errors = 1;
        json_decref(j);
        return 1;
    }
    const char *name;
    json_t *vals;
    json_object_foreach(j, name, vals)
    {
        char buf[256];
        const char *p[3];
        if (!strcmp(name, "key") || split_field(name, buf, sizeof buf, p)) continue;
        for (size_t i = 0; i < json_array_size(vals); i++)
            br_record_add_md(rec, p[0], p[1], p[2], NULL,
                             json_string_value(json_array_get(vals, i)));
    }
    json_decref(j);
    return 1;
}

static int toy_rewind(br_reader *r, br_error *err)
{
    rewind(r->f);
    r->lineno = 0;
    return 0;
}

static void toy_close(br_reader *r)
{
    if (!r) return;
    fclose(r->f);
    free(r->line);
    free(r);
}

struct br_writer {
    FILE *f;
    char tmp[4096], dest[4096];
    br_write_stats local, *stats;
};

static int toy_writer_open(const br_write_options *opt, br_writer **out, br_error *err)
{
    *out = NULL;
    if (opt->on_column) return 0;
    br_writer *w = calloc(1, sizeof *w);
    snprintf(w->dest, sizeof w->dest, "%s", opt->dest);
    snprintf(w->tmp, sizeof w->tmp, "%s.tmp", opt->dest);
    w->stats = opt->stats ? opt->stats : &w->local;
    if (!(w->f = fopen(w->tmp, "wx"))) {
        free(w);
        return br_error_set(err, BR_EIO, opt->dest, 0, 0, "cannot create");
    }
    *out = w;
    return 0;
}

static int toy_write(br_writer *w, const char *key, br_record *rec, br_error *err)
{
    if (key && !strcmp(key, "boom")) return br_error_set(err, BR_EIO, key, 0, 0, "boom");
    json_t *j = json_pack("{s:s}", "key", key ? key : rec->handle);
    for (size_t i = 0; i < rec->n_md; i++) {
        char name[256];
        const br_mdv *v = &rec->md[i];
        snprintf(name, sizeof name, "%s.%s%s%s", v->schema, v->element, v->qualifier ? "." : "",
                 v->qualifier ? v->qualifier : "");
        if (!json_object_get(j, name)) json_object_set_new(j, name, json_array());
        json_array_append_new(json_object_get(j, name), json_string(v->value));
    }
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    int bad = !s || fprintf(w->f, "%s\n", s) < 0;
    free(s);
    if (bad) return br_error_set(err, BR_EIO, w->dest, 0, 0, "write failed");
    w->stats->records++;
    return 0;
}

static void toy_writer_abort(br_writer *w)
{
    if (!w) return;
    if (w->f) fclose(w->f);
    unlink(w->tmp);
    free(w);
}

static int toy_writer_close(br_writer *w, br_error *err)
{
    int rc = fclose(w->f) || rename(w->tmp, w->dest)
                 ? br_error_set(err, BR_EIO, w->dest, 0, 0, "cannot finish")
                 : 0;
    w->f = NULL;
    toy_writer_abort(w);
    return rc;
}

/* The registry row a real format would add (registry.c). */
static const br_format toy = {
    BR_FORMAT_DRIVER_VERSION,
    {.name = "jsonl",
     .label = "JSON Lines",
     .short_label = "JSONL",
     .unit = "records",
     .extensions = ".jsonl",
     .caps = BR_FORMAT_READ | BR_FORMAT_WRITE},
    .open = toy_open,
    .next = toy_next,
    .rewind = toy_rewind,
    .close = toy_close,
    .writer_open = toy_writer_open,
    .write = toy_write,
    .writer_close = toy_writer_close,
    .writer_abort = toy_writer_abort,
};

/* ---- tests ---------------------------------------------------------------------------------- */

typedef struct fixture {
    char *tmp;
    tu_log log;
    br_diag_sink sink;
} fixture;

static void on_diag(void *ctx, const br_diag *d)
{
    tu_log_printf(ctx, "%s %s %s\n", br_severity_name(d->severity), d->rule ? d->rule : "",
                  d->message);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->tmp = tu_tmpdir();
    tu_log_init(&f->log);
    f->sink = (br_diag_sink){on_diag, &f->log, 0, 0, 0};
    tu_write(f->tmp, "pkg/one/dublin_core.xml",
             "<dublin_core>\n  <dcvalue element=\"title\">First</dcvalue>\n"
             "  <dcvalue element=\"contributor\" qualifier=\"author\">Smith, Ann</dcvalue>\n"
             "</dublin_core>\n");
    tu_write(f->tmp, "pkg/two/dublin_core.xml",
             "<dublin_core>\n  <dcvalue element=\"title\">Second</dcvalue>\n</dublin_core>\n");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_log_dispose(&f->log);
    tu_rmtree(f->tmp);
    free(f->tmp);
    free(f);
    return 0;
}

static int convert(fixture *f, const br_format *from, const br_format *to, const char *in,
                   const char *out, br_convert_result *res)
{
    br_convert_options o = {0};
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s", tu_path(f->tmp, in));
    snprintf(b, sizeof b, "%s", tu_path(f->tmp, out));
    o.in = a;
    o.out = b;
    o.diags = &f->sink;
    br_error err;
    br_error_clear(&err);
    return br_convert_with(from, to, &o, res, &err);
}

static void test_saf_to_toy_and_back(void **state)
{
    fixture *f = *state;
    br_convert_result res;
    assert_int_equal(convert(f, &br_format_saf, &toy, "pkg", "out.jsonl", &res), 0);
    assert_int_equal(res.records, 2);
    assert_file_equals(tu_path(f->tmp, "out.jsonl"),
                       "{\"key\":\"one\",\"dc.title\":[\"First\"],"
                       "\"dc.contributor.author\":[\"Smith, Ann\"]}\n"
                       "{\"key\":\"two\",\"dc.title\":[\"Second\"]}\n");
    /* toy -> SAF: one folder per key */
    assert_int_equal(convert(f, &toy, &br_format_saf, "out.jsonl", "back", &res), 0);
    assert_int_equal(res.records, 2);
    char *dc = tu_read(tu_path(f->tmp, "back/one/dublin_core.xml"));
    assert_contains(dc, "qualifier=\"author\">Smith, Ann</dcvalue>");
    free(dc);
    /* toy -> Esploro CSV: GROUP_ID is the key */
    assert_int_equal(convert(f, &toy, &br_format_esploro_csv, "out.jsonl", "out.csv", &res), 0);
    char *csv = tu_read(tu_path(f->tmp, "out.csv"));
    assert_contains(csv, ",GROUP_ID,");
    assert_contains(csv, "\nASSET,one,First,");
    assert_contains(csv, "\nCREATOR,one,");
    free(csv);
}

/* A zipped package: unpacked into a scratch folder under $TMPDIR, removed after. */
static void test_zipped_saf(void **state)
{
    fixture *f = *state;
    br_error err;
    mkdir(tu_path(f->tmp, "scratch"), 0755);
    assert_int_equal(br_zip_create(tu_path(f->tmp, "pkg"), tu_path(f->tmp, "pkg.zip"), &err), 0);
    char *old = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
    setenv("TMPDIR", tu_path(f->tmp, "scratch"), 1);
    br_convert_result res;
    int rc = convert(f, &br_format_saf, &toy, "pkg.zip", "z.jsonl", &res);
    if (old)
        setenv("TMPDIR", old, 1);
    else
        unsetenv("TMPDIR");
    free(old);
    assert_int_equal(rc, 0);
    assert_int_equal(res.records, 2);
    assert_int_equal(convert(f, &br_format_saf, &toy, "pkg", "d.jsonl", &res), 0);
    char *z = tu_read(tu_path(f->tmp, "z.jsonl")), *d = tu_read(tu_path(f->tmp, "d.jsonl"));
    assert_string_equal(z, d);
    free(z);
    free(d);
    assert_int_equal(tu_count_entries(tu_path(f->tmp, "scratch")), 0);
}

/* Invalid input: nothing written; a writer that fails: nothing left either. */
static void test_nothing_written(void **state)
{
    fixture *f = *state;
    br_convert_result res;
    tu_write(f->tmp, "bad.jsonl", "{\"key\":\"a\",\"dc.title\":[\"A\"]}\nnot json\n");
    assert_int_equal(convert(f, &toy, &br_format_saf, "bad.jsonl", "out", &res), BR_EINVAL);
    assert_int_equal(res.invalid, 1);
    assert_contains(f->log.text, "error toy.json not a JSON object");
    assert_false(tu_exists(tu_path(f->tmp, "out")));
    tu_write(f->tmp, "boom/a/dublin_core.xml",
             "<dublin_core><dcvalue element=\"title\">A</dcvalue></dublin_core>\n");
    tu_write(f->tmp, "boom/boom/dublin_core.xml",
             "<dublin_core><dcvalue element=\"title\">B</dcvalue></dublin_core>\n");
    assert_int_equal(convert(f, &br_format_saf, &toy, "boom", "boom.jsonl", &res), BR_EIO);
    assert_false(tu_exists(tu_path(f->tmp, "boom.jsonl")));
    assert_false(tu_exists(tu_path(f->tmp, "boom.jsonl.tmp")));
    /* the same format on both sides is a usage error */
    assert_int_equal(convert(f, &toy, &toy, "bad.jsonl", "x", &res), BR_EUSAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_saf_to_toy_and_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zipped_saf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_written, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
