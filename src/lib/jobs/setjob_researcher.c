/* Set jobs on researchers (seed 001): Update Set of Researchers (update-researchers) and
 * Delete records from ORCID (delete-orcid).  Their members are researcher ids, loaded by this
 * file's loaders (setjob.h's sj_loader), so both drivers give their own apply.
 *
 * update-researchers: one operation per job changes a copy of the researcher; apply writes it
 * (br_researcher_update) with an undo row keyed "researcher:ROW" whose before is the
 * researcher's JSON as it was and whose after is its version as the job left it, so that a
 * revert (revert.c, br_sj_researcher_revert) puts it back unless it changed since.
 *
 * delete-orcid: for each researcher, every recorded ORCID work (orcid_work) is deleted at
 * ORCID by the client (src/lib/orcid): in the framework's fetch step, before the member's
 * transaction, so that no write lock is held while ORCID answers (one member per batch); apply
 * then forgets the works ORCID removed (204) or no longer has (404) and writes each work's
 * outcome on the researcher's journal line.  A researcher with a work that failed (401/403,
 * another 4xx, 5xx/429 after every try) is failed, its failed works stay recorded for the next
 * run.  With no ORCID API configured nothing is sent: the requests are written to
 * orcid/requests.log and the researcher is skipped.  No undo rows: a deletion at ORCID cannot
 * be undone (a revert says there is nothing to revert). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bulkrepo/researcher.h"
#include "core/core.h"
#include "jobs/setjob.h"
#include "model/researcher_internal.h"
#include "orcid/orcid_internal.h"
#include "store/store_setjob.h"

enum { MAX_CHANGES = 16 };

/* The dry run's lines and the journal note of a member: strings kept here until the next. */
typedef struct changes {
    br_change c[MAX_CHANGES];
    char text[MAX_CHANGES][3][1024];
    size_t n;
    char note[2048];
} changes;

static void change_add(changes *ch, const char *field, const char *old_value, const char *new_value)
{
    if (ch->n >= MAX_CHANGES) return;
    size_t i = ch->n++;
    br_strlcpy(ch->text[i][0], field, sizeof ch->text[i][0]);
    br_strlcpy(ch->text[i][1], old_value ? old_value : "", sizeof ch->text[i][1]);
    br_strlcpy(ch->text[i][2], new_value ? new_value : "", sizeof ch->text[i][2]);
    ch->c[i] = (br_change){ch->text[i][0], old_value ? ch->text[i][1] : NULL,
                           new_value ? ch->text[i][2] : NULL};
    size_t k = strlen(ch->note);
    snprintf(ch->note + k, sizeof ch->note - k, "%s%s: %s → %s", k ? "; " : "", field,
             old_value ? old_value : "(none)", new_value ? new_value : "(none)");
}

/* Today's date, UTC, YYYY-MM-DD. */
static void today(char out[11])
{
    char now[32];
    br_now_iso(now);
    memcpy(out, now, 10);
    out[10] = 0;
}

static char *name_of(const br_researcher *r, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s", r->family, r->given[0] ? ", " : "", r->given);
    return buf;
}

/* ---- loading a researcher ------------------------------------------------------------------ */

/* What both drivers keep of the member being worked on. */
typedef struct member_state {
    br_researcher *r; /* as stored */
    int64_t row;
    char title[600];
} member_state;

static int load_into(member_state *m, sj_item *it, const char *member, br_error *err)
{
    int rc = br_researcher_row(it->repo, member, &m->row, err);
    if (!rc) rc = br_researcher_load_row(it->repo, m->row, m->r, err);
    if (!rc) it->title = name_of(m->r, m->title, sizeof m->title);
    return rc;
}

/* ==== update-researchers ========================================================================
 */

typedef enum opk {
    OP_MANAGE, /* manage-externally: BR_RF_MANAGE_EXTERNALLY on/off */
    OP_FLAG,   /* flag: one of the six researcher flags on/off */
    OP_NOTIFY, /* notifications: BR_RF_NOTIFICATIONS on/off */
    OP_TOPIC_ADD,
    OP_TOPIC_DEL,
    OP_KEYWORD_ADD,
    OP_KEYWORD_DEL,
    OP_NON_AFFIL,  /* make-non-affiliated: affiliated -> non-affiliated */
    OP_PREV_AFFIL, /* make-previously-affiliated: non-affiliated -> previously affiliated */
    OP_CLOSE,      /* close-affiliations: open affiliations of non-affiliated ones end today */
    OP_HARVEST     /* last-harvest: the last smart-harvesting date */
} opk;

static const struct {
    const char *name;
    opk k;
    const char *needs; /* the parameter it must be given, NULL none */
} OPS[] = {{"manage-externally", OP_MANAGE, NULL},
           {"flag", OP_FLAG, "flag"},
           {"notifications", OP_NOTIFY, NULL},
           {"topic-add", OP_TOPIC_ADD, "topics"},
           {"topic-remove", OP_TOPIC_DEL, "topics"},
           {"keyword-add", OP_KEYWORD_ADD, "keywords"},
           {"keyword-remove", OP_KEYWORD_DEL, "keywords"},
           {"make-non-affiliated", OP_NON_AFFIL, NULL},
           {"make-previously-affiliated", OP_PREV_AFFIL, NULL},
           {"close-affiliations", OP_CLOSE, NULL},
           {"last-harvest", OP_HARVEST, NULL}};

typedef struct upd {
    member_state m;
    br_researcher *after;
    opk op;
    unsigned flag; /* OP_MANAGE, OP_FLAG, OP_NOTIFY: the bit */
    int on;
    char terms[4100]; /* topics or keywords, separated by ';' */
    char date[11];    /* OP_HARVEST; OP_CLOSE: today */
    changes ch;
} upd;

static void upd_release(void *state)
{
    upd *u = state;
    if (!u) return;
    br_researcher_free(u->m.r);
    br_researcher_free(u->after);
    free(u);
}

/* A parameter's text (its default when absent) copied into out and trimmed; NULL when neither. */
static char *param(json_t *p, const char *name, char *out, size_t size)
{
    char buf[64];
    const char *v = br_sj_param(p, "update-researchers", name, buf, sizeof buf);
    if (!v) return NULL;
    br_strlcpy(out, v, size);
    return br_trim(out);
}

/* Checks a list of topics or keywords separated by ';': at least one, none too long. */
static int terms_ok(const char *name, const char *list, br_error *err)
{
    int any = 0;
    for (const char *s = list; s && *s;) {
        const char *e = strchr(s, ';');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        while (n && (*s == ' ' || *s == '\t'))
            s++, n--;
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n > BR_RESEARCHER_TEXT_MAX)
            return br_error_set(err, BR_EUSAGE, name, 0, 0,
                                "parameter '%s': '%.40s...' has more than %d bytes", name, s,
                                BR_RESEARCHER_TEXT_MAX);
        any |= n > 0;
        s = e ? e + 1 : NULL;
    }
    return any ? 0
               : br_error_set(err, BR_EUSAGE, name, 0, 0, "the parameter '%s' names none", name);
}

static int upd_prepare(br_repo *repo, json_t *p, void **state, br_error *err)
{
    upd *u = calloc(1, sizeof *u);
    int rc = 0;
    if (!u || !(u->m.r = br_researcher_new()) || !(u->after = br_researcher_new())) {
        upd_release(u);
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    char name[64], v[4100];
    size_t i = 0;
    if (param(p, "operation", name, sizeof name))
        while (i < BR_ARRAY_LEN(OPS) && strcmp(OPS[i].name, name))
            i++;
    else
        i = BR_ARRAY_LEN(OPS);
    if (i == BR_ARRAY_LEN(OPS)) {
        rc = br_error_set(err, BR_EUSAGE, "operation", 0, 0,
                          "update-researchers needs an operation");
        goto done;
    }
    u->op = OPS[i].k;
    const char *needs = OPS[i].needs;
    if (needs && (!param(p, needs, v, sizeof v) || !*v)) {
        rc = br_error_set(err, BR_EUSAGE, needs, 0, 0, "operation %s needs the parameter '%s'",
                          name, needs);
        goto done;
    }
    u->on = br_sj_param_bool(p, "update-researchers", "enable");
    if (u->op == OP_MANAGE) u->flag = BR_RF_MANAGE_EXTERNALLY;
    if (u->op == OP_NOTIFY) u->flag = BR_RF_NOTIFICATIONS;
    if (u->op == OP_FLAG && br_researcher_flag_parse(v, &u->flag))
        rc = br_error_set(err, BR_EUSAGE, "flag", 0, 0, "'%s' is not a researcher flag", v);
    if (!rc && needs && (!strcmp(needs, "topics") || !strcmp(needs, "keywords")) &&
        !(rc = terms_ok(needs, v, err)))
        br_strlcpy(u->terms, v, sizeof u->terms);
    today(u->date);
    if (!rc && u->op == OP_HARVEST && param(p, "date", v, sizeof v) && *v) {
        if (!br_date_ymd_valid(v))
            rc = br_error_set(err, BR_EUSAGE, "date", 0, 0,
                              "parameter 'date': '%.20s' is not a date YYYY-MM-DD", v);
        else
            br_strlcpy(u->date, v, sizeof u->date);
    }
done:
    if (rc)
        upd_release(u);
    else
        *state = u;
    return rc;
}

static int upd_load(sj_item *it, const char *member, br_error *err)
{
    upd *u = it->state;
    return load_into(&u->m, it, member, err);
}

static const char *on_off(unsigned flags, unsigned bit)
{
    return flags & bit ? "on" : "off";
}

static void join(char *const *list, size_t n, char *out, size_t size)
{
    out[0] = 0;
    for (size_t i = 0, k = 0; i < n && k < size; i++, k = strlen(out))
        snprintf(out + k, size - k, "%s%s", i ? " | " : "", list[i]);
}

static void affil_text(const br_researcher_affiliation *a, char *out, size_t size)
{
    snprintf(out, size, "%s %s..%s", a->unit, a->start[0] ? a->start : "", a->end);
}

/* The dry run's lines of a change from u->m.r to u->after. */
static void describe(upd *u)
{
    const br_researcher *a = u->m.r, *b = u->after;
    char x[1024], y[1024];
    if (a->flags != b->flags)
        for (unsigned bit = 1; bit & BR_RF_ALL; bit <<= 1)
            if ((a->flags ^ b->flags) & bit) {
                snprintf(x, sizeof x, "flag %s", br_researcher_flag_name(bit));
                change_add(&u->ch, x, on_off(a->flags, bit), on_off(b->flags, bit));
            }
    if (a->status != b->status)
        change_add(&u->ch, "status", br_researcher_status_name(a->status),
                   br_researcher_status_name(b->status));
    if (strcmp(a->last_harvest, b->last_harvest))
        change_add(&u->ch, "last_harvest", a->last_harvest[0] ? a->last_harvest : NULL,
                   b->last_harvest);
    for (size_t i = 0; i < a->n_affiliations && i < b->n_affiliations; i++)
        if (strcmp(a->affiliations[i].end, b->affiliations[i].end)) {
            affil_text(&a->affiliations[i], x, sizeof x);
            affil_text(&b->affiliations[i], y, sizeof y);
            change_add(&u->ch, "affiliation", x, y);
        }
    if (a->n_topics != b->n_topics) {
        join(a->topics, a->n_topics, x, sizeof x);
        join(b->topics, b->n_topics, y, sizeof y);
        change_add(&u->ch, "topics", x[0] ? x : NULL, y[0] ? y : NULL);
    }
    if (a->n_keywords != b->n_keywords) {
        join(a->keywords, a->n_keywords, x, sizeof x);
        join(b->keywords, b->n_keywords, y, sizeof y);
        change_add(&u->ch, "keywords", x[0] ? x : NULL, y[0] ? y : NULL);
    }
}

/* Applies the operation to u->after (a copy of the researcher): 0, or a reason to skip in
 * it->skip_buf, or BR_ELIMIT / BR_ENOMEM. */
static int operate(upd *u, sj_item *it)
{
    br_researcher *r = u->after;
    char terms[4100];
    switch (u->op) {
    case OP_MANAGE:
    case OP_FLAG:
    case OP_NOTIFY:
        r->flags = u->on ? r->flags | u->flag : r->flags & ~u->flag;
        return 0;
    case OP_TOPIC_ADD:
    case OP_TOPIC_DEL:
    case OP_KEYWORD_ADD:
    case OP_KEYWORD_DEL:
        br_strlcpy(terms, u->terms, sizeof terms);
        for (char *s = terms, *t; s; s = t) {
            t = strchr(s, ';');
            if (t) *t++ = 0;
            if (!*br_trim(s)) continue;
            int rc = 0;
            if (u->op == OP_TOPIC_ADD) rc = br_researcher_add_topic(r, s);
            if (u->op == OP_KEYWORD_ADD) rc = br_researcher_add_keyword(r, s);
            if (u->op == OP_TOPIC_DEL) br_researcher_remove_topic(r, s);
            if (u->op == OP_KEYWORD_DEL) br_researcher_remove_keyword(r, s);
            if (rc == BR_ELIMIT) {
                snprintf(it->skip_buf, sizeof it->skip_buf, "it has %d %s already (the most)",
                         BR_RESEARCHER_LIST_MAX, u->op == OP_TOPIC_ADD ? "topics" : "keywords");
                return 0;
            }
            if (rc < 0) return rc;
        }
        return 0;
    case OP_NON_AFFIL:
        if (r->status == BR_RS_PREVIOUSLY_AFFILIATED)
            snprintf(it->skip_buf, sizeof it->skip_buf,
                     "previously affiliated: not affiliated already");
        r->status = r->status == BR_RS_AFFILIATED ? BR_RS_NON_AFFILIATED : r->status;
        return 0;
    case OP_PREV_AFFIL:
        if (r->status == BR_RS_AFFILIATED)
            snprintf(it->skip_buf, sizeof it->skip_buf,
                     "affiliated: only non-affiliated researchers become previously affiliated "
                     "(make them non-affiliated first)");
        else
            r->status = BR_RS_PREVIOUSLY_AFFILIATED;
        return 0;
    case OP_CLOSE:
        if (r->status == BR_RS_AFFILIATED) {
            snprintf(it->skip_buf, sizeof it->skip_buf,
                     "affiliated: the job closes the current affiliations of non-affiliated "
                     "researchers");
            return 0;
        }
        for (size_t i = 0; i < r->n_affiliations; i++) {
            br_researcher_affiliation *a = &r->affiliations[i];
            if (a->end[0]) continue;
            /* One that starts after today ends the day it starts (never before it). */
            br_strlcpy(a->end, strcmp(a->start, u->date) > 0 ? a->start : u->date, sizeof a->end);
        }
        return 0;
    case OP_HARVEST:
        br_strlcpy(r->last_harvest, u->date, sizeof r->last_harvest);
        return 0;
    }
    return 0;
}

static int upd_plan(sj_item *it, br_error *err)
{
    upd *u = it->state;
    u->ch.n = 0;
    u->ch.note[0] = 0;
    it->skip_buf[0] = 0;
    if (br_researcher_copy(u->after, u->m.r))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    int rc = operate(u, it);
    if (rc) return br_error_set(err, rc, NULL, 0, 0, "out of memory");
    if (it->skip_buf[0]) {
        it->skip = it->skip_buf;
        return 0;
    }
    describe(u);
    if (!u->ch.n) {
        it->skip = "nothing to change";
        return 0;
    }
    it->changes = u->ch.c;
    it->n_changes = u->ch.n;
    it->note = u->ch.note;
    return 0;
}

static int upd_apply(sj_item *it, br_error *err)
{
    upd *u = it->state;
    json_t *j = br_researcher_to_jobj(u->m.r);
    char *before = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!before) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    int rc = br_researcher_update(it->repo, u->after, err);
    if (!rc) {
        char key[64], after[32];
        snprintf(key, sizeof key, BR_RESEARCHER_UNDO_PREFIX "%lld", (long long)u->m.row);
        snprintf(after, sizeof after, "%lld", (long long)u->after->version);
        br_undo_row row = {key, "updated", before, after};
        rc = br_undo_put(it->repo, it->job_id, &row, err);
    }
    free(before);
    return rc;
}

const sj_driver br_sj_researchers = {"update-researchers", BR_OUTCOME_UPDATED, upd_prepare,
                                     upd_release,          upd_plan,           upd_apply};
const sj_loader br_sj_researchers_loader = {&br_sj_researchers, upd_load};

/* ---- revert ---------------------------------------------------------------------------------- */

int br_sj_researcher_revert(br_repo *repo, int64_t job_id, const br_undo_row *row, int apply,
                            int *conflict, const char **why, char *name, size_t size, br_error *err)
{
    *conflict = 0;
    *why = NULL;
    name[0] = 0;
    char *end = NULL;
    long long id = strtoll(row->uuid + strlen(BR_RESEARCHER_UNDO_PREFIX), &end, 10);
    br_researcher *cur = br_researcher_new(), *snap = br_researcher_new();
    int rc = !cur || !snap ? br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory") : 0;
    if (!rc && (!end || *end || id <= 0 || strcmp(row->action, "updated")))
        rc = br_error_set(err, BR_EINVAL, NULL, 0, 0,
                          "an undo row of a researcher that is not "
                          "an update: %s %s",
                          row->uuid, row->action);
    if (!rc) rc = br_researcher_from_json(row->before, snap, err);
    if (!rc) br_strlcpy(name, snap->id, size);
    int found = rc ? rc : br_researcher_load_row(repo, id, cur, NULL);
    if (!rc && found == BR_ENOTFOUND) {
        *conflict = 1;
        *why = "the researcher no longer exists";
    } else if (!rc && found) {
        rc = br_error_set(err, found, NULL, 0, 0, "researcher %lld cannot be read", id);
    } else if (!rc) {
        char now[32];
        snprintf(now, sizeof now, "%lld", (long long)cur->version);
        if (row->after && strcmp(row->after, now)) {
            *conflict = 1;
            *why = "it changed after the job";
        }
        if (strcmp(cur->id, snap->id)) { /* not the same researcher: never written over */
            *conflict = 1;
            *why = "its researcher id changed";
        }
    }
    if (!rc && apply && !(*conflict && (found || strcmp(cur->id, snap->id)))) {
        json_t *j = br_researcher_to_jobj(cur);
        char *before = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(j);
        br_strlcpy(snap->created, cur->created, sizeof snap->created);
        rc = !before ? br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory")
                     : br_researcher_update(repo, snap, err);
        if (!rc && job_id) { /* the revert's own undo row: a revert can be reverted */
            char after[32];
            snprintf(after, sizeof after, "%lld", (long long)snap->version);
            br_undo_row mine = {row->uuid, "updated", before, after};
            rc = br_undo_put(repo, job_id, &mine, err);
        }
        free(before);
    } else if (!rc && apply) {
        rc = br_error_set(err, BR_EINVAL, NULL, 0, 0, "%s", *why);
    }
    br_researcher_free(cur);
    br_researcher_free(snap);
    return rc;
}

/* ==== delete-orcid ==============================================================================
 */

enum { MAX_WORKS = 1000 }; /* works of one researcher deleted per run (the rest: next run) */

typedef struct work_result {
    char put_code[24];
    char handle[64];
    br_orcid_answer a;
} work_result;

typedef struct orc {
    member_state m;
    const br_orcid_client *client;
    void *cs;
    br_orcid_http_opts o;
    char token[1100];
    char api[512];
    /* the member the fetch step worked on, and what became of each of its works */
    char fetched[BR_RESEARCHER_ID_MAX + 1];
    work_result *w;
    size_t n, cap;
    changes ch;
    char skip[2400];
} orc;

static void orc_release(void *state)
{
    orc *o = state;
    if (!o) return;
    if (o->cs) o->client->close(o->cs);
    br_researcher_free(o->m.r);
    free(o->w);
    memset(o->token, 0, sizeof o->token);
    free(o);
}

static int orc_prepare(br_repo *repo, json_t *p, void **state, br_error *err)
{
    orc *o = calloc(1, sizeof *o);
    if (!o || !(o->m.r = br_researcher_new())) {
        orc_release(o);
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    int rc = br_orcid_config_secret(repo, o->api, sizeof o->api, o->token, sizeof o->token, err);
    if (!rc && o->api[0] && !o->token[0])
        rc = br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                          "the ORCID API %s is configured without an access token: `bulkrepo "
                          "orcid config --api URL --token-file FILE` sets one",
                          o->api);
    o->client = o->api[0] ? &br_orcid_member_api : &br_orcid_recorder;
    if (rc)
        orc_release(o);
    else
        *state = o;
    return rc;
}

static int orc_load(sj_item *it, const char *member, br_error *err)
{
    orc *o = it->state;
    return load_into(&o->m, it, member, err);
}

typedef struct collect {
    orc *o;
    int rc;
} collect;

static int collect_work(void *ctx, const br_orcid_work *w)
{
    collect *c = ctx;
    orc *o = c->o;
    if (o->n >= MAX_WORKS) return 1;
    if (br_grow((void **)&o->w, &o->cap, o->n + 1, sizeof *o->w)) return c->rc = BR_ENOMEM;
    work_result *r = &o->w[o->n++];
    memset(r, 0, sizeof *r);
    br_strlcpy(r->put_code, w->put_code, sizeof r->put_code);
    br_strlcpy(r->handle, w->handle ? w->handle : "", sizeof r->handle);
    return 0;
}

/* The works recorded for the loaded researcher into o->w (no answers yet). */
static int works_of(orc *o, br_repo *repo, br_error *err)
{
    o->n = 0;
    collect c = {o, 0};
    int rc = br_orcid_work_of(repo, o->m.row, collect_work, &c, err);
    if (!rc && c.rc) rc = br_error_set(err, c.rc, NULL, 0, 0, "out of memory");
    return rc;
}

/* The fetch step (outside the transaction): each work deleted at ORCID. */
static int orc_fetch(sj_item *it, br_error *err)
{
    orc *o = it->state;
    o->fetched[0] = 0;
    if (!o->m.r->orcid[0]) return 0;
    int rc = works_of(o, it->repo, err);
    if (!rc && !o->cs) {
        o->o.cancelled = it->cancelled;
        o->o.cancel_ctx = it->cancel_ctx;
        rc = o->client->open(it->repo, o->api, o->token, &o->o, &o->cs, err);
    }
    for (size_t i = 0; i < o->n && !rc; i++)
        rc = o->client->delete_work(o->cs, o->m.r->orcid, o->w[i].put_code, &o->w[i].a, err);
    if (!rc) br_strlcpy(o->fetched, o->m.r->id, sizeof o->fetched);
    return rc;
}

static void work_line(const work_result *w, char *out, size_t size)
{
    snprintf(out, size, "put-code %s%s%s%s", w->put_code, w->handle[0] ? " (" : "", w->handle,
             w->handle[0] ? ")" : "");
}

static int orc_plan(sj_item *it, br_error *err)
{
    orc *o = it->state;
    o->ch.n = 0;
    o->ch.note[0] = 0;
    if (!o->m.r->orcid[0]) {
        it->skip = "no ORCID iD";
        return 0;
    }
    int fetched = it->job_id && !strcmp(o->fetched, o->m.r->id);
    int rc = fetched ? 0 : works_of(o, it->repo, err);
    if (rc) return rc;
    if (!o->n) {
        it->skip = "no work bulkrepo pushed to ORCID is recorded";
        return 0;
    }
    char x[200];
    for (size_t i = 0; i < o->n; i++) {
        work_line(&o->w[i], x, sizeof x);
        change_add(&o->ch, "ORCID work", x, NULL);
    }
    if (o->n > MAX_CHANGES) {
        snprintf(x, sizeof x, "%zu more works", o->n - MAX_CHANGES);
        o->ch.n = MAX_CHANGES - 1;
        change_add(&o->ch, "ORCID work", x, NULL);
    }
    it->changes = o->ch.c;
    it->n_changes = o->ch.n;
    return 0;
}

static int orc_apply(sj_item *it, br_error *err)
{
    orc *o = it->state;
    if (strcmp(o->fetched, o->m.r->id)) /* the fetch step did not run for it: a bug */
        return br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "the ORCID requests were not made");
    char *note = o->ch.note;
    size_t size = sizeof o->ch.note;
    note[0] = 0;
    size_t gone = 0, failed = 0, recorded = 0;
    int auth = 0, rc = 0;
    for (size_t i = 0; i < o->n && !rc; i++) {
        const work_result *w = &o->w[i];
        char x[200];
        work_line(w, x, sizeof x);
        size_t k = strlen(note);
        snprintf(note + k, size - k, "%s%s: %s", k ? "; " : "", x, w->a.message);
        if (w->a.outcome == BR_ORCID_DELETED || w->a.outcome == BR_ORCID_GONE) {
            gone++;
            rc = br_orcid_work_remove(it->repo, o->m.row, w->put_code, err);
        } else if (w->a.outcome == BR_ORCID_RECORDED) {
            recorded++;
        } else {
            failed++;
            auth |= w->a.http == 401 || w->a.http == 403;
        }
    }
    if (rc) return rc;
    it->note = note;
    if (failed) /* a per-member failure (not BR_EIO: that would stop the whole job) */
        return br_error_set(err, auth ? BR_EAUTH : BR_EINVAL, NULL, 0, 0,
                            "%zu of %zu ORCID works not deleted: %s", failed, o->n, note);
    if (recorded && !gone) {
        snprintf(o->skip, sizeof o->skip, "no ORCID API is configured, nothing was sent: %s", note);
        it->skip = o->skip;
    }
    return 0;
}

const sj_driver br_sj_orcid = {"delete-orcid", BR_OUTCOME_DELETED, orc_prepare,
                               orc_release,    orc_plan,           orc_apply};
const sj_loader br_sj_orcid_loader = {&br_sj_orcid, orc_load};
const sj_extra br_sj_orcid_extra = {&br_sj_orcid, orc_fetch, 1, NULL};
