/* gen_esploro: writes a deterministic Esploro research-asset CSV for benchmarks
 * (issue 3): N assets, each an ASSET, a PRTOF, three CREATOR and one LINK row, under
 * the official template's 204-column header, about 2 KB per asset; valid data
 * (lint-clean) with affiliation codes 01BENCH_INST___u000 .. u049.
 *
 *   gen_esploro [-n N] [-o OUT.csv] [-s SEED]     (default N 1000, stdout)
 *
 * Output depends only on N and SEED. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCOLS 204

static const char HEADER[] =
    ",GROUP_ID,ASSET_TITLE,ASSET_SUBTITLE,ASSET_DOI,ASSET_PMID,ASSET_ISBN,ASSET_EISBN,"
    "ASSET_PMCID,ASSET_GOVTNUM,ASSET_PUBLISHER,ASSET_PUBLICATIONPLACE,ASSET_PUBLISHDATE,"
    "ASSET_AVAILDATE,ASSET_ACCEPTDATE,ASSET_COPYRIGHTDATE,ASSET_CREATEDATE,ASSET_OPENINGDATE,"
    "ASSET_PERFORMANCEDATE,ASSET_RESTYPE,ASSET_RESSUBTYPE,ASSET_KEYWORDS,ASSET_PEEREVIEW,"
    "ASSET_LANG,ASSET_ABSTRACT,ASSET_COPYRIGHT,ASSET_LICENSECODE,ASSET_ACCESSRIGHT,"
    "ASSET_ACCESSRIGHTDATE,ASSET_AFFILIATION,ASSET_GRANTNOTE,ASSET_ORIGASSET_ID,"
    "ASSET_SUBMITDATE,ASSET_ORIG_REPOSITORYNAME,ASSET_PAGES,ASSET_SIZE,ASSET_EXTENT,"
    "ASSET_FORMAT,ASSET_EDITION,ASSET_SUBJECT,ASSET_OPENACCESS,ASSET_PRVNCE,ASSET_ALTTITLE,"
    "ASSET_TRANSLATTI,ASSET_OTHERTIT,ASSET_SERIES,ASSET_VOLNUM,ASSET_IDURI,ASSET_HANDLE,"
    "ASSET_IDOTHER,ASSET_IDPQDT,ASSET_ARXIV,ASSET_DATESUB,ASSET_DATEUPD,ASSET_DATEVALID,"
    "ASSET_DATEEPUB,ASSET_DATEPOSTED,ASSET_DATEOTHER,ASSET_DATEAPP,ASSET_DATECOMPL,"
    "ASSET_DATEDEGREE,ASSET_DATEDEF,ASSET_DATEPRESNT,ASSET_CONFNAME,ASSET_CONFNUM,"
    "ASSET_CONFLOC,ASSET_CONFDAT,ASSET_EVNTNAM,ASSET_EVNTLOC,ASSET_EVNTDAT,ASSET_EVNTTYP,"
    "ASSET_EVNTNUM,ASSET_DGRGRANT,ASSET_DGRLEVEL,ASSET_DGRNAME,ASSET_PRIMARYSUBJ,"
    "ASSET_SECONDARYSUBJ,ASSET_PAGESUNPAGINATED,ASSET_APPLICATIONDATE,ASSET_RENEWEDDATE,"
    "ASSET_PATENT_STATUS,ASSET_PATENT_NUMBER,ASSET_PATENT_ABBREVNUM,ASSET_PATENT_KINDCODE,"
    "ASSET_PATENT_APPLICATIONNUM,ASSET_PATENT_APPLICATIONCODE,ASSET_PATENT_AGENCY,ASSET_WOS,"
    "ASSET_SCOPUS,ASSET_ARK,ASSET_SICI,ASSET_RNO,ASSET_ISMN,ASSET_PORTAL_VISIBILITY,"
    "ASSET_IDENTIFIER_ADDITIONAL01,ASSET_PROFILE_VISIBILITY,ASSET_IDENTIFIER_ADDITIONAL02,"
    "ASSET_COMMENT,ASSET_IDENTIFIER_ADDITIONAL03,ASSET_METHODS,ASSET_IDENTIFIER_ADDITIONAL04,"
    "ASSET_SERIESINFO,ASSET_IDENTIFIER_ADDITIONAL05,ASSET_EDUCTNLEVEL,"
    "ASSET_IDENTIFIER_ADDITIONAL06,ASSET_INSTRUCTMETHOD,ASSET_IDENTIFIER_ADDITIONAL07,"
    "ASSET_TECHINFO,ASSET_IDENTIFIER_ADDITIONAL08,ASSET_SPATIALDESC,"
    "ASSET_IDENTIFIER_ADDITIONAL09,ASSET_TEMPORALDESC,ASSET_OTHERDESC,ASSET_BIBLIOGRAPH,"
    "ASSET_COVERAGE,ASSET_ILLUSTRATION,ASSET_DATECOLLECT,ASSET_DATEISSUE,ASSET_DATERENEW,"
    "ASSET_ANZTOA,ASSET_COURSENAME,ASSET_COURSENUMB,ASSET_LEARNTIME,ASSET_MOBILCOMPAT,"
    "ASSET_SRCCODEAVAIL,ASSET_SERIESNUMBER,ASSET_PUBSEASON,ASSET_DGRSEASON,ASSET_DGRPRG,"
    "ASSET_LOCLFLD1,ASSET_LOCLFLD2,ASSET_LOCLFLD3,ASSET_LOCLFLD4,ASSET_LOCLFLD5,"
    "ASSET_LOCLFLD6,ASSET_LOCLFLD7,ASSET_LOCLFLD8,ASSET_LOCLFLD9,ASSET_LOCLFLD10,"
    "ASSET_LOCLFLD11,ASSET_LOCLFLD12,ASSET_LOCLFLD13,ASSET_LOCLFLD14,ASSET_LOCLFLD15,"
    "ASSET_PROJTYPE,ASSET_AUDIENCE,PRTOF_EPAGE,PRTOF_SPAGE,PRTOF_ISSUE,PRTOF_ARTICLENUMBER,"
    "PRTOF_VOL,PRTOF_ISSN,PRTOF_EISSN,PRTOF_ISBN,PRTOF_EISBN,PRTOF_TITLE,PRTOF_DOI,"
    "PRTOF_PAGES,PRTOF_NLMABRV,CREATOR_FAMNAME,CREATOR_GIVNAME,CREATOR_MIDNAME,"
    "CREATOR_NAMESUF,CREATOR_AFFILIATION,CREATOR_EMAIL,CREATOR_RESEARCHERID,CREATOR_ORCID,"
    "CREATOR_PRIMARYID,CREATOR_BRCODE,CREATOR_ADDITIONAL,OCREATOR_ORGANIZATION,CONT_TYPE,"
    "CONT_CONTNAME,CONT_FAMNAME,CONT_GIVNAME,CONT_MIDNAME,CONT_NAMESUF,CONT_AFFILIATION,"
    "CONT_EMAIL,CONT_RESEARCHERID,CONT_ORCID,CONT_PRIMARYID,CONT_BRCODE,CONT_ADDITIONAL,"
    "OCONT_ORGANIZATION,LINK_LINKURL,LINK_LINKTITLE,LINK_LINKDESC,LINK_CONTENTTYPE,"
    "LINK_LINKLCNSE,LINK_LINKRIGHTS,LINK_LINKOWN,LINK_ORDER,LINK_DISPLAY_IN_VIEWER,"
    "FILE_FILEURL,FILE_DESCRIPTION,FILE_DISPLAY_NAME,FILE_ORDER,FILE_LICENSE,FILE_RIGHTS,"
    "FILE_RIGHTS_REASON,FILE_RIGHTS_DATE,FILE_CONTENTTYPE,FILE_SUPPLEMENTAL";

static uint64_t rng;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

static const char *const WORDS[] = {
    "river",   "habitat", "salmon",   "soil",    "climate",  "model",  "survey", "genome",
    "network", "policy",  "teaching", "library", "archive",  "energy", "water",  "forest",
    "urban",   "health",  "data",     "method",  "analysis", "review", "theory", "practice"};
#define NW (sizeof WORDS / sizeof WORDS[0])
static const char *const FAMILY[] = {"Smith",    "Garcia", "Nguyen", "Okafor", "Müller",
                                     "Kowalski", "Tanaka", "Silva",  "Haddad", "Jensen"};
static const char *const GIVEN[] = {"Ann", "Bo", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana"};
static const char *const TYPES[] = {"publication.journalArticle",
                                    "publication.book",
                                    "conference.conferencePaper",
                                    "dataset.dataset",
                                    "etd.doctoral",
                                    "postedContent.preprint"};

static int col_of(const char *name)
{
    const char *p = HEADER;
    for (int c = 0; c < NCOLS; c++) {
        size_t n = strcspn(p, ",");
        if (n == strlen(name) && !memcmp(p, name, n)) return c;
        p += n + (p[n] == ',');
    }
    fprintf(stderr, "gen_esploro: no column %s\n", name);
    exit(4);
}

static char cells[NCOLS][512];

static void emit(FILE *f)
{
    for (int c = 0; c < NCOLS; c++) {
        if (c) fputc(',', f);
        const char *s = cells[c];
        if (strpbrk(s, ",\"")) {
            fputc('"', f);
            for (; *s; s++) {
                if (*s == '"') fputc('"', f);
                fputc(*s, f);
            }
            fputc('"', f);
        } else {
            fputs(s, f);
        }
        cells[c][0] = 0;
    }
    fputc('\n', f);
}

/* ISO 7064 11,2 check digit of the first 15 digits. */
static char orcid_check(const char *d15)
{
    int total = 0;
    for (int i = 0; i < 15; i++)
        total = (total + (d15[i] - '0')) * 2;
    int r = (12 - total % 11) % 11;
    return r == 10 ? 'X' : (char)('0' + r);
}

static void words(char *out, size_t size, int n, const char *sep)
{
    size_t k = 0;
    out[0] = 0;
    for (int i = 0; i < n; i++)
        k += (size_t)snprintf(out + k, size - k, "%s%s", i ? sep : "", WORDS[next() % NW]);
}

int main(int argc, char **argv)
{
    long n = 1000;
    const char *out = NULL;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            n = atol(argv[++i]);
        else if (!strcmp(argv[i], "-o") && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(argv[i], "-s") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: gen_esploro [-n N] [-o OUT.csv] [-s SEED]\n");
            return 2;
        }
    }
    if (n < 0) n = 0;
    rng = seed * 0x9E3779B97F4A7C15ull + 1;
    FILE *f = out ? fopen(out, "w") : stdout;
    if (!f) {
        perror(out);
        return 4;
    }
    static char buf[1 << 16];
    setvbuf(f, buf, _IOFBF, sizeof buf);
    fprintf(f, "%s\n", HEADER);
    int title = col_of("ASSET_TITLE"), restype = col_of("ASSET_RESTYPE"),
        affil = col_of("ASSET_AFFILIATION"), pdate = col_of("ASSET_PUBLISHDATE"),
        kw = col_of("ASSET_KEYWORDS"), lang = col_of("ASSET_LANG"), abs = col_of("ASSET_ABSTRACT"),
        doi = col_of("ASSET_DOI"), pub = col_of("ASSET_PUBLISHER"),
        orig = col_of("ASSET_ORIGASSET_ID"), peer = col_of("ASSET_PEEREVIEW"),
        ptitle = col_of("PRTOF_TITLE"), issn = col_of("PRTOF_ISSN"), vol = col_of("PRTOF_VOL"),
        issue = col_of("PRTOF_ISSUE"), spage = col_of("PRTOF_SPAGE"), epage = col_of("PRTOF_EPAGE"),
        fam = col_of("CREATOR_FAMNAME"), giv = col_of("CREATOR_GIVNAME"),
        corcid = col_of("CREATOR_ORCID"), caff = col_of("CREATOR_AFFILIATION"),
        cmail = col_of("CREATOR_EMAIL"), lurl = col_of("LINK_LINKURL"),
        ltitle = col_of("LINK_LINKTITLE"), ltype = col_of("LINK_CONTENTTYPE");
    char w[512];
    for (long a = 0; a < n; a++) {
        char key[32];
        snprintf(key, sizeof key, "%ld", a);
        /* ASSET */
        strcpy(cells[0], "ASSET");
        strcpy(cells[1], key);
        words(w, sizeof w, 6, " ");
        snprintf(cells[title], sizeof cells[title], "On the %s, part %ld", w, a);
        strcpy(cells[restype], TYPES[next() % 6]);
        snprintf(cells[affil], sizeof cells[affil], "01BENCH_INST___u%03u", next() % 50);
        snprintf(cells[pdate], sizeof cells[pdate], "%04u%02u%02u", 1990 + next() % 35,
                 1 + next() % 12, 1 + next() % 28);
        words(cells[kw], sizeof cells[kw], 4, "@@");
        strcpy(cells[lang], next() % 4 ? "eng" : "ger");
        words(w, sizeof w, 40, " ");
        snprintf(cells[abs], sizeof cells[abs], "<p>We study %s.</p>", w);
        snprintf(cells[doi], sizeof cells[doi], "10.5555/bench.%ld", a);
        strcpy(cells[pub], "Bench University Press, Moscow (Idaho)");
        snprintf(cells[orig], sizeof cells[orig], "bench-%ld", a);
        strcpy(cells[peer], "YES");
        emit(f);
        /* PRTOF */
        strcpy(cells[0], "PRTOF");
        strcpy(cells[1], key);
        words(w, sizeof w, 3, " ");
        snprintf(cells[ptitle], sizeof cells[ptitle], "Journal of %s", w);
        snprintf(cells[issn], sizeof cells[issn], "%04u-%04u", next() % 10000, next() % 10000);
        snprintf(cells[vol], sizeof cells[vol], "%u", 1 + next() % 80);
        snprintf(cells[issue], sizeof cells[issue], "%u", 1 + next() % 12);
        unsigned sp = 1 + next() % 900;
        snprintf(cells[spage], sizeof cells[spage], "%u", sp);
        snprintf(cells[epage], sizeof cells[epage], "%u", sp + 1 + next() % 40);
        emit(f);
        /* three CREATORs */
        for (int c = 0; c < 3; c++) {
            strcpy(cells[0], "CREATOR");
            strcpy(cells[1], key);
            const char *fn = FAMILY[next() % 10], *gn = GIVEN[next() % 8];
            strcpy(cells[fam], fn);
            strcpy(cells[giv], gn);
            char d[16];
            snprintf(d, sizeof d, "0000000%08u", next() % 100000000u);
            snprintf(cells[corcid], sizeof cells[corcid], "%.4s-%.4s-%.4s-%.3s%c", d, d + 4, d + 8,
                     d + 12, orcid_check(d));
            snprintf(cells[caff], sizeof cells[caff], "01BENCH_INST___u%03u", next() % 50);
            snprintf(cells[cmail], sizeof cells[cmail], "%c.%ld.%d@example.org", gn[0], a, c);
            emit(f);
        }
        /* LINK */
        strcpy(cells[0], "LINK");
        strcpy(cells[1], key);
        snprintf(cells[lurl], sizeof cells[lurl], "https://data.example.org/asset/%ld", a);
        strcpy(cells[ltitle], "Data set");
        strcpy(cells[ltype], "data");
        emit(f);
    }
    if (fflush(f) || (out && fclose(f))) {
        perror(out ? out : "stdout");
        return 4;
    }
    return 0;
}
