#!/bin/sh
# Checks that every statement of the store works on PostgreSQL (scripts/pg-check-sql.py does
# the work: it reads the statements from store.c and sql_pg.c, loads schema_pg.sql, prepares
# each statement and runs the ones whose meaning differs between SQLite and PostgreSQL).
#
#   sh scripts/pg-check-sql.sh [-v] [ADMIN_URL]
#
# ADMIN_URL: postgresql://USER@HOST:PORT/DB of a server where USER may create databases; the
# check runs in a new database of its own, dropped afterwards.  Without one, a throwaway
# cluster is started (scripts/pg-cluster.sh) and stopped at the end.
# Needs python3 (standard library only); psql is not used.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
verbose=
if [ "${1:-}" = -v ]; then
    verbose=-v
    shift
fi
admin=${1:-}
cluster=
db=br_pg_check_$$

# Runs one SQL command on the admin database through the checker's own client.
admin_sql() {
    PYTHONDONTWRITEBYTECODE=1 python3 -c '
import importlib.util, sys
spec = importlib.util.spec_from_file_location("chk", sys.argv[1])
chk = importlib.util.module_from_spec(spec)
spec.loader.exec_module(chk)
chk.Pg(sys.argv[2]).query(sys.argv[3])
' "$here/pg-check-sql.py" "$1" "$2"
}

# The check's database goes, and the cluster when this script started it.
cleanup() {
    if [ -n "$admin" ]; then
        admin_sql "$admin" "DROP DATABASE IF EXISTS $db" 2>/dev/null || true
    fi
    if [ -n "$cluster" ]; then
        sh "$here/pg-cluster.sh" stop "$cluster" >/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Without an address: a throwaway cluster of its own.
if [ -z "$admin" ]; then
    cluster=$(mktemp -d /tmp/pgcheck.XXXXXX)
    rmdir "$cluster"
    admin=$(sh "$here/pg-cluster.sh" start "$cluster")
fi

# The check's database: UTF8 (the search index needs it), with the server's own locale.
admin_sql "$admin" "CREATE DATABASE $db ENCODING 'UTF8' TEMPLATE template0"
# the admin address with the new database's name in place of its own
url=$(python3 -c '
import sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
print(urllib.parse.urlunparse(u._replace(path="/" + sys.argv[2])))
' "$admin" "$db")
python3 "$here/pg-check-sql.py" $verbose "$url"
