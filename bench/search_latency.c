/* bench/search_latency: the latency of search queries on a repository, as staff see it (the
 * first page of 20 hits by rank, and the total), through the library's public API.
 *
 *   search_latency REPO RUNS QUERY...
 *
 * Opens the repository once, runs every query RUNS times (after one warm-up run each) and
 * prints per query: hits, p50, p99 and max in milliseconds, tab-separated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bulkrepo/bulkrepo.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int hit(void *ctx, const br_item_summary *s)
{
    (void)s;
    ++*(long *)ctx;
    return 0;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: search_latency REPO RUNS QUERY...\n");
        return 2;
    }
    int runs = atoi(argv[2]);
    if (runs < 1) return 2;
    br_repo *repo;
    br_error err;
    if (br_repo_open(argv[1], &repo, &err)) {
        fprintf(stderr, "search_latency: %s\n", err.message);
        return 4;
    }
    double *t = malloc(sizeof *t * (size_t)runs);
    int rc = t ? 0 : 4;
    for (int q = 3; q < argc && !rc; q++) {
        br_search_query sq = {argv[q], 20, 0, BR_SEARCH_BY_RANK};
        int64_t total = 0;
        for (int i = -1; i < runs && !rc; i++) {
            long n = 0;
            double t0 = now_ms();
            if (br_search(repo, &sq, hit, &n, &total, &err)) {
                fprintf(stderr, "search_latency: %s: %s\n", argv[q], err.message);
                rc = 4;
            }
            if (i >= 0) t[i] = now_ms() - t0;
        }
        if (rc) break;
        qsort(t, (size_t)runs, sizeof *t, cmp);
        printf("%s\t%lld\t%.2f\t%.2f\t%.2f\n", argv[q], (long long)total, t[runs / 2],
               t[(runs * 99) / 100 < runs ? (runs * 99) / 100 : runs - 1], t[runs - 1]);
    }
    free(t);
    br_repo_free(repo);
    return rc;
}
