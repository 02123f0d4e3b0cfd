#!/bin/sh
# A throwaway PostgreSQL cluster for the tests.
#
#   sh scripts/pg-cluster.sh start DIR   creates a cluster in DIR (which must not hold one),
#                                        starts it on 127.0.0.1 at a free port and prints its
#                                        admin address, postgresql://postgres@127.0.0.1:PORT/postgres
#                                        (also written to DIR/url)
#   sh scripts/pg-cluster.sh stop DIR    stops it (fast: open sessions are ended) and removes DIR
#
# Trust authentication, for the socket in DIR and loopback TCP only (the server listens on
# 127.0.0.1 alone).  PostgreSQL refuses to run as root: as root, initdb and pg_ctl run as the
# postgres system user (Debian's postgresql package makes it), who then owns DIR.
set -eu

die() {
    echo "pg-cluster.sh: $*" >&2
    exit 1
}

[ $# -eq 2 ] || die "usage: sh scripts/pg-cluster.sh start|stop DIR"
cmd=$1
dir=$2

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] && [ -x "$bin/pg_ctl" ] ||
    die "no PostgreSQL server in /usr/lib/postgresql (apt-get install postgresql)"

# Runs a server program as the account that owns the cluster, from DIR (the postgres user may
# not enter the caller's folder).
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        (cd "$dir" && runuser -u postgres -- "$@")
    else
        (cd "$dir" && "$@")
    fi
}

# A TCP port nobody listens on now, from 20000-59999.
pick_port() {
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        p=$(($(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 + 20000))
        if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

case $cmd in
start)
    if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
        die "$dir exists and is not empty"
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    # the server's socket path (DIR/.s.PGSQL.PORT) must fit in 107 bytes
    [ ${#dir} -le 90 ] || die "$dir: path too long for the server's socket"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || die "no postgres user to run the server as (apt-get install postgresql)"
        chown postgres: "$dir"
        runuser -u postgres -- test -w "$dir" ||
            die "the postgres user cannot reach $dir (its parent folders must be searchable)"
    fi
    locale=C
    if locale -a 2>/dev/null | grep -qix 'c\.utf-\{0,1\}8'; then locale=C.UTF-8; fi
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --locale="$locale" \
        -A trust >"$dir/initdb.log" 2>&1 ||
        die "initdb failed: $(tail -5 "$dir/initdb.log")"
    as_owner sh -c "cat >'$dir/data/pg_hba.conf'" <<EOF
# trust, for the socket in $dir and loopback TCP only
local all all trust
host  all all 127.0.0.1/32 trust
EOF
    as_owner sh -c "cat >>'$dir/data/postgresql.conf'" <<EOF

# a test cluster (scripts/pg-cluster.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_buffers = 128MB
max_connections = 100
fsync = on
include = 'port.conf'
EOF
    # A port found free may be taken before the server binds it: another one then.
    started=
    for _ in 1 2 3 4 5; do
        port=$(pick_port) || die "no free TCP port found"
        as_owner sh -c "echo 'port = $port' >'$dir/data/port.conf'"
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
            >"$dir/pg_ctl.log" 2>&1; then
            started=1
            break
        fi
        grep -q 'could not bind\|Address already in use' "$dir/server.log" 2>/dev/null ||
            die "the server did not start: $(tail -5 "$dir/server.log" 2>/dev/null)"
    done
    [ -n "$started" ] || die "the server did not start: every port tried was taken"
    # pg_ctl -w waited for the server; the address must answer too
    i=0
    until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; do
        i=$((i + 1))
        [ $i -lt 100 ] || die "the server does not accept connections on 127.0.0.1:$port"
        sleep 0.1
    done
    url="postgresql://postgres@127.0.0.1:$port/postgres"
    echo "$url" >"$dir/url"
    echo "$url"
    ;;
stop)
    [ -e "$dir" ] || exit 0
    # only a folder this script made is removed
    [ -f "$dir/data/PG_VERSION" ] || [ -f "$dir/initdb.log" ] ||
        die "$dir does not hold a cluster of this script's"
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
            die "the server in $dir did not stop: $(tail -5 "$dir/server.log" 2>/dev/null)"
    fi
    rm -rf "$dir"
    ;;
*)
    die "usage: sh scripts/pg-cluster.sh start|stop DIR"
    ;;
esac
