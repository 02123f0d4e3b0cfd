#!/bin/sh
# Runs test binaries against a throwaway PostgreSQL server (scripts/pg-cluster.sh), stopped and
# removed at the end whatever happens:
#
#   sh scripts/test-pg.sh build/tests/test_db build/tests/test_store ...
#
# Each binary gets the server's admin address in BULKREPO_TEST_PG (tests/support/pg.c makes a
# database per repository on it) and BULKREPO_TEST_STORE=postgresql (the repository fixture then
# puts its repositories there).  Every binary runs even if one fails; the exit code says whether
# any did.
set -eu
[ $# -gt 0 ] || { echo "usage: sh scripts/test-pg.sh TEST..." >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/bulkrepo-pg.XXXXXX")
rmdir "$dir"
url=$(sh "$here/pg-cluster.sh" start "$dir")
trap 'sh "$here/pg-cluster.sh" stop "$dir" >/dev/null 2>&1 || true' EXIT INT TERM
fail=0
for t in "$@"; do
    echo "== $t (PostgreSQL)"
    BULKREPO_TEST_PG=$url BULKREPO_TEST_STORE=postgresql "$t" || fail=1
done
exit $fail
