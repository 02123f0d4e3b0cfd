#!/bin/sh
# bench/web.sh — the server under load (issues 4 and 13), run by `bench/run.sh web`:
#   1. REPS times, interleaved: the import alone (a fresh repository, `bulkrepo serve`, the
#      input uploaded through POST /api/jobs, timed from the 201 until the job has ended),
#      then the same import while staff-like polling hits the server at a bounded rate:
#      BENCH_RATE requests/s in all (default 100: ~50 browsers polling the monitor every 2 s
#      plus scripts) from BENCH_RATE_CLIENTS keep-alive clients (curl --rate), cycling
#      GET /api/jobs, GET /api/jobs/ID and GET / (the monitor page).  The slowdown is the
#      loaded median over the lone median; the polling's own p50/p99 are reported;
#   2. once: the import under wrk's closed loop (64 connections, --latency) on GET /api/jobs
#      and GET /, in turns: requests/s, p50 and p99 per endpoint.
# Targets: slowdown < 20 % at the bounded rate; p99 < 50 ms at 64 connections.
#
# Input: Esploro CSV of BENCH_N assets when GEN_ESPLORO exists and the server
# implements import-esploro, else a SAF zip of BENCH_N items made by gen_saf
# (the table says which).
#
#   sh bench/web.sh [BULKREPO]      BULKREPO default build/bulkrepo
# Environment: BENCH_N (default 20000), BENCH_REPS (3), BENCH_RATE (100),
# BENCH_RATE_CLIENTS (4), BENCH_CONNS (64), BENCH_THREADS (2), BENCH_TURN (seconds per wrk
# turn; default a quarter of the lone import, 1-10), BENCH_WEB_CLOSED=0 skips part 2,
# GEN_SAF, GEN_ESPLORO (default next to BULKREPO in tools/), BENCH_KEEP=1 keeps
# the temporary folder, BENCH_TMP its parent (default $TMPDIR or /tmp).
set -eu

BIN=$(realpath "${1:-${BULKREPO:-build/bulkrepo}}")
BDIR=$(dirname "$BIN")
N=${BENCH_N:-20000}
CONNS=${BENCH_CONNS:-64}
THREADS=${BENCH_THREADS:-2}
REPS=${BENCH_REPS:-3}
RATE=${BENCH_RATE:-100}
CLIENTS=${BENCH_RATE_CLIENTS:-4}
CLOSED=${BENCH_WEB_CLOSED:-1}
GEN_SAF=${GEN_SAF:-$BDIR/tools/gen_saf}
GEN_ESPLORO=${GEN_ESPLORO:-$BDIR/tools/gen_esploro}

die() { echo "bench/web.sh: $*" >&2; exit 1; }
[ -x "$BIN" ] || die "$BIN is missing: build it first"
"$BIN" serve --help >/dev/null 2>&1 || die "$BIN has no 'serve' command"
TOOLS=curl
[ "$CLOSED" = 1 ] && TOOLS="wrk curl"
for tool in $TOOLS; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "bench/web.sh: installing $tool" >&2
        if [ "$(id -u)" = 0 ]; then apt-get install -y -qq "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null; }
        else sudo apt-get install -y -qq "$tool" >/dev/null; fi
    fi
done

T=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/bulkrepo-web-bench.XXXXXX")
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $PIDS; do wait "$p" 2>/dev/null || true; done
    if [ -n "${BENCH_KEEP:-}" ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
json_field() { # json_field KEY < json: the first "KEY": value (string or number)
    sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\{0,1\}\([^\",}]*\).*/\1/p" | head -n 1
}

# ---- the input ---------------------------------------------------------------
FORMAT=saf
TYPE=import-saf
if [ -x "$GEN_ESPLORO" ]; then
    FORMAT=esploro
    TYPE=import-esploro
    INPUT="$T/assets.csv"
    echo "generating $N Esploro assets ($GEN_ESPLORO)" >&2
    "$GEN_ESPLORO" -n "$N" -o "$INPUT" >/dev/null 2>&1 || { echo "gen_esploro failed; using SAF" >&2; FORMAT=saf; TYPE=import-saf; }
fi
make_saf() {
    FORMAT=saf
    TYPE=import-saf
    [ -x "$GEN_SAF" ] || die "$GEN_SAF is missing (make B=... tools)"
    echo "generating $N SAF items ($GEN_SAF)" >&2
    "$GEN_SAF" "$T/saf" "$N" --file-size 1024 >/dev/null
    INPUT="$T/items.zip"
    # a stored zip of the item folders (the SAF reader takes the top-level folders)
    (cd "$T/saf" && python3 -c '
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_STORED, allowZip64=True) as z:
    for d in sorted(os.listdir(".")):
        for f in sorted(os.listdir(d)):
            z.write(os.path.join(d, f))
' "$INPUT")
    rm -rf "$T/saf"
    INPUT_BYTES=$(wc -c < "$INPUT")
}
[ "$FORMAT" = saf ] && make_saf
INPUT_BYTES=$(wc -c < "$INPUT")

# ---- a repository with a server --------------------------------------------------
# start_server NAME: sets URL, TOKEN, COLL, SPID for a fresh repository $T/NAME
start_server() {
    R="$T/$1"
    "$BIN" --repo "$R" init >/dev/null
    COLL=$("$BIN" --repo "$R" collection create "Bench $1")
    printf 'bench-password-1\n' | "$BIN" --repo "$R" user add bench --role GENERAL_SYSTEM_ADMINISTRATOR --password-stdin >/dev/null
    # The org units gen_esploro's affiliation codes name (01BENCH_INST___u000 .. u049).
    if [ "$FORMAT" = esploro ]; then
        printf 'code,name\n' >"$T/units.csv"
        u=0
        while [ $u -lt 50 ]; do printf '01BENCH_INST___u%03d,Unit %d\n' $u $u >>"$T/units.csv"; u=$((u + 1)); done
        "$BIN" --repo "$R" orgunit import "$T/units.csv" >/dev/null 2>&1
    fi
    # --listen 127.0.0.1:0: a free port, printed as "listening on http://HOST:PORT/"
    "$BIN" --repo "$R" serve --listen 127.0.0.1:0 >"$T/$1.out" 2>"$T/$1.log" &
    SPID=$!
    PIDS="$PIDS $SPID"
    i=0
    URL=
    until [ -n "$URL" ] && curl -fsS "$URL/api/health" >/dev/null 2>&1; do
        URL=$(sed -n 's|^listening on \(http://[^/]*\)/.*|\1|p' "$T/$1.out")
        i=$((i + 1))
        [ $i -lt 200 ] || die "the server did not start; see $T/$1.log"
        kill -0 "$SPID" 2>/dev/null || die "the server exited; $(tail -n 3 "$T/$1.log")"
        sleep 0.05
    done
    TOKEN=$(curl -fsS -H 'Content-Type: application/json' -d '{"username":"bench","password":"bench-password-1"}' \
        "$URL/api/login" | json_field token)
    [ -n "$TOKEN" ] || die "login failed"
}
stop_server() {
    kill "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
}
# submit: uploads the input as a job; sets JOB. An Esploro import the server
# refuses (not implemented yet) falls back to SAF.
submit() {
    JOB=$(curl -sS -H "Authorization: Bearer $TOKEN" -F "type=$TYPE" -F "format=$FORMAT" -F "collection=$COLL" \
        -F "name=bench $N" -F "file=@$INPUT" "$URL/api/jobs" | tee "$T/submit.json" | json_field id)
    if [ -z "$JOB" ] && [ "$FORMAT" = esploro ]; then
        echo "the server refused the Esploro import ($(cat "$T/submit.json")); using SAF" >&2
        rm -f "$INPUT"
        make_saf
        submit
        return
    fi
    [ -n "$JOB" ] || die "the upload was refused: $(cat "$T/submit.json")"
}
# status: the job's status code
status() {
    curl -fsS -H "Authorization: Bearer $TOKEN" "$URL/api/jobs/$JOB" | tr -d '\n' |
        sed -n 's/.*"status"[[:space:]]*:[[:space:]]*{[^}]*"code"[[:space:]]*:[[:space:]]*"\([A-Z_]*\)".*/\1/p'
}
ended() {
    case "$(status)" in
    COMPLETED_* | FAILED | USER_ABORTED | MANUAL_HANDLING_REQUIRED) return 0 ;;
    *) return 1 ;;
    esac
}

# ---- 1. alone and at a bounded rate, interleaved ------------------------------------------------
# poll_load: CLIENTS curl processes, RATE/CLIENTS requests/s each, until the job ends;
# every answer's "code seconds" in $T/poll-$rep-*.txt
poll_load() {
    per=$(( (RATE + CLIENTS - 1) / CLIENTS ))
    : >"$T/urls"
    k=0
    while [ $k -lt $((per * 2)) ]; do # two seconds' worth per curl run
        case $((k % 5)) in
        0 | 2) u="$URL/api/jobs" ;;
        1 | 3) u="$URL/api/jobs/$JOB" ;;
        *) u="$URL/" ;;
        esac
        printf 'url = "%s"\noutput = "/dev/null"\n' "$u" >>"$T/urls"
        k=$((k + 1))
    done
    c=1
    LOADPIDS=
    while [ $c -le "$CLIENTS" ]; do
        (
            while [ -d "$T" ] && [ ! -e "$T/stop" ]; do
                curl -s --rate "$per/s" -K "$T/urls" -H "Authorization: Bearer $TOKEN" \
                    -w '%{http_code} %{time_total}\n' >>"$T/poll-$rep-$c.txt" 2>/dev/null || sleep 0.1
            done
        ) &
        LOADPIDS="$LOADPIDS $!"
        PIDS="$PIDS $!"
        c=$((c + 1))
    done
}
stop_load() {
    touch "$T/stop"
    for p in $LOADPIDS; do wait "$p" 2>/dev/null || true; done
    rm -f "$T/stop"
}
# timed_import LABEL: a fresh server, the upload, the time until the job ends (SECS)
timed_import() {
    start_server "$1"
    submit
    t0=$(now)
    [ "$2" = load ] && poll_load
    until ended; do sleep 0.05; done
    t1=$(now)
    if [ "$2" = load ]; then
        stop_load
        LOAD_SECS="$LOAD_SECS + $(echo "$(now) - $t0" | bc -l)"
    fi
    STATUS=$(status)
    stop_server
    rm -rf "${T:?}/${1:?}"
    SECS=$(echo "$t1 - $t0" | bc -l)
}
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
LOAD_SECS=0
: >"$T/alone.s"
: >"$T/loaded.s"
rep=1
while [ $rep -le "$REPS" ]; do
    timed_import "alone$rep" none
    echo "run $rep: import alone            $(printf '%8.2f' "$SECS") s ($STATUS)" >&2
    echo "$SECS" >>"$T/alone.s"
    ALONE_STATUS=$STATUS
    timed_import "rate$rep" load
    echo "run $rep: import at $RATE requests/s $(printf '%8.2f' "$SECS") s ($STATUS)" >&2
    echo "$SECS" >>"$T/loaded.s"
    RATE_STATUS=$STATUS
    rep=$((rep + 1))
done
ALONE=$(median <"$T/alone.s")
LOADED=$(median <"$T/loaded.s")
cat "$T"/poll-*.txt >"$T/poll.txt" 2>/dev/null || : >"$T/poll.txt"
POLL_N=$(wc -l <"$T/poll.txt")
POLL_BAD=$(awk '$1 !~ /^2/' "$T/poll.txt" | wc -l)
POLL_P50=$(awk '{ print $2 * 1000 }' "$T/poll.txt" | sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR - 1) * 0.50) + 1]; else print 0 }')
POLL_P99=$(awk '{ print $2 * 1000 }' "$T/poll.txt" | sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR - 1) * 0.99) + 1]; else print 0 }')
POLL_RATE=$(echo "$POLL_N / ($LOAD_SECS)" | bc -l)

# ---- 2. closed loop: wrk at 64 connections during an import ------------------------------------
if [ "$CLOSED" = 1 ]; then
    TURN=${BENCH_TURN:-$(echo "x = $ALONE / 4; if (x < 1) x = 1; if (x > 10) x = 10; scale = 0; x / 1" | bc -l)}
    start_server loaded
    echo "import under wrk: -t$THREADS -c$CONNS -d${TURN}s --latency, GET /api/jobs and GET / in turns" >&2
    submit
    t0=$(now)
    turn=0
    while ! ended; do
        turn=$((turn + 1))
        wrk -t"$THREADS" -c"$CONNS" -d"${TURN}s" --latency -H "Authorization: Bearer $TOKEN" "$URL/api/jobs" >"$T/wrk-api-$turn.txt" 2>&1 || true
        ended && break
        wrk -t"$THREADS" -c"$CONNS" -d"${TURN}s" --latency "$URL/" >"$T/wrk-page-$turn.txt" 2>&1 || true
    done
    t1=$(now)
    WRK_STATUS=$(status)
    WRK_SECS=$(echo "$t1 - $t0" | bc -l)
    # when the import outran the first turns, measure once more (without the import)
    [ -f "$T/wrk-page-1.txt" ] || wrk -t"$THREADS" -c"$CONNS" -d"${TURN}s" --latency "$URL/" >"$T/wrk-page-1.txt" 2>&1 || true
    stop_server
fi

# ---- 3. the table ------------------------------------------------------------------------------
# ms VALUE: wrk's "1.23ms" / "850.00us" / "1.20s" in milliseconds
ms() {
    case "$1" in
    *us) echo "${1%us} / 1000" | bc -l ;;
    *ms) echo "${1%ms}" ;;
    *s) echo "${1%s} * 1000" | bc -l ;;
    *) echo "" ;;
    esac
}
row() { # row LABEL FILE
    rps=$(sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' "$2")
    p50=$(ms "$(awk '$1 == "50%" { print $2 }' "$2")")
    p99=$(ms "$(awk '$1 == "99%" { print $2 }' "$2")")
    errs=$(sed -n 's/^[[:space:]]*Non-2xx or 3xx responses:[[:space:]]*\([0-9]*\).*/\1/p' "$2")
    sock=$(sed -n 's/^[[:space:]]*Socket errors:\(.*\)/\1/p' "$2")
    ok=MISS
    [ -n "$p99" ] && [ "$(echo "$p99 < 50" | bc -l)" = 1 ] && ok=ok
    printf '%-22s %6s %12.0f %10.2f %10.2f   %-5s %s\n' "$1" "$CONNS" "${rps:-0}" "${p50:-0}" "${p99:-0}" "$ok" \
        "${errs:+non-2xx $errs }${sock:+socket errors:$sock}"
}
SLOW=$(echo "($LOADED - $ALONE) * 100 / $ALONE" | bc -l)
slow_ok=MISS
[ "$(echo "$SLOW < 20" | bc -l)" = 1 ] && slow_ok=ok
if [ "$FORMAT" = saf ]; then INPUT_DESC="SAF: $N items (gen_saf, 1 KiB file each)"; else INPUT_DESC="Esploro: $N assets (gen_esploro)"; fi
INPUT_DESC="$INPUT_DESC, $INPUT_BYTES bytes"
echo
echo "bulkrepo web benchmark: $INPUT_DESC, $(nproc) cores, $REPS runs alone and at $RATE requests/s, interleaved"
echo
printf 'import alone         median %8.2f s  %10.0f records/s  (runs: %s; %s)\n' "$ALONE" "$(echo "$N / $ALONE" | bc -l)" "$(paste -sd' ' "$T/alone.s")" "$ALONE_STATUS"
printf 'import at %3s req/s  median %8.2f s  %10.0f records/s  (runs: %s; %s)\n' "$RATE" "$LOADED" "$(echo "$N / $LOADED" | bc -l)" "$(paste -sd' ' "$T/loaded.s")" "$RATE_STATUS"
printf 'slowdown             %8.1f %%   target < 20 %%: %s\n' "$SLOW" "$slow_ok"
printf 'the polling itself   %.0f requests/s served (%d answers, %d not 2xx): p50 %.2f ms, p99 %.2f ms\n' \
    "$POLL_RATE" "$POLL_N" "$POLL_BAD" "$POLL_P50" "$POLL_P99"
if [ "$CLOSED" = 1 ]; then
    echo
    echo "closed loop during one import: wrk -t$THREADS -c$CONNS -d${TURN}s --latency"
    printf '%-22s %6s %12s %10s %10s   %s\n' "endpoint" "conns" "requests/s" "p50 ms" "p99 ms" "p99 < 50 ms"
    row "GET /api/jobs" "$T/wrk-api-1.txt"
    row "GET / (monitor page)" "$T/wrk-page-1.txt"
    printf 'import under wrk      %8.2f s  (%s, %d load turns; a closed loop on the same cores: informational)\n' "$WRK_SECS" "$WRK_STATUS" "$turn"
fi
