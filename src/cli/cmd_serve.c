/* bulkrepo serve: the REST API, the web UI and the job engine's workers. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "../server/server.h"

static const char USAGE[] =
    "usage: bulkrepo serve [--listen HOST:PORT] [--workers N] [--webhook URL]\n"
    "                      [--max-upload BYTES] [--session-ttl SECONDS] [--secure-cookies]\n"
    "                      [--max-connections N] [--max-per-address N] [--head-timeout SECONDS]\n\n"
    "Runs the HTTP server (REST API under /api/, docs/api.md; the web interface at /)\n"
    "and N worker threads that run queued jobs. Listens on 127.0.0.1:8080 unless told\n"
    "otherwise (port 0 picks a free one); prints 'listening on URL' once it does.\n"
    "Users are made with `bulkrepo user add`. --webhook POSTs each completed job's JSON\n"
    "to URL. --max-upload caps each uploaded file (default 512M; K, M, G suffixes,\n"
    "powers of 1000; at most 1000G). --session-ttl is how long a login lasts (default\n"
    "8 hours; 60 seconds to 366 days). --secure-cookies marks the session cookie Secure\n"
    "(when clients reach the server over https, e.g. through a TLS proxy).\n"
    "--max-connections caps open connections (default 1024, 16 to 100000; a 16th of them\n"
    "is kept for authenticated requests), --max-per-address those from one client address\n"
    "(default 64; 0 = no limit), --head-timeout the seconds a client has to send a\n"
    "complete request head (default 10, 1 to 600).\n"
    "SIGINT or SIGTERM stops it; running imports go back to the queue and resume at the\n"
    "next start.\n";

/* Caps on the options: one file over HTTP, and a session (the server adds the
 * TTL to the clock and to cookies, so it must stay far from overflow). */
#define MAX_UPLOAD_CAP  (UINT64_C(1000) * 1000 * 1000 * 1000) /* 1000G */
#define SESSION_TTL_MAX (366LL * 24 * 3600)

int cmd_serve(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {{"listen", required_argument, 0, 'l'},
                                         {"workers", required_argument, 0, 'w'},
                                         {"webhook", required_argument, 0, 'k'},
                                         {"max-upload", required_argument, 0, 'u'},
                                         {"session-ttl", required_argument, 0, 't'},
                                         {"secure-cookies", no_argument, 0, 's'},
                                         {"max-connections", required_argument, 0, 'c'},
                                         {"max-per-address", required_argument, 0, 'a'},
                                         {"head-timeout", required_argument, 0, 'H'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    srv_options o = {0};
    o.repo_dir = c->repo_dir;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (opt) {
        case 'l':
            o.listen = optarg;
            break;
        case 'w': {
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 64) return cli_usage("serve", "--workers takes 1 to 64");
            o.workers = (unsigned)n;
            break;
        }
        case 'k':
            if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8))
                return cli_usage("serve", "--webhook takes an http:// or https:// URL");
            o.webhook = optarg;
            break;
        case 'u':
            if (cli_parse_size(optarg, MAX_UPLOAD_CAP, &o.max_upload))
                return cli_usage("serve",
                                 "--max-upload takes a size in bytes, 1 to 1000G (K, M, G "
                                 "suffixes), not '%s'",
                                 optarg);
            break;
        case 't': {
            errno = 0;
            long long n = strtoll(optarg, &end, 10);
            if (end == optarg || *end || errno || n < 60 || n > SESSION_TTL_MAX)
                return cli_usage("serve", "--session-ttl takes seconds, 60 to %lld (366 days)",
                                 SESSION_TTL_MAX);
            o.session_ttl = n;
            break;
        }
        case 's':
            o.secure_cookies = 1;
            break;
        case 'c':
        case 'a':
        case 'H': {
            /* option, smallest, largest */
            static const struct {
                int opt;
                const char *name;
                long min, max;
            } RANGES[] = {{'c', "--max-connections", 16, 100000},
                          {'a', "--max-per-address", 0, 100000},
                          {'H', "--head-timeout", 1, 600}};
            size_t k = 0;
            while (RANGES[k].opt != opt)
                k++;
            errno = 0;
            long n = strtol(optarg, &end, 10);
            if (end == optarg || *end || errno || n < RANGES[k].min || n > RANGES[k].max)
                return cli_usage("serve", "%s takes %ld to %ld, not '%s'", RANGES[k].name,
                                 RANGES[k].min, RANGES[k].max, optarg);
            if (opt == 'c') o.max_connections = (unsigned)n;
            if (opt == 'a') o.max_per_address = n ? (unsigned)n : SRV_UNLIMITED;
            if (opt == 'H') o.head_timeout = (unsigned)n;
            break;
        }
        case 'h':
            fputs(USAGE, stdout);
            return EXIT_OK;
        default:
            return cli_usage("serve", "unknown option");
        }
    }
    if (optind < argc) return cli_usage("serve", "unexpected argument '%s'", argv[optind]);

    /* Signals go to this thread only (sigwait below), never to the server's
     * or the engine's threads, which inherit this mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    srv *s = NULL;
    br_error err;
    if (srv_start(&o, &s, &err)) return cli_fail(&err);
    printf("listening on %s\n", srv_url(s));
    if (fflush(stdout) || ferror(stdout)) {
        /* Whoever started us waits for this line: without it, stop. */
        fprintf(stderr, "bulkrepo serve: cannot write the address: %s\n", strerror(errno));
        srv_stop(s);
        return EXIT_IOERR;
    }
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "bulkrepo serve: stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    srv_stop(s);
    return EXIT_OK;
}
