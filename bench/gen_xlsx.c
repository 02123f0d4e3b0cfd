/* gen_xlsx: a generated XLSX of N publications for the XLSX driver's benchmark
 * (and tests): valid ISBN-13s (from 978-0-00-000000-?), the column set of
 * data/xlsx_columns.tsv, ISBNs as numbers in every other row (as a spreadsheet
 * user leaves them), publication dates as date cells in every third row.
 *
 *   gen_xlsx N OUT.xlsx */
#include <stdio.h>
#include <stdlib.h>
#include <xlsxwriter.h>

static void isbn13(unsigned long long n, char out[14])
{
    unsigned long long base = 978000000000ull + n % 1000000000ull;
    snprintf(out, 14, "%012llu", base);
    unsigned sum = 0;
    for (int i = 0; i < 12; i++)
        sum += (unsigned)(out[i] - '0') * (i % 2 ? 3u : 1u);
    out[12] = (char)('0' + (10 - sum % 10) % 10);
    out[13] = 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_xlsx N OUT.xlsx\n");
        return 2;
    }
    long n = strtol(argv[1], NULL, 10);
    lxw_workbook_options o = {.constant_memory = LXW_TRUE, .tmpdir = NULL, .use_zip64 = LXW_TRUE};
    lxw_workbook *wb = workbook_new_opt(argv[2], &o);
    if (!wb) return 1;
    lxw_worksheet *ws = workbook_add_worksheet(wb, "Publications");
    lxw_format *date = workbook_add_format(wb);
    format_set_num_format(date, "yyyy-mm-dd");
    static const char *const head[] = {
        "ISBN",        "Title",    "Subtitle",         "Contributors",
        "Publisher",   "Imprint",  "Publication date", "Language",
        "Description", "Subjects", "Edition",          "Series"};
    int bad = 0;
    for (int c = 0; c < 12; c++)
        bad |= worksheet_write_string(ws, 0, (lxw_col_t)c, head[c], NULL) != LXW_NO_ERROR;
    for (long i = 0; i < n && !bad; i++) {
        lxw_row_t r = (lxw_row_t)(i + 1);
        char isbn[14], buf[256];
        isbn13((unsigned long long)i, isbn);
        if (i % 2)
            bad |= worksheet_write_number(ws, r, 0, strtod(isbn, NULL), NULL) != LXW_NO_ERROR;
        else
            bad |= worksheet_write_string(ws, r, 0, isbn, NULL) != LXW_NO_ERROR;
        snprintf(buf, sizeof buf, "Generated publication %ld", i + 1);
        bad |= worksheet_write_string(ws, r, 1, buf, NULL) != LXW_NO_ERROR;
        bad |= worksheet_write_string(ws, r, 2, "A subtitle", NULL) != LXW_NO_ERROR;
        snprintf(buf, sizeof buf, "Author: Writer%ld, Ann; Editor: Editor, Bob", i % 997);
        bad |= worksheet_write_string(ws, r, 3, buf, NULL) != LXW_NO_ERROR;
        bad |= worksheet_write_string(ws, r, 4, "Example Press", NULL) != LXW_NO_ERROR;
        bad |= worksheet_write_string(ws, r, 5, "Example Imprint", NULL) != LXW_NO_ERROR;
        if (i % 3 == 0) {
            lxw_datetime dt = {2000 + (int)(i % 25), 1 + (int)(i % 12), 1 + (int)(i % 28), 0, 0, 0};
            bad |= worksheet_write_datetime(ws, r, 6, &dt, date) != LXW_NO_ERROR;
        } else {
            snprintf(buf, sizeof buf, "%ld", 1990 + i % 35);
            bad |= worksheet_write_string(ws, r, 6, buf, NULL) != LXW_NO_ERROR;
        }
        bad |= worksheet_write_string(ws, r, 7, i % 4 ? "eng" : "ger", NULL) != LXW_NO_ERROR;
        bad |= worksheet_write_string(ws, r, 8, "A generated description of a generated book.",
                                      NULL) != LXW_NO_ERROR;
        bad |= worksheet_write_string(ws, r, 9, "History; Science", NULL) != LXW_NO_ERROR;
        bad |= worksheet_write_string(ws, r, 10, "2nd ed.", NULL) != LXW_NO_ERROR;
        bad |= worksheet_write_string(ws, r, 11, "Generated Series", NULL) != LXW_NO_ERROR;
    }
    lxw_error e = workbook_close(wb);
    if (bad || e) {
        fprintf(stderr, "gen_xlsx: cannot write %s\n", argv[2]);
        return 1;
    }
    return 0;
}
