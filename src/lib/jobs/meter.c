/* A job's progress (meter.h). */
#include <string.h>
#include <time.h>
#include "core/core.h"
#include "jobs/meter.h"

/* The share of the bar each phase fills. */
static const struct {
    const char *phase;
    int from, to;
} PHASES[] = {
    {BR_PHASE_UNPACKING, 0, 5},       {BR_PHASE_VALIDATING, 5, 45},  {BR_PHASE_WRITING, 45, 95},
    {BR_PHASE_RELATIONSHIPS, 95, 98}, {BR_PHASE_FINALIZING, 98, 99}, {BR_PHASE_EXPORTING, 0, 99},
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void br_meter_init(br_job_meter *m, br_repo *repo, int64_t job_id, int whole)
{
    memset(m, 0, sizeof *m);
    m->repo = repo;
    m->job_id = job_id;
    m->whole = whole;
}

static void record(br_job_meter *m, double now, int percent)
{
    br_job_progress p = {0};
    p.percent = percent;
    p.done = (int64_t)m->done;
    p.total = (int64_t)m->total;
    double el = now - m->phase_start;
    p.rate = el > 0 && m->done >= m->phase_done0 ? (double)(m->done - m->phase_done0) / el : 0;
    p.eta_seconds = percent == 100 ? 0
                    : p.rate > 0 && m->total >= m->done
                        ? (int64_t)((double)(m->total - m->done) / p.rate + 0.5)
                        : -1;
    br_strlcpy(p.phase, m->phase, sizeof p.phase);
    m->last_write = now;
    /* Not the job's failure (meter.h): the next update writes again. */
    (void)br_job_set_progress(m->repo, m->job_id, &p, NULL);
}

static int percent_of(const br_job_meter *m)
{
    int from = 0, to = 99;
    for (size_t i = 0; !m->whole && i < BR_ARRAY_LEN(PHASES); i++)
        if (!strcmp(PHASES[i].phase, m->phase)) from = PHASES[i].from, to = PHASES[i].to;
    if (!m->total) return from;
    size_t done = m->done < m->total ? m->done : m->total;
    return from + (int)((double)(to - from) * (double)done / (double)m->total);
}

void br_meter_update(br_job_meter *m, const char *phase, size_t done, size_t total)
{
    if (!m || !m->repo) return;
    double now = mono_now();
    int changed = strcmp(phase, m->phase) != 0;
    if (changed) {
        br_strlcpy(m->phase, phase, sizeof m->phase);
        m->phase_start = now;
        m->phase_done0 = done ? done - 1 : 0;
    }
    m->done = done;
    m->total = total;
    if (total || done) {
        if (strcmp(m->records_phase, phase)) m->records_start = m->phase_start;
        br_strlcpy(m->records_phase, phase, sizeof m->records_phase);
        m->records_total = total ? total : done;
    }
    if (changed || now - m->last_write >= 0.5) record(m, now, percent_of(m));
}

void br_meter_end(br_job_meter *m, int completed)
{
    if (!m || !m->repo) return;
    if (completed) {
        /* The rate of that phase, over its whole time (not the last phase's few moments). */
        if (m->records_phase[0]) {
            br_strlcpy(m->phase, m->records_phase, sizeof m->phase);
            m->phase_start = m->records_start;
        }
        m->total = m->done = m->records_total;
        m->phase_done0 = 0;
        record(m, mono_now(), 100);
    } else if (m->phase[0]) {
        record(m, mono_now(), percent_of(m));
    }
}
