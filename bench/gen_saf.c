/*
 * gen_saf — deterministic DSpace Simple Archive Format (SAF) package generator
 * for benchmarks and crash/resume tests.
 *
 *   gen_saf DIR N [--seed S] [--file-size BYTES] [--relationships]
 *
 * Writes N item folders DIR/item_000000 ... (zero-padded to at least 6 digits),
 * each holding:
 *   dublin_core.xml        12 dc values (title, 3 authors, date.issued, 3 subjects,
 *                          description.abstract ~300 chars, type, language.iso,
 *                          publisher, identifier.citation)
 *   metadata_dcterms.xml   3 dcterms values (title, alternative, created)
 *   contents               "file_<n>.pdf\tbundle:ORIGINAL\tdescription:Full text"
 *                          (item 0 also "\tprimary:true")
 *   file_<n>.pdf           BYTES bytes (default 4096) of deterministic content,
 *                          unique per item
 *   relationships          with --relationships, every item but the first:
 *                          "relation.isReferencedBy folderName:<previous item>"
 *                          (DSpace's second pass; for the crash/resume test)
 * Values contain non-ASCII text (é, ü, 中) and XML-escaped characters (&amp;).
 * Item k's content depends only on (seed, k), not on N.
 *
 * Exit status: 0 ok, 1 I/O error, 2 usage error.
 * Standalone: libc + POSIX only.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static const char *prog = "gen_saf";

static void usage(FILE *f)
{
    fprintf(f, "usage: %s DIR N [--seed S] [--file-size BYTES] [--relationships]\n", prog);
}

static void help(void)
{
    usage(stdout);
    printf("\nWrite a DSpace Simple Archive Format package of N items into DIR\n"
           "(created if missing). Each item folder item_NNNNNN holds dublin_core.xml,\n"
           "metadata_dcterms.xml (15 values in all), a contents manifest and one\n"
           "bitstream file_<n>.pdf of BYTES bytes (default 4096). Output is\n"
           "deterministic for a given seed (default 1).\n"
           "\n"
           "  --seed S           PRNG seed (unsigned integer)\n"
           "  --file-size BYTES  bitstream size in bytes (0 allowed)\n"
           "  --relationships    every item but the first names the previous one in a\n"
           "                     relationships file\n"
           "  --help             show this help\n");
}

/* ---- PRNG (splitmix64): deterministic, per-item stream ---- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static unsigned rng_below(uint64_t *s, unsigned n)
{
    return (unsigned)(rng_next(s) % n);
}

/* ---- growable buffer ---- */

struct buf {
    char *p;
    size_t len, cap;
};

static void die_oom(void)
{
    fprintf(stderr, "%s: out of memory\n", prog);
    exit(1);
}

static void buf_reserve(struct buf *b, size_t extra)
{
    if (b->len + extra <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) die_oom();
    b->p = p;
    b->cap = cap;
}

static void buf_add(struct buf *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void buf_puts(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) die_oom();
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        buf_reserve(b, (size_t)n + 1);
    }
}

/* Append s with XML text escaping (&, <, >). */
static void buf_xml(struct buf *b, const char *s)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        default:
            continue;
        }
        buf_add(b, run, (size_t)(s - run));
        buf_puts(b, rep);
        run = s + 1;
    }
    buf_add(b, run, (size_t)(s - run));
}

/* ---- vocabulary (raw text; escaped on output) ---- */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const words[] = {
    "adaptive",  "archival",     "Bayesian",      "coastal",       "distributed",  "ecological",
    "federated", "genomic",      "historical",    "interoperable", "longitudinal", "metadata",
    "neural",    "open",         "persistent",    "quantitative",  "résumé",       "sediment",
    "thermal",   "über-scale",   "variational",   "wetland",       "naïve",        "café",
    "Zürich",    "preservation", "repository",    "harvesting",    "provenance",   "curation",
    "R&D",       "scholarly",    "communication", "digitization",  "network",      "corpus",
    "citation",  "ontology",     "lineage",       "benchmark",
};

static const char *const surnames[] = {
    "Müller",   "Dupré",   "García", "Smith",   "O'Brien",  "Nguyễn", "Øberg",
    "Kowalski", "Johnson", "Rossi",  "Lefèvre", "Schröder", "Tanaka", "Ivanova",
    "王",       "李",      "Brown",  "Jäger",   "Silva",    "Novák",
};

static const char *const givennames[] = {
    "Jürgen", "Élodie", "Ana",     "John", "Siobhán", "Minh", "Åsa",   "Piotr", "Mary", "Giulia",
    "Renée",  "Lukas",  "Hiroshi", "Olga", "中華",    "小明", "Grace", "Zoë",   "João", "Tomáš",
};

static const char *const subjects[] = {
    "Digital libraries",
    "Metadata & cataloguing",
    "Hydrology",
    "Genomics",
    "Machine learning",
    "Climate change",
    "Linguistics",
    "Économie",
    "Umweltforschung für Städte",
    "中国历史",
    "Archaeology",
    "Open access",
    "Research data",
    "Materials science",
    "Public health",
    "Astronomy",
};

static const char *const types[] = {
    "Article",          "Book",          "Book chapter", "Dataset", "Thesis",
    "Technical Report", "Working Paper", "Preprint",
};

static const char *const langs[] = {"en", "fr", "de", "zh", "es", "en_US"};

static const char *const publishers[] = {
    "Presses universitaires de Genève",
    "Springer & Partners",
    "Universitätsverlag München",
    "北京大学出版社",
    "Open Science Press",
    "Elsevier & Co.",
};

static const char *const journals[] = {
    "Journal of Digital Curation",
    "Revue d'études numériques",
    "Zeitschrift für Informationswissenschaft",
    "Data & Knowledge Review",
    "中文信息学报",
    "Open Repository Letters",
};

static const char *pick(uint64_t *r, const char *const *v, size_t n)
{
    return v[rng_below(r, (unsigned)n)];
}
#define PICK(r, a) pick((r), (a), COUNT(a))

static void dcvalue_open(struct buf *b, const char *element, const char *qualifier,
                         const char *lang)
{
    buf_puts(b, "  <dcvalue element=\"");
    buf_puts(b, element);
    buf_puts(b, "\" qualifier=\"");
    buf_puts(b, qualifier ? qualifier : "none");
    buf_puts(b, "\"");
    if (lang) {
        buf_puts(b, " language=\"");
        buf_puts(b, lang);
        buf_puts(b, "\"");
    }
    buf_puts(b, ">");
}

static void dcvalue(struct buf *b, const char *element, const char *qualifier, const char *lang,
                    const char *raw)
{
    dcvalue_open(b, element, qualifier, lang);
    buf_xml(b, raw);
    buf_puts(b, "</dcvalue>\n");
}

/* ---- per-item generation ---- */

static void make_title(struct buf *t, uint64_t *r, unsigned long long k)
{
    t->len = 0;
    static const char *const forms[] = {
        "On %s %s in %s systems (item %llu)",
        "A %s study of %s & %s data, no. %llu",
        "%s %s for %s repositories: part %llu",
        "Towards %s, %s and %s curation — %llu",
    };
    const char *f = PICK(r, forms);
    const char *a = PICK(r, words), *b2 = PICK(r, words), *c = PICK(r, words);
    buf_printf(t, f, a, b2, c, k);
}

static void make_abstract(struct buf *a, uint64_t *r, unsigned long long k)
{
    a->len = 0;
    buf_printf(a, "This work (record %llu) examines ", k);
    while (a->len < 290) {
        buf_puts(a, PICK(r, words));
        unsigned x = rng_below(r, 12);
        buf_puts(a, x == 0 ? ", " : x == 1 ? " & " : x == 2 ? ". " : " ");
    }
    buf_puts(a, "with results in Zürich, Montréal and 北京.");
}

static void gen_dublin_core(struct buf *b, struct buf *tmp, uint64_t *r, unsigned long long k)
{
    b->len = 0;
    buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<dublin_core schema=\"dc\">\n");

    make_title(tmp, r, k);
    buf_reserve(tmp, 1);
    tmp->p[tmp->len] = '\0';
    dcvalue(b, "title", NULL, "en", tmp->p);

    for (int i = 0; i < 3; i++) {
        dcvalue_open(b, "contributor", "author", NULL);
        buf_xml(b, PICK(r, surnames));
        buf_puts(b, ", ");
        buf_xml(b, PICK(r, givennames));
        buf_puts(b, "</dcvalue>\n");
    }

    dcvalue_open(b, "date", "issued", NULL);
    buf_printf(b, "%04u-%02u-%02u", 1950 + rng_below(r, 76), 1 + rng_below(r, 12),
               1 + rng_below(r, 28));
    buf_puts(b, "</dcvalue>\n");

    for (int i = 0; i < 3; i++)
        dcvalue(b, "subject", NULL, "en", PICK(r, subjects));

    make_abstract(tmp, r, k);
    buf_reserve(tmp, 1);
    tmp->p[tmp->len] = '\0';
    dcvalue(b, "description", "abstract", "en", tmp->p);

    dcvalue(b, "type", NULL, NULL, PICK(r, types));
    dcvalue(b, "language", "iso", NULL, PICK(r, langs));
    dcvalue(b, "publisher", NULL, NULL, PICK(r, publishers));

    dcvalue_open(b, "identifier", "citation", NULL);
    buf_xml(b, PICK(r, journals));
    unsigned p0 = 1 + rng_below(r, 900);
    buf_printf(b, ", vol. %u, no. %u, pp. %u–%u (%u)", 1 + rng_below(r, 60), 1 + rng_below(r, 12),
               p0, p0 + 5 + rng_below(r, 30), 1950 + rng_below(r, 76));
    buf_puts(b, "</dcvalue>\n");

    buf_puts(b, "</dublin_core>\n");
}

static void gen_dcterms(struct buf *b, uint64_t *r, unsigned long long k)
{
    b->len = 0;
    buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<dublin_core schema=\"dcterms\">\n");
    dcvalue_open(b, "title", NULL, "fr");
    buf_puts(b, "Étude n° ");
    buf_printf(b, "%llu", k);
    buf_puts(b, " : ");
    buf_xml(b, PICK(r, words));
    buf_puts(b, " &amp; ");
    buf_xml(b, PICK(r, words));
    buf_puts(b, "</dcvalue>\n");
    dcvalue_open(b, "alternative", NULL, "zh");
    buf_puts(b, "中文标题 ");
    buf_printf(b, "%llu", k);
    buf_puts(b, " — ");
    buf_xml(b, PICK(r, subjects));
    buf_puts(b, "</dcvalue>\n");
    dcvalue_open(b, "created", NULL, NULL);
    buf_printf(b, "%04u", 1900 + rng_below(r, 126));
    buf_puts(b, "</dcvalue>\n");
    buf_puts(b, "</dublin_core>\n");
}

static void gen_bitstream(struct buf *b, uint64_t seed, unsigned long long k, size_t size)
{
    b->len = 0;
    buf_reserve(b, size + 128);
    int n = snprintf(b->p, 128, "%%PDF-1.4\n%% gen_saf item %llu seed %" PRIu64 "\n", k, seed);
    size_t hdr = (size_t)n;
    uint64_t r = seed ^ (0xA5A5A5A5ULL + k * 0x100000001B3ULL);
    size_t i = hdr;
    while (i < size) {
        uint64_t v = rng_next(&r);
        size_t take = size - i < 8 ? size - i : 8;
        memcpy(b->p + i, &v, take);
        i += take;
    }
    b->len = size; /* header truncated when size is tiny */
}

/* ---- output ---- */

static int write_file(int dirfd, const char *dirname, const char *name, const struct buf *b)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "%s: %s/%s: %s\n", prog, dirname, name, strerror(errno));
        return -1;
    }
    size_t off = 0;
    while (off < b->len) {
        ssize_t w = write(fd, b->p + off, b->len - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "%s: %s/%s: write: %s\n", prog, dirname, name, strerror(errno));
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0) {
        fprintf(stderr, "%s: %s/%s: close: %s\n", prog, dirname, name, strerror(errno));
        return -1;
    }
    return 0;
}

static int parse_ull(const char *s, unsigned long long *out)
{
    if (!s || !*s || *s == '-' || *s == '+') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *nstr = NULL;
    unsigned long long n = 0, seed = 1, fsize = 4096;
    int relationships = 0;

    if (argc > 0 && argv[0] && *argv[0]) {
        const char *slash = strrchr(argv[0], '/');
        prog = slash ? slash + 1 : argv[0];
    }

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            help();
            return 0;
        } else if (!strcmp(a, "--relationships")) {
            relationships = 1;
        } else if (!strcmp(a, "--seed") || !strcmp(a, "--file-size")) {
            unsigned long long v;
            if (i + 1 >= argc || parse_ull(argv[i + 1], &v) != 0) {
                fprintf(stderr, "%s: %s needs a non-negative integer\n", prog, a);
                usage(stderr);
                return 2;
            }
            if (a[2] == 's')
                seed = v;
            else
                fsize = v;
            i++;
        } else if (!strncmp(a, "--seed=", 7) || !strncmp(a, "--file-size=", 12)) {
            unsigned long long v;
            const char *val = strchr(a, '=') + 1;
            if (parse_ull(val, &v) != 0) {
                fprintf(stderr, "%s: bad value in %s\n", prog, a);
                usage(stderr);
                return 2;
            }
            if (a[2] == 's')
                seed = v;
            else
                fsize = v;
        } else if (!strcmp(a, "--")) {
            for (i++; i < argc; i++) {
                if (!dir)
                    dir = argv[i];
                else if (!nstr)
                    nstr = argv[i];
                else {
                    fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[i]);
                    usage(stderr);
                    return 2;
                }
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "%s: unknown option '%s'\n", prog, a);
            usage(stderr);
            return 2;
        } else if (!dir) {
            dir = a;
        } else if (!nstr) {
            nstr = a;
        } else {
            fprintf(stderr, "%s: unexpected argument '%s'\n", prog, a);
            usage(stderr);
            return 2;
        }
    }
    if (!dir || !nstr) {
        usage(stderr);
        return 2;
    }
    if (parse_ull(nstr, &n) != 0) {
        fprintf(stderr, "%s: N must be a non-negative integer, got '%s'\n", prog, nstr);
        usage(stderr);
        return 2;
    }
    if (fsize > (1ULL << 30)) {
        fprintf(stderr, "%s: --file-size too large (max 1 GiB)\n", prog);
        return 2;
    }

    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: mkdir %s: %s\n", prog, dir, strerror(errno));
        return 1;
    }
    int rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, dir, strerror(errno));
        return 1;
    }

    int width = 6;
    for (unsigned long long lim = 1000000; n > lim && width < 20; lim *= 10)
        width++;

    struct buf dc = {0}, dct = {0}, contents = {0}, bits = {0}, tmp = {0}, rel = {0};
    char name[64], fname[64], path[4096];
    int rc = 0;

    for (unsigned long long k = 0; k < n; k++) {
        snprintf(name, sizeof name, "item_%0*llu", width, k);
        snprintf(fname, sizeof fname, "file_%llu.pdf", k);
        snprintf(path, sizeof path, "%s/%s", dir, name);

        if (mkdirat(rootfd, name, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "%s: mkdir %s: %s\n", prog, path, strerror(errno));
            rc = 1;
            break;
        }
        int ifd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ifd < 0) {
            fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
            rc = 1;
            break;
        }

        uint64_t r = (uint64_t)seed * 0x2545F4914F6CDD1DULL + k;
        rng_next(&r);
        gen_dublin_core(&dc, &tmp, &r, k);
        gen_dcterms(&dct, &r, k);
        contents.len = 0;
        buf_puts(&contents, fname);
        buf_puts(&contents, "\tbundle:ORIGINAL\tdescription:Full text");
        if (k == 0) buf_puts(&contents, "\tprimary:true");
        buf_puts(&contents, "\n");
        gen_bitstream(&bits, (uint64_t)seed, k, (size_t)fsize);

        if (write_file(ifd, path, "dublin_core.xml", &dc) ||
            write_file(ifd, path, "metadata_dcterms.xml", &dct) ||
            write_file(ifd, path, "contents", &contents) || write_file(ifd, path, fname, &bits)) {
            close(ifd);
            rc = 1;
            break;
        }
        rel.len = 0;
        if (relationships && k > 0)
            buf_printf(&rel, "relation.isReferencedBy folderName:item_%0*llu\n", width, k - 1);
        if (rel.len && write_file(ifd, path, "relationships", &rel)) {
            close(ifd);
            rc = 1;
            break;
        }
        close(ifd);
    }
    close(rootfd);
    free(dc.p);
    free(dct.p);
    free(contents.p);
    free(bits.p);
    free(tmp.p);
    free(rel.p);
    return rc;
}
