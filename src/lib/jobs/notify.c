/* The job-end mail (delivery.h; docs/delivery.md, docs/mail.md): a short letter (job-ended)
 * to the submitter of a job that asked for it ("notify": DSpace's `import -n`) or whose
 * submitter's setting says so (account.notify_jobs), with the job's counters, what became of
 * an export's delivery and a link to the report.
 *
 * Once per job: the letter is queued in one transaction with a look at the outbox for one
 * already queued for this job (kind job-ended), so an engine that runs the hook again (a
 * resumed job that ends a second time, a crash after the queueing) never queues it twice.
 * The mail is queued right after the job's end is written, not in the same transaction: a job
 * ends in many places (each runner, the engine, recovery); the outbox then delivers it as any
 * other message (never lost, sent once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "bulkrepo/mail.h"
#include "bulkrepo/user.h"
#include "core/core.h"
#include "jobs/deliver.h"
#include "jobs/engine_internal.h"
#include "store/store_mail.h"

#define LETTER "job-ended"

/* ---- the base URL of links (mail.h) ------------------------------------------------------- */

int br_mail_base_url_set(br_repo *repo, const char *url, br_error *err)
{
    if (!url || !*url) return br_mail_base_url_write(repo, "", err);
    size_t n = strlen(url);
    const char *host = !strncmp(url, "http://", 7)    ? url + 7
                       : !strncmp(url, "https://", 8) ? url + 8
                                                      : NULL;
    int ok = host && *host && *host != '/' && n < 512;
    for (const unsigned char *p = (const unsigned char *)url; ok && *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '<' || *p == '>') ok = 0;
    if (!ok)
        return br_error_set(
            err, BR_EUSAGE, "--base-url", 0, 0,
            "'%.200s' is not the web interface's address: http://HOST[:PORT][/PATH] "
            "or https://..., without spaces",
            url);
    return br_mail_base_url_write(repo, url, err);
}

int br_mail_base_url_get(br_repo *repo, char *out, size_t size, br_error *err)
{
    if (!out || !size) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no output");
    return br_mail_base_url_read(repo, out, size, err);
}

/* ---- the letter ----------------------------------------------------------------------------- */

static int param_true(json_t *p, const char *key)
{
    json_t *v = json_object_get(p, key);
    const char *s = json_string_value(v);
    return json_is_true(v) || (json_is_integer(v) && json_integer_value(v)) ||
           (s && (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "on")));
}

/* What became of an export's delivery, one line ("" none). */
static void delivery_line(br_repo *repo, int64_t id, char *out, size_t size)
{
    out[0] = 0;
    char *text = NULL;
    if (br_job_delivery(repo, id, &text, NULL) || !text) return;
    json_t *d = json_loads(text, 0, NULL);
    free(text);
    const char *state = json_string_value(json_object_get(d, "state"));
    const char *dest = json_string_value(json_object_get(d, "destination"));
    const char *ftp = json_string_value(json_object_get(d, "ftp"));
    const char *path = json_string_value(json_object_get(d, "path"));
    const char *error = json_string_value(json_object_get(d, "error"));
    json_int_t attempts = json_integer_value(json_object_get(d, "attempts"));
    char where[400];
    if (dest && !strcmp(dest, "ftp"))
        snprintf(where, sizeof where, "S/FTP configuration %s", ftp ? ftp : "?");
    else
        snprintf(where, sizeof where, "the %s folder", dest ? dest : "?");
    if (state && !strcmp(state, "delivered"))
        snprintf(out, size, "Delivered to %s as %s.", where, path ? path : "?");
    else if (state && !strcmp(state, "failed"))
        snprintf(out, size,
                 "The delivery to %s FAILED after %lld attempt%s: %.400s. The output stays "
                 "downloadable from the job's report.",
                 where, (long long)attempts, attempts == 1 ? "" : "s", error ? error : "");
    else if (state)
        snprintf(out, size, "Not delivered to %s: %.400s.", where, error ? error : state);
    json_decref(d);
}

/* Control characters (a message's line breaks) become spaces: letter values are one line. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = ' ';
}

static int queue_letter(br_repo *repo, const br_job *j, const char *to, br_error *err)
{
    br_mail_config cfg;
    char base[512] = "";
    int rc = br_mail_config_get(repo, &cfg, err);
    if (!rc) rc = br_mail_base_url_get(repo, base, sizeof base, err);
    if (rc) return rc;
    const br_job_counters *k = &j->counters;
    char id[32], counters[400], report[700], delivery[1200], message[1024], name[256];
    snprintf(id, sizeof id, "%lld", (long long)j->id);
    if (!strcmp(j->category, "export"))
        snprintf(counters, sizeof counters, "%lld processed, %lld exported",
                 (long long)k->processed, (long long)k->exported);
    else
        snprintf(counters, sizeof counters,
                 "%lld processed, %lld imported, %lld updated, %lld deleted, %lld not imported",
                 (long long)k->processed, (long long)k->imported, (long long)k->updated,
                 (long long)k->deleted, (long long)k->not_imported);
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        base[--bl] = 0;
    if (base[0])
        snprintf(report, sizeof report, "%s/#/jobs/%s", base, id);
    else
        snprintf(report, sizeof report, "bulkrepo job show %s", id);
    delivery_line(repo, j->id, delivery, sizeof delivery);
    br_strlcpy(message, j->status == BR_JOB_COMPLETED_SUCCESS ? "" : j->message, sizeof message);
    br_strlcpy(name, j->name, sizeof name);
    one_line(message);
    one_line(name);
    one_line(delivery);
    br_letter_vars v = {0};
    v.user_name = j->eperson;
    v.job_id = id;
    v.repository_name = cfg.repository_name[0] ? cfg.repository_name : "bulkrepo";
    v.job_name = name;
    v.job_status = br_job_status_label(j->status);
    v.job_message = message[0] ? message : NULL;
    v.counters = counters;
    v.report = report;
    v.delivery = delivery[0] ? delivery : NULL;
    br_letter *l = NULL;
    char *subject = NULL, *body = NULL;
    if ((rc = br_letter_load(repo, LETTER, &l, err))) return rc;
    rc = br_letter_render(l, &v, &subject, &body, err);
    br_letter_free(l);
    if (!rc) {
        br_mail_message m = {LETTER, to, subject, body, NULL, j->id};
        rc = br_mail_queue(repo, &m, NULL, err);
    }
    free(subject);
    free(body);
    return rc;
}

int br_notify_run(br_engine *eng, br_repo *repo, int64_t id, int force, br_error *err)
{
    br_job j;
    int rc = br_job_get(repo, id, &j, err);
    if (rc) return rc;
    if (!br_job_status_ended(j.status)) return 0;
    json_t *p = json_loads(j.params[0] ? j.params : "{}", 0, NULL);
    int asked = force || param_true(p, "notify"), setting = 0;
    json_decref(p);
    if (!asked && j.eperson[0] && br_user_notify_jobs(repo, j.eperson, &setting, NULL))
        setting = 0; /* no such user (a CLI job's $USER): no setting */
    if (!asked && !setting) return 0;
    char to[BR_MAIL_ADDRESS_MAX + 1] = "";
    br_error e;
    rc = j.eperson[0] ? br_user_mail(repo, j.eperson, to, sizeof to, &e) : BR_ENOTFOUND;
    if (rc == BR_ENOTFOUND) {
        /* Not a user of the repository: its name may still be an address (`-e me@x.org`). */
        br_strlcpy(to, br_mail_address_valid(j.eperson) ? j.eperson : "", sizeof to);
    } else if (rc) {
        if (err) *err = e;
        return rc;
    }
    if (!to[0]) {
        if (j.eperson[0])
            br_engine_event(eng, repo, id, "warning", "mail", NULL,
                            "Nobody could be told that the job ended: the submitter '%s' has no "
                            "mail address (bulkrepo mail address %s ADDRESS)",
                            j.eperson, j.eperson);
        else
            br_engine_event(eng, repo, id, "warning", "mail", NULL,
                            "Nobody could be told that the job ended: it has no submitter");
        return 0;
    }
    int64_t n = 0;
    if ((rc = br_repo_begin(repo, err))) return rc;
    rc = br_mail_rows_of_job_kind(repo, id, LETTER, &n, err);
    if (!rc && !n) rc = queue_letter(repo, &j, to, err);
    if (!rc) rc = br_repo_commit(repo, err);
    if (rc) {
        br_repo_rollback(repo);
        br_engine_event(eng, repo, id, "warning", "mail", NULL,
                        "The job-end mail could not be queued: %s", err ? err->message : "");
        return rc;
    }
    if (!n)
        br_engine_event(eng, repo, id, "info", "mail", NULL,
                        "Job-end mail queued for %s (bulkrepo mail outbox)", to);
    return 0;
}

int br_job_notify_end(br_repo *repo, int64_t id, int force, br_error *err)
{
    return br_notify_run(NULL, repo, id, force, err);
}
