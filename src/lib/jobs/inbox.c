/* Drop-folder ingest (issue 4 section 4). */
#define _GNU_SOURCE
#include "engine_internal.h"

void *br_inbox_main(void *eng)
{
    (void)eng;
    return NULL;
}

void br_inbox_finish(br_engine *eng, br_repo *repo, const br_job *job)
{
    (void)eng;
    (void)repo;
    (void)job;
}

int br_inbox_recover(br_repo *repo, br_error *err)
{
    (void)repo;
    (void)err;
    return 0;
}
