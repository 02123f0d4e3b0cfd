/* The ONIX for Books driver: its description, its reader (an ONIX file, or a
 * zip holding one ONIX file and the files its SupportingResource links name)
 * and its extract, the unimported download: an ONIX message of the rejected
 * products, each copied byte for byte from the input with the input's own
 * prologue and Header, each preceded by a comment listing its findings
 * ("<!-- bulkrepo: KEY: finding -->"), so the file can be fixed and imported
 * again as it is. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bulkrepo/saf.h"
#include "core/core.h"
#include "formats/onix_internal.h"

struct br_reader {
    br_onix_rd *rd;
    char *strings; /* the paths the product reader keeps */
};

static int has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return n > e && !strcasecmp(name + n - e, ext);
}

/* The one .xml file of a folder (an unpacked zip): its path into out. */
static int find_xml(const char *dir, char *out, size_t size, br_error *err)
{
    DIR *d = opendir(dir);
    if (!d) return br_error_set(err, BR_EIO, dir, 0, 0, "cannot read the unpacked zip");
    int found = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !has_ext(e->d_name, ".xml")) continue;
        if (found++) {
            rc = br_error_set(err, BR_EINVAL, NULL, 0, 0,
                              "the zip holds more than one .xml file: give it one ONIX message");
            break;
        }
        if (br_path_join(out, size, dir, e->d_name))
            rc = br_error_set(err, BR_ELIMIT, dir, 0, 0, "path too long");
    }
    closedir(d);
    if (!rc && !found)
        rc = br_error_set(err, BR_EINVAL, NULL, 0, 0, "the zip holds no .xml ONIX message");
    return rc;
}

/* The ONIX file of the input (a zip is unpacked into scratch) and the folder of its files. */
static int locate(const char *source, const char *scratch, const br_limits *lim, char *xml,
                  size_t xml_size, char *dir, size_t dir_size, br_error *err)
{
    int rc;
    if (has_ext(source, ".zip")) {
        if (!scratch)
            return br_error_set(err, BR_EUSAGE, source, 0, 0,
                                "a zipped ONIX message needs a folder to unpack into");
        if ((rc = br_zip_extract(source, scratch, lim, dir, dir_size, err))) return rc;
        return find_xml(dir, xml, xml_size, err);
    }
    if (!br_is_file(source)) return br_error_set(err, BR_ENOTFOUND, source, 0, 0, "no such file");
    br_strlcpy(xml, source, xml_size);
    br_strlcpy(dir, source, dir_size);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        br_strlcpy(dir, ".", dir_size);
    return 0;
}

static int onix_open(const br_read_options *opt, br_reader **out, br_error *err)
{
    *out = NULL;
    char xml[PATH_MAX], dir[PATH_MAX];
    int rc = locate(opt->source, opt->scratch, opt->limits, xml, sizeof xml, dir, sizeof dir, err);
    if (rc) return rc;
    br_reader *r = calloc(1, sizeof *r);
    size_t lx = strlen(xml) + 1, ld = strlen(dir) + 1;
    if (!r || !(r->strings = malloc(lx + ld))) {
        free(r);
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    memcpy(r->strings, xml, lx);
    memcpy(r->strings + lx, dir, ld);
    br_onix_rd_options ro = {0};
    ro.path = r->strings;
    const char *slash = strrchr(r->strings, '/');
    ro.name = slash ? slash + 1 : r->strings;
    ro.files_dir = r->strings + lx;
    ro.limits = opt->limits;
    ro.diags = opt->diags;
    if ((rc = br_onix_rd_open(&ro, &r->rd, err))) {
        free(r->strings);
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

static int onix_next(br_reader *r, br_record *rec, br_read_info *info, br_error *err)
{
    return br_onix_rd_next(r->rd, rec, info, err);
}

static int onix_rewind(br_reader *r, br_error *err)
{
    return br_onix_rd_rewind(r->rd, err);
}

static void onix_close(br_reader *r)
{
    if (!r) return;
    br_onix_rd_close(r->rd);
    free(r->strings);
    free(r);
}

/* ---- the unimported download ----------------------------------------------------------------- */

typedef struct span {
    size_t start, end;
} span;

/* The byte ranges of the Product elements of an ONIX file in an ASCII-compatible
 * encoding (UTF-8, ISO-8859-1), in order; comments, CDATA and processing instructions
 * skipped.  Returns 0, BR_ENOMEM. */
static int product_spans(const char *s, size_t n, span **out, size_t *count)
{
    size_t cap = 0, k = 0, open = 0;
    int in_product = 0;
    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '<') continue;
        const char *p = s + i;
        size_t left = n - i;
        const char *close = NULL;
        if (left >= 4 && !memcmp(p, "<!--", 4))
            close = memmem(p + 4, left - 4, "-->", 3);
        else if (left >= 9 && !memcmp(p, "<![CDATA[", 9))
            close = memmem(p + 9, left - 9, "]]>", 3);
        else if (left >= 2 && p[1] == '?')
            close = memmem(p + 2, left - 2, "?>", 2);
        if (close) {
            i = (size_t)(close - s);
            continue;
        }
        int end_tag = left >= 2 && p[1] == '/';
        const char *name = p + 1 + end_tag, *e = name;
        while (e < s + n && *e != '>' && *e != '/' && *e != ' ' && *e != '\t' && *e != '\r' &&
               *e != '\n')
            e++;
        const char *local = name;
        for (const char *c = name; c < e; c++)
            if (*c == ':') local = c + 1;
        size_t len = (size_t)(e - local);
        if (len != 7 || (memcmp(local, "Product", 7) && memcmp(local, "product", 7))) continue;
        const char *gt = memchr(e, '>', n - (size_t)(e - s));
        if (!gt) break;
        if (!end_tag && !in_product) {
            open = i;
            in_product = gt[-1] != '/';
            if (!in_product) end_tag = 1; /* <Product/> */
        }
        if (end_tag && (in_product || gt[-1] == '/')) {
            if (br_grow((void **)out, &cap, k + 1, sizeof **out)) return BR_ENOMEM;
            (*out)[k].start = open;
            (*out)[k].end = (size_t)(gt - s) + 1;
            k++;
            in_product = 0;
        }
        i = (size_t)(gt - s);
    }
    *count = k;
    return 0;
}

/* A comment's text: no "--", and ASCII only when the file is not UTF-8. */
static int put_comment(br_buf *b, const char *text, int ascii)
{
    for (const char *p = text; *p; p++) {
        char c = *p;
        if (c == '-' && (p[1] == '-' || !p[1])) c = '_';
        if (ascii && (unsigned char)c >= 0x80) c = '?';
        if (c == '\n') c = ' ';
        if (br_buf_append(b, &c, 1)) return BR_ENOMEM;
    }
    return 0;
}

static int onix_extract(const br_extract_options *opt, br_error *err)
{
    char xml[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX];
    char *map = MAP_FAILED;
    size_t size = 0;
    span *spans = NULL;
    size_t n_spans = 0;
    br_onix_rd *rd = NULL;
    br_record *rec = NULL;
    br_strmap want = {0};
    br_buf out = {0};
    int fd = -1, rc;
    if ((rc =
             locate(opt->source, opt->scratch, opt->limits, xml, sizeof xml, dir, sizeof dir, err)))
        goto done;
    fd = open(xml, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        rc = br_error_set(err, BR_ENOTFOUND, opt->source, 0, 0, "the job's input is gone");
        goto done;
    }
    size = (size_t)st.st_size;
    if (size && (map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
        rc = br_error_set(err, BR_EIO, opt->source, 0, 0, "cannot read: %s", strerror(errno));
        goto done;
    }
    const char *s = size ? map : "";
    if (size >= 2 && ((s[0] == '\xFE' && s[1] == '\xFF') || (s[0] == '\xFF' && s[1] == '\xFE'))) {
        rc = br_error_set(err, BR_EINVAL, opt->source, 0, 0,
                          "the unimported download of a UTF-16 ONIX file is not supported: "
                          "the job report lists the rejected products");
        goto done;
    }
    if ((rc = product_spans(s, size, &spans, &n_spans))) goto nomem;
    for (size_t i = 0; i < opt->n_records; i++)
        if (br_strmap_put(&want, opt->records[i].key, (int64_t)i)) goto nomem;
    /* The keys of the products, in order, as the reader gives them. */
    br_onix_rd_options ro = {0};
    ro.path = xml;
    ro.name = strrchr(xml, '/') ? strrchr(xml, '/') + 1 : xml;
    ro.limits = opt->limits;
    if ((rc = br_onix_rd_open(&ro, &rd, err))) goto done;
    if (!(rec = br_record_new())) goto nomem;
    size_t first = n_spans ? spans[0].start : size;
    char head[200];
    snprintf(head, sizeof head, "%.*s", (int)(first < sizeof head - 1 ? first : sizeof head - 1),
             s);
    int ascii = strstr(head, "encoding") && !strcasestr(head, "utf-8");
    if (br_buf_append(&out, s, first)) goto nomem;
    br_read_info info;
    br_error rerr;
    size_t last_end = first;
    for (size_t i = 0; i < n_spans; i++) {
        if (br_onix_rd_next(rd, rec, &info, &rerr) != 1) break;
        int64_t k;
        if (!info.key || !br_strmap_get(&want, info.key, &k)) continue;
        const br_rejected *rj = &opt->records[k];
        if (br_buf_puts(&out, "\n    <!-- bulkrepo: ")) goto nomem;
        if (rj->n_findings)
            for (size_t f = 0; f < rj->n_findings; f++) {
                if (put_comment(&out, rj->findings[f].text ? rj->findings[f].text : "", ascii) ||
                    br_buf_puts(&out, f + 1 < rj->n_findings ? "\n         " : ""))
                    goto nomem;
            }
        else if (put_comment(&out, rj->message ? rj->message : "not imported", ascii))
            goto nomem;
        if (br_buf_puts(&out, " -->\n    ") ||
            br_buf_append(&out, s + spans[i].start, spans[i].end - spans[i].start))
            goto nomem;
        last_end = spans[i].end;
    }
    if (n_spans) last_end = spans[n_spans - 1].end;
    if (br_buf_append(&out, s + last_end, size - last_end)) goto nomem;
    if (snprintf(tmp, sizeof tmp, "%s", opt->out_path) >= (int)sizeof tmp) {
        rc = br_error_set(err, BR_ELIMIT, opt->out_path, 0, 0, "path too long");
        goto done;
    }
    rc = br_write_file_atomic(tmp, out.p ? out.p : "", out.len, err);
    goto done;
nomem:
    rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
done:
    br_onix_rd_close(rd);
    br_record_free(rec);
    br_strmap_dispose(&want);
    br_buf_dispose(&out);
    free(spans);
    if (map != MAP_FAILED) munmap(map, size);
    if (fd >= 0) close(fd);
    return rc;
}

const br_format br_format_onix = {
    BR_FORMAT_DRIVER_VERSION,
    {
        .name = "onix",
        .label = "ONIX for Books (2.1, 3.0, 3.1)",
        .short_label = "ONIX",
        .unit = "products",
        .extensions = ".xml, .onix",
        .upload_accept = ".xml,.onix,.zip,application/xml,text/xml,application/zip",
        .extract_ext = "xml",
        .extract_mime = "application/xml",
        .caps = BR_FORMAT_READ | BR_FORMAT_WRITE | BR_FORMAT_EXTRACT | BR_FORMAT_ZIP |
                BR_FORMAT_ALL_SCOPE | BR_FORMAT_SELF_CONTAINED,
        .import_job = "import-onix",
        .validate_job = "validate-onix",
        .delete_job = NULL,
        .export_job = "export-onix",
        .default_status = "archived",
        .match = "isbn=update,id:onixref=update",
        .version_field = "onix.message.sentdate",
        .export_file = "onix.xml",
    },
    .open = onix_open,
    .next = onix_next,
    .rewind = onix_rewind,
    .close = onix_close,
    .covers = NULL,
    .writer_open = br_onix_drv_writer_open,
    .write = br_onix_drv_write,
    .writer_close = br_onix_drv_writer_close,
    .writer_abort = br_onix_drv_writer_abort,
    .extract = onix_extract,
};
