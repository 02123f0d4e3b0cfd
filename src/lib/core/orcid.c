/* ORCID iDs (core.h): the form and check digit, shared by the Esploro reader's ORCID cells
 * and the researchers' ORCIDs. */
#include "core/core.h"

int br_orcid_valid(const char *s, size_t n)
{
    if (!s || n != 19) return 0;
    int total = 0, k = 0;
    for (size_t i = 0; i < 19; i++) {
        if (i == 4 || i == 9 || i == 14) {
            if (s[i] != '-') return 0;
            continue;
        }
        if (k == 15) break;
        if (s[i] < '0' || s[i] > '9') return 0;
        total = (total + (s[i] - '0')) * 2;
        k++;
    }
    /* ISO 7064 11,2 */
    int check = (12 - total % 11) % 11;
    char want = check == 10 ? 'X' : (char)('0' + check);
    return s[18] == want;
}
