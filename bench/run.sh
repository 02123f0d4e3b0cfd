#!/bin/sh
# bench/run.sh — bulkrepo's benchmarks, each beside its floor, measured in the same run
# (issue 13).  `make bench` runs it.
#
#   sh bench/run.sh [PHASE...]        or BENCH_PHASES="PHASE..."; default: saf esploro lint
#
# Phases (each on every filesystem of BENCH_FS, each measure REPS times, interleaved with
# its floor: floor, bulkrepo [, base], floor, ...):
#   saf      SAF, N in BENCH_NS (default 10000 100000), one BENCH_FILE_SIZE file per item:
#              import -a          vs cp -r of the package (and cp -r + sync -f: a durable copy)
#              import -a -v       vs xmllint --stream over the package's XML files
#              export -n 1        vs cp -r of the exported tree
#   esploro  Esploro CSV import of N assets (BENCH_ESPLORO_NS, default 100000; gen_esploro)
#              vs sqlite3 '.import --csv' of the same rows into one table
#   lint     bulkrepo lint of the same CSV vs Python's csv module reading it (when python3 exists)
#   big      SAF at scale, N in BENCH_BIG_NS (default 100000 1000000): import, validate, export
#            and peak RSS; only with BENCH_BIG=1 (the 1,000,000-item package is ~8 GB)
#   sets     on a repository of N Esploro assets (BENCH_SETS_NS, default 100000; issue 10):
#              search p50/p99/max of free-text and fielded queries (bench/search_latency,
#              BENCH_SEARCH_RUNS runs each, default 200; first page of 20 by rank, with the total)
#              update-set (field-add on every asset)  vs sqlite3 UPDATE of one value per asset
#              index-assets (rebuild the index of every asset)
#              delete-set (every asset into the trash) vs sqlite3 DELETE of every item
#              (on a copy of the repository each time), all with peak RSS
#   delivery issue 17, over loopback FTP (Debian's pyftpdlib as shipped): F SAF zips of
#            BENCH_DELIVERY_ITEMS items each (BENCH_DELIVERY_FILES, default 300 and 10) on the server:
#              the fetch job of a pulling profile (its own started..ended)  vs one curl process
#              downloading every file (URL globbing); the whole pull with its F load jobs
#              (`profile run --wait`); an export of the collection delivered to the server
#              (--deliver ftp:) vs the same export written as a zip here, and curl -T of that zip;
#              the fetch job's time comes from its JSON (whole seconds)
#   store    issue 16: the same Esploro CSV of N assets (BENCH_STORE_NS, default 20000) into the
#            embedded database and into PostgreSQL (a throwaway cluster on the same filesystem,
#            scripts/pg-cluster.sh), each against its floor: sqlite3 '.import' and psql '\copy'
#            of the CSV's lines into one table; then the CSV in two halves (split at a group
#            boundary) as two jobs run by `job work --workers 2` on each store; peak RSS is the
#            bulkrepo process's (PostgreSQL's server processes are not counted);
#            BENCH_STORE_TWO=0 leaves out the two-job runs (one run at 1,000,000 is half an hour);
#            then the whole CSV as one job written by two `job work --workers 1` processes in
#            chunks of BENCH_STORE_CHUNK records (default N/20, between 1,000 and 10,000), the
#            issue's "several workers, one job" (BENCH_STORE_ONEJOB=0 leaves it out;
#            BENCH_STORE_ONEJOB_WORKERS="1 2" also runs it with one worker process);
#            BENCH_STORE_ONE=0 leaves out the one-worker imports, BENCH_STORE_STORES the stores
#            (default "embedded postgresql")
#   turns    writers' turns on the embedded store: an Esploro import of N assets
#            (BENCH_TURNS_NS, default 100000) runs in the background; once it writes, BENCH_TURNS_K
#            (default 20) `collection create` commands, one after another, each timed from its
#            start to its exit, vs the same command on the idle repository; a run whose import
#            ended before the writes did is void (said so); with BULKREPO_BASE both binaries
#   web      sh bench/web.sh: an import's slowdown under ~100 requests/s of staff-like polling,
#            and p99 at 64 connections closed-loop (needs curl and wrk; see web.sh)
#
# Every measure prints min / median / max seconds, the rate at the median, peak RSS (GNU time,
# else VmHWM polling), and its ratio to the floor's median.  A floor whose max/min is over
# 1.30 is flagged: the machine was busy and the ratios are not to be trusted.
#
# Environment:
#   REPS (or BENCH_REPS)  repetitions (default 3)
#   BENCH_FS              tmpfs | disk | both (default both; tmpfs only where one exists)
#   BENCH_DIR             the disk location (default bench/out/work); BENCH_TMPFS the tmpfs
#                         location (default /dev/shm)
#   BULKREPO              the binary (default build/bulkrepo); GEN_SAF, GEN_ESPLORO (default
#                         build/tools/...)
#   BULKREPO_BASE         a second (older) binary: every bulkrepo measure runs for both,
#                         interleaved, for before/after figures
#   BENCH_FILE_SIZE       bytes per SAF file (default 4096); BENCH_SEED (default 1)
#   BENCH_NO_GNU_TIME=1   peak RSS by VmHWM polling instead of /usr/bin/time
# Output: a table on stdout and bench/out/results.md (command line, date, machine, filesystems,
# the source commit); raw samples in bench/out/samples.tsv, logs in bench/out/logs/.
set -u

cd "$(dirname "$0")/.." || exit 4
TOP=$PWD
CMDLINE="bench/run.sh${*:+ $*}"

abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$TOP/$1" ;; esac; }
BR=$(abspath "${BULKREPO:-build/bulkrepo}")
GEN=$(abspath "${GEN_SAF:-build/tools/gen_saf}")
GEN_E=$(abspath "${GEN_ESPLORO:-build/tools/gen_esploro}")
BASE=
[ -n "${BULKREPO_BASE:-}" ] && BASE=$(abspath "$BULKREPO_BASE")
PHASES=${*:-${BENCH_PHASES:-saf esploro lint}}
REPS=${REPS:-${BENCH_REPS:-3}}
NS=${BENCH_NS:-10000 100000}
ENS=${BENCH_ESPLORO_NS:-100000}
PNS=${BENCH_PUB_NS:-10000 100000} # ONIX products / XLSX rows (phase pub)
SNS=${BENCH_SETS_NS:-100000}       # assets (phase sets)
STNS=${BENCH_STORE_NS:-20000}      # assets (phase store)
TNS=${BENCH_TURNS_NS:-100000}      # assets imported beside the writes (phase turns)
TK=${BENCH_TURNS_K:-20}            # writes beside that import
SEARCH_RUNS=${BENCH_SEARCH_RUNS:-200}
DFILES=${BENCH_DELIVERY_FILES:-300} # zips on the FTP server (phase delivery)
DITEMS=${BENCH_DELIVERY_ITEMS:-10}  # items per zip
GEN_ONIX=$(dirname "$GEN")/gen_onix
GEN_XLSX=$(dirname "$GEN")/gen_xlsx
BIG_NS=${BENCH_BIG_NS:-100000 1000000}
FSIZE=${BENCH_FILE_SIZE:-4096}
SEED=${BENCH_SEED:-1}
FS_CHOICE=${BENCH_FS:-both}
DISK_DIR=$(abspath "${BENCH_DIR:-bench/out/work}")
TMPFS_DIR=${BENCH_TMPFS:-/dev/shm}
OUT=$TOP/bench/out
LOGS=$OUT/logs
SAMPLES=$OUT/samples.tsv
ROWS=$OUT/results.rows
MD=$OUT/results.md
WEB_OUT=$OUT/web.txt

die() {
	echo "bench: $*" >&2
	exit 4
}
for b in "$BR" "$GEN" "$GEN_E" ${BASE:+"$BASE"}; do
	[ -x "$b" ] || die "$b not found or not executable (make all tools)"
done
case $REPS in '' | *[!0-9]* | 0) die "REPS must be a positive integer" ;; esac
for p in $PHASES; do
	case $p in saf | esploro | lint | big | web | pub | sets | delivery | store | turns) ;; *) die "unknown phase '$p' (saf esploro lint big web pub sets delivery store turns)" ;; esac
done
mkdir -p "$OUT" "$LOGS" || exit 4
: >"$SAMPLES"
: >"$ROWS"
rm -f "$WEB_OUT"

TIME_BIN=
if [ -z "${BENCH_NO_GNU_TIME:-}" ] && [ -x /usr/bin/time ] &&
	/usr/bin/time -f '%M' -o /dev/null true >/dev/null 2>&1; then
	TIME_BIN=/usr/bin/time
fi
RSS_SRC="GNU time (%M)"
[ -n "$TIME_BIN" ] || RSS_SRC="VmHWM polling"
case $(date +%N) in
*N* | '') now() { date +%s; } ;;
*) now() { date +%s.%N; } ;;
esac

# ---- where: the filesystems ------------------------------------------------------------------
FSLIST=
case $FS_CHOICE in
tmpfs | both)
	if [ -d "$TMPFS_DIR" ] && [ -w "$TMPFS_DIR" ] &&
		[ "$(stat -f -c %T "$TMPFS_DIR" 2>/dev/null)" = tmpfs ]; then
		FSLIST="tmpfs"
	else
		echo "bench: no writable tmpfs at $TMPFS_DIR (BENCH_TMPFS); tmpfs runs skipped" >&2
	fi
	;;
disk) ;;
*) die "BENCH_FS is tmpfs, disk or both, not '$FS_CHOICE'" ;;
esac
case $FS_CHOICE in disk | both) FSLIST="$FSLIST disk" ;; esac
[ -n "$FSLIST" ] || die "no filesystem to run on"

WORKS=
# shellcheck disable=SC2317  # invoked via trap
cleanup() {
	for w in $WORKS; do rm -rf "$w"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# workdir FS: a fresh folder on that filesystem (WORK)
workdir() {
	if [ "$1" = tmpfs ]; then w_base=$TMPFS_DIR; else w_base=$DISK_DIR; fi
	mkdir -p "$w_base" || die "cannot create $w_base"
	WORK=$(mktemp -d "$w_base/bulkrepo-bench.XXXXXX") || die "cannot create a folder in $w_base"
	WORKS="$WORKS $WORK"
}
dropwork() {
	rm -rf "$WORK"
	sync
}
# room DIR BYTES: 0 when DIR's filesystem has BYTES free
room() {
	r_free=$(df -Pk "$1" 2>/dev/null | awk 'NR == 2 { print $4 }')
	[ -n "$r_free" ] && [ "$r_free" -gt $(($2 / 1024)) ]
}

# ---- measuring ---------------------------------------------------------------------------------
# warm DIR|FILE: settle earlier writes, then read the input once (a warm page cache)
warm() {
	sync
	if [ -d "$1" ]; then
		find "$1" -type f -exec cat {} + >/dev/null 2>&1
	else
		cat "$1" >/dev/null 2>&1
	fi
}

# measure CMD...: sets M_SECS, M_RSS (MB or n/a), M_RC; output in $LOGS/last.{out,err}
measure() {
	m_t0=$(now)
	if [ -n "$TIME_BIN" ]; then
		"$TIME_BIN" -f '%M' -o "$LOGS/time.out" "$@" >"$LOGS/last.out" 2>"$LOGS/last.err"
		M_RC=$?
		m_kb=$(tail -n 1 "$LOGS/time.out" 2>/dev/null)
	else
		"$@" >"$LOGS/last.out" 2>"$LOGS/last.err" &
		m_pid=$!
		m_kb=
		while kill -0 "$m_pid" 2>/dev/null; do
			m_v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$m_pid/status" 2>/dev/null)
			[ -n "$m_v" ] && m_kb=$m_v
			sleep 0.05
		done
		wait "$m_pid"
		M_RC=$?
	fi
	m_t1=$(now)
	M_SECS=$(awk -v a="$m_t0" -v b="$m_t1" 'BEGIN { printf "%.3f", b - a }')
	case $m_kb in
	'' | *[!0-9]*) M_RSS=n/a ;;
	*) M_RSS=$(awk -v k="$m_kb" 'BEGIN { printf "%.1f", k / 1024 }') ;;
	esac
	if [ "$M_RC" -ne 0 ]; then
		echo "bench: '$*' exited $M_RC:" >&2
		tail -n 5 "$LOGS/last.err" >&2
		FAILED=1
	fi
}

# sample GROUP KIND LABEL: records the last measure (KIND floor or bulkrepo)
sample() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$REP" "$M_SECS" "$M_RSS" "$M_RC" >>"$SAMPLES"
	printf '  rep %s  %-28s %9s s  RSS %7s MB%s\n' "$REP" "$3" "$M_SECS" "$M_RSS" \
		"$([ "$M_RC" = 0 ] || echo "  exit $M_RC")"
}

# bins: "new" and, with BULKREPO_BASE, "base"
BINS=new
[ -n "$BASE" ] && BINS="new base"
bin_of() { if [ "$1" = base ]; then echo "$BASE"; else echo "$BR"; fi; }
tag() { if [ "$1" = base ]; then echo "$2 [base]"; else echo "$2"; fi; }

# summarize GROUP UNITS UNIT_NAME FLOOR_LABEL MEASURE_LABEL TARGET [KIND]:
# one row: min/median/max of the measure's samples, rate at the median, peak RSS, ratio of
# its median to the floor's median (FLOOR_LABEL '-' for none).  KIND floor rows get their
# spread checked.
summarize() {
	awk -F '\t' -v g="$1" -v units="$2" -v uname="$3" -v fl="$4" -v ml="$5" -v tgt="$6" '
	function med(a, n,   i, j, t) {
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	$1 == g && $3 == ml && $7 == 0 { m[++nm] = $5; if ($6 != "n/a" && $6 + 0 > rss) rss = $6 + 0; kind = $2 }
	$1 == g && $3 == ml && $7 != 0 { bad++ }
	$1 == g && $3 == fl && $7 == 0 { f[++nf] = $5 }
	END {
		if (!nm) { printf "%s\t%s\t-\t-\t-\t-\t-\t-\t%s\tFAILED (%d runs)\n", g, ml, tgt, bad; exit }
		lo = m[1]; hi = m[1]; for (i = 1; i <= nm; i++) { if (m[i] < lo) lo = m[i]; if (m[i] > hi) hi = m[i] }
		md = med(m, nm)
		rate = md > 0 ? units / md : 0
		if (uname == "MB/s") r = sprintf("%.0f MB/s", rate / 1e6); else r = sprintf("%.0f %s", rate, uname)
		ratio = "-"
		if (nf) { fm = med(f, nf); if (fm > 0) ratio = sprintf("%.2fx", md / fm) }
		spread = lo > 0 ? hi / lo : 0
		note = ""
		if (kind == "floor" && spread > 1.30) note = sprintf("BUSY: spread %.0f%%", (spread - 1) * 100)
		if (bad) note = note (note ? "; " : "") bad " failed runs"
		printf "%s\t%s\t%.3f\t%.3f\t%.3f\t%s\t%s\t%s\t%s\t%s\n", g, ml, lo, md, hi, r,
			rss ? sprintf("%.1f", rss) : "n/a", ratio, tgt, note
	}' "$SAMPLES" >>"$ROWS"
	tail -n 1 "$ROWS" | awk -F '\t' '{ printf "  %-30s min %8s  median %8s  max %8s  %18s  RSS %6s MB  %7s  %s %s\n",
		$2, $3, $4, $5, $6, $7, $8, $9, ($10 != "" ? "<- " $10 : "") }'
	case $(tail -n 1 "$ROWS" | cut -f 10) in BUSY*) BUSY=1 ;; esac
}

# ---- SAF -----------------------------------------------------------------------------------------
new_repo() { # new_repo BIN DIR: an empty repository with one collection (COLL)
	rm -rf "$2"
	"$1" --repo "$2" init >"$LOGS/init.log" 2>&1 || die "init failed: $(tail -n 3 "$LOGS/init.log")"
	COLL=$("$1" --repo "$2" collection create Bench 2>"$LOGS/init.log") ||
		die "collection create failed: $(tail -n 3 "$LOGS/init.log")"
}

saf_bench() { # saf_bench FS N
	fs=$1
	n=$2
	workdir "$fs"
	need=$(((FSIZE + 3000) * n * 5))
	if ! room "$WORK" "$need"; then
		echo "bench: saf N=$n on $fs: needs ~$((need / 1000000)) MB free in $WORK; skipped" >&2
		printf 'saf %s N=%s\t(skipped: not enough space)\t-\t-\t-\t-\t-\t-\t-\t-\n' "$fs" "$n" >>"$ROWS"
		dropwork
		return
	fi
	g="saf $fs N=$n"
	echo "== $g ($WORK)"
	pkg=$WORK/pkg
	"$GEN" "$pkg" "$n" --seed "$SEED" --file-size "$FSIZE" >"$LOGS/gen.log" 2>&1 ||
		die "gen_saf failed: $(tail -n 3 "$LOGS/gen.log")"
	find "$pkg" -name '*.xml' >"$WORK/xml.list"
	REP=1
	while [ "$REP" -le "$REPS" ]; do
		warm "$pkg"
		measure cp -r "$pkg" "$WORK/copy"
		sample "$g" floor "cp -r package"
		rm -rf "$WORK/copy"
		warm "$pkg"
		# shellcheck disable=SC2016 # the inner shell expands them
		measure sh -c 'cp -r "$1" "$2" && sync -f "$2"' sh "$pkg" "$WORK/copy"
		sample "$g" floor "cp -r package + sync"
		rm -rf "$WORK/copy"
		for b in $BINS; do
			bin=$(bin_of "$b")
			new_repo "$bin" "$WORK/r.$b"
			rm -f "$WORK/map.$b"
			warm "$pkg"
			measure "$bin" --repo "$WORK/r.$b" import -a -s "$pkg" -c "$COLL" -m "$WORK/map.$b"
			sample "$g" bulkrepo "$(tag "$b" import)"
		done
		warm "$pkg"
		# shellcheck disable=SC2016 # the inner shell expands it
		measure sh -c 'xargs xmllint --stream --noout <"$1"' sh "$WORK/xml.list"
		sample "$g" floor "xmllint --stream"
		for b in $BINS; do
			bin=$(bin_of "$b")
			new_repo "$bin" "$WORK/v.$b"
			rm -f "$WORK/vmap.$b"
			warm "$pkg"
			measure "$bin" --repo "$WORK/v.$b" import -a -v -s "$pkg" -c "$COLL" -m "$WORK/vmap.$b"
			sample "$g" bulkrepo "$(tag "$b" "validate (-v)")"
			rm -rf "$WORK/v.$b"
		done
		for b in $BINS; do
			bin=$(bin_of "$b")
			rm -rf "$WORK/exp.$b"
			mkdir -p "$WORK/exp.$b"
			sync
			measure "$bin" --repo "$WORK/r.$b" export -t COLLECTION -i "$COLL" -d "$WORK/exp.$b" -n 1
			sample "$g" bulkrepo "$(tag "$b" "export -n 1")"
		done
		warm "$WORK/exp.new"
		measure cp -r "$WORK/exp.new" "$WORK/expcopy"
		sample "$g" floor "cp -r export"
		rm -rf "$WORK/expcopy" "$WORK"/exp.*
		sync
		REP=$((REP + 1))
	done
	summarize "$g" "$n" items/s - "cp -r package" "floor (import)"
	summarize "$g" "$n" items/s - "cp -r package + sync" "floor (durable import)"
	for b in $BINS; do
		summarize "$g" "$n" items/s "cp -r package" "$(tag "$b" import)" "<= 2x cp -r, RSS < 64 MB"
	done
	summarize "$g" "$n" items/s - "xmllint --stream" "floor (validate)"
	for b in $BINS; do
		summarize "$g" "$n" items/s "xmllint --stream" "$(tag "$b" "validate (-v)")" ">= 20,000 items/s"
	done
	summarize "$g" "$n" items/s - "cp -r export" "floor (export)"
	for b in $BINS; do
		summarize "$g" "$n" items/s "cp -r export" "$(tag "$b" "export -n 1")" "<= 2x cp -r of the tree"
	done
	dropwork
}

# ---- Esploro -------------------------------------------------------------------------------------
UNITS=$OUT/units.csv
printf 'code,name\n' >"$UNITS"
u=0
while [ $u -lt 50 ]; do
	printf '01BENCH_INST___u%03d,Unit %d\n' $u $u >>"$UNITS"
	u=$((u + 1))
done

# esploro_input FS N WHAT: a fresh work folder on FS (WORK), the measure group g ("WHAT FS
# N=N") announced, and N generated Esploro assets in csv
esploro_input() {
	workdir "$1"
	g="$3 $1 N=$2"
	echo "== $g ($WORK)"
	csv=$WORK/assets.csv
	"$GEN_E" -n "$2" -o "$csv" >"$LOGS/gen.log" 2>&1 || die "gen_esploro failed: $(tail -n 3 "$LOGS/gen.log")"
}

esploro_bench() { # esploro_bench FS N WHAT (import|lint)
	fs=$1
	n=$2
	what=$3
	esploro_input "$fs" "$n" "esploro $what"
	bytes=$(wc -c <"$csv")
	REP=1
	while [ "$REP" -le "$REPS" ]; do
		if [ "$what" = import ]; then
			rm -f "$WORK/raw.db"
			warm "$csv"
			measure sqlite3 "$WORK/raw.db" ".import --csv $csv t"
			sample "$g" floor "sqlite3 .import"
			rm -f "$WORK/raw.db"
			for b in $BINS; do
				bin=$(bin_of "$b")
				new_repo "$bin" "$WORK/r.$b"
				"$bin" --repo "$WORK/r.$b" orgunit import "$UNITS" >"$LOGS/units.log" 2>&1 ||
					die "orgunit import failed: $(tail -n 3 "$LOGS/units.log")"
				rm -f "$WORK/map.$b"
				warm "$csv"
				measure "$bin" --repo "$WORK/r.$b" import --format esploro-csv -s "$csv" -m "$WORK/map.$b"
				sample "$g" bulkrepo "$(tag "$b" import)"
				rm -rf "$WORK/r.$b"
			done
		else
			if [ -n "$PY" ]; then
				warm "$csv"
				measure "$PY" -c 'import csv, sys
n = 0
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    for row in csv.reader(f):
        n += 1' "$csv"
				sample "$g" floor "python3 csv"
			fi
			for b in $BINS; do
				bin=$(bin_of "$b")
				warm "$csv"
				measure "$bin" lint "$csv" --quiet
				sample "$g" bulkrepo "$(tag "$b" lint)"
			done
		fi
		REP=$((REP + 1))
	done
	if [ "$what" = import ]; then
		summarize "$g" "$n" assets/s - "sqlite3 .import" "floor (import)"
		for b in $BINS; do
			summarize "$g" "$n" assets/s "sqlite3 .import" "$(tag "$b" import)" "<= 2x sqlite3 .import"
		done
	else
		[ -n "$PY" ] && summarize "$g" "$bytes" MB/s - "python3 csv" "floor (lint)"
		for b in $BINS; do
			summarize "$g" "$bytes" MB/s "python3 csv" "$(tag "$b" lint)" ">= 400 MB/s"
		done
	fi
	dropwork
}

# ---- writers' turns on the embedded store ----------------------------------------------------------
turns_bench() { # turns_bench FS N
	fs=$1
	n=$2
	esploro_input "$fs" "$n" turns
	REP=1
	while [ "$REP" -le "$REPS" ]; do
		for b in $BINS; do
			bin=$(bin_of "$b")
			new_repo "$bin" "$WORK/r"
			"$bin" --repo "$WORK/r" orgunit import "$UNITS" >"$LOGS/units.log" 2>&1 ||
				die "orgunit import failed: $(tail -n 3 "$LOGS/units.log")"
			k=1
			while [ "$k" -le "$TK" ]; do
				measure "$bin" --repo "$WORK/r" collection create "idle $k"
				sample "$g" floor "$(tag "$b" "write, idle")"
				k=$((k + 1))
			done
			warm "$csv"
			"$bin" --repo "$WORK/r" import --format esploro-csv -s "$csv" -c "$COLL" -m "$WORK/map" \
				>"$LOGS/turns-import.log" 2>&1 &
			t_pid=$!
			# the import writes once its first asset is stored (validation comes first)
			until [ -n "$("$bin" --repo "$WORK/r" item list 2>/dev/null | head -n 1)" ]; do
				kill -0 "$t_pid" 2>/dev/null || break
				sleep 0.1
			done
			k=1
			while [ "$k" -le "$TK" ]; do
				measure "$bin" --repo "$WORK/r" collection create "busy $k"
				sample "$g" bulkrepo "$(tag "$b" "write beside an import")"
				k=$((k + 1))
			done
			kill -0 "$t_pid" 2>/dev/null ||
				{ echo "bench: $b: the import ended before the writes did: this run is void" >&2; FAILED=1; }
			wait "$t_pid" || { echo "bench: $b: the import failed: $(tail -n 2 "$LOGS/turns-import.log")" >&2; FAILED=1; }
			rm -rf "$WORK/r" "$WORK/map"
		done
		REP=$((REP + 1))
	done
	for b in $BINS; do
		summarize "$g" 1 writes/s - "$(tag "$b" "write, idle")" "floor (idle write)"
		summarize "$g" 1 writes/s "$(tag "$b" "write, idle")" "$(tag "$b" "write beside an import")" "one batch's wait"
	done
	dropwork
}

# ---- stores (issue 16) ---------------------------------------------------------------------------
# store_repo BIN DIR STORE: a repository on STORE ("" = embedded) with the bench's units
store_repo() {
	rm -rf "$2"
	"$1" --repo "$2" init ${3:+--store "$3"} >"$LOGS/init.log" 2>&1 ||
		die "init failed: $(tail -n 3 "$LOGS/init.log")"
	"$1" --repo "$2" orgunit import "$UNITS" >"$LOGS/units.log" 2>&1 ||
		die "orgunit import failed: $(tail -n 3 "$LOGS/units.log")"
}

store_bench() { # store_bench FS N
	fs=$1
	n=$2
	esploro_input "$fs" "$n" store
	chunk=${BENCH_STORE_CHUNK:-$((n / 20))}
	[ "$chunk" -lt 1000 ] && chunk=1000
	[ "$chunk" -gt 10000 ] && chunk=10000
	# Two halves, split where a new group (column B) starts.
	[ "${BENCH_STORE_TWO:-1}" = 0 ] || "$PY" -c 'import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
head, body = rows[0], rows[1:]
cut = len(body) // 2
while cut < len(body) and body[cut][1] == "": cut += 1
for name, part in ((sys.argv[2], body[:cut]), (sys.argv[3], body[cut:])):
    with open(name, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f); w.writerow(head); w.writerows(part)' "$csv" "$WORK/a.csv" "$WORK/b.csv" ||
		die "cannot split the CSV"
	pgdir=$WORK/pg
	chmod a+x "$WORK" # the cluster's owner (postgres, when run as root) must reach it
	admin=$(sh "$TOP/scripts/pg-cluster.sh" start "$pgdir") || die "cannot start PostgreSQL in $pgdir"
	base=${admin%/postgres}
	db=0
	newdb() { db=$((db + 1)); psql -q "$admin" -c "CREATE DATABASE b$db" >/dev/null || die "createdb"; PGDB="$base/b$db"; }
	REP=1
	while [ "$REP" -le "$REPS" ]; do
		rm -f "$WORK/raw.db"
		warm "$csv"
		measure sqlite3 "$WORK/raw.db" ".import --csv $csv t"
		sample "$g" floor "sqlite3 .import"
		rm -f "$WORK/raw.db"
		newdb
		psql -q "$PGDB" -c "CREATE TABLE t (line text)" >/dev/null || die "psql"
		warm "$csv"
		measure psql -q "$PGDB" -c "\\copy t FROM '$csv' WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')"
		sample "$g" floor "psql COPY"
		for st in ${BENCH_STORE_STORES:-embedded postgresql}; do
			if [ "${BENCH_STORE_ONE:-1}" != 0 ]; then
				if [ $st = postgresql ]; then newdb; S=$PGDB; else S=; fi
				store_repo "$BR" "$WORK/r" "$S"
				warm "$csv"
				measure "$BR" --repo "$WORK/r" import --format esploro-csv -s "$csv" -m "$WORK/map"
				sample "$g" bulkrepo "$st import, 1 worker"
				rm -rf "$WORK/r" "$WORK/map"
			fi
			for w in ${BENCH_STORE_ONEJOB_WORKERS:-2}; do
				[ "${BENCH_STORE_ONEJOB:-1}" = 0 ] && break
				if [ $st = postgresql ]; then newdb; S=$PGDB; else S=; fi
				store_repo "$BR" "$WORK/r" "$S"
				"$BR" --repo "$WORK/r" import --format esploro-csv -s "$csv" -m "$WORK/map" \
					--submit >"$LOGS/submit.log" 2>&1 || die "submit failed"
				warm "$csv"
				# w worker processes, as on w machines; --once: each ends with the queue
				measure sh -c 'i=1; while [ $i -lt "$4" ]; do
					"$1" --repo "$2" job work --workers 1 --once --chunk "$3" --name "w$i" & i=$((i + 1))
					done; "$1" --repo "$2" job work --workers 1 --once --chunk "$3" --name "w$4"; wait' \
					sh "$BR" "$WORK/r" "$chunk" "$w"
				sample "$g" bulkrepo "$st 1 job, $w worker$([ "$w" = 1 ] || echo s)"
				got=$("$BR" --repo "$WORK/r" item list 2>/dev/null | wc -l)
				[ "$got" -eq "$n" ] || { echo "bench: 1 job on $w workers stored $got of $n" >&2; FAILED=1; }
				jid=$(grep -m 1 -E '^[0-9]+$' "$LOGS/submit.log")
				"$BR" --repo "$WORK/r" job events "$jid" >"$LOGS/onejob-events.log" 2>&1
				[ "$w" = 1 ] || grep -q "w[0-9]* writes chunks of it" "$LOGS/onejob-events.log" ||
					echo "bench: note: $st: no other worker wrote a chunk (the job ended first)" >&2
				rm -rf "$WORK/r" "$WORK/map"
			done
			[ "${BENCH_STORE_TWO:-1}" = 0 ] && continue
			if [ $st = postgresql ]; then newdb; S=$PGDB; fi
			store_repo "$BR" "$WORK/r" "$S"
			for half in a b; do
				"$BR" --repo "$WORK/r" import --format esploro-csv -s "$WORK/$half.csv" \
					-m "$WORK/map.$half" --submit >"$LOGS/submit.log" 2>&1 || die "submit failed"
			done
			warm "$csv"
			measure "$BR" --repo "$WORK/r" job work --workers 2 --once
			sample "$g" bulkrepo "$st 2 jobs, 2 workers"
			got=$("$BR" --repo "$WORK/r" item list 2>/dev/null | wc -l)
			[ "$got" -ge "$n" ] || { echo "bench: 2 workers stored $got of $n" >&2; FAILED=1; }
			rm -rf "$WORK/r" "$WORK/map.a" "$WORK/map.b"
		done
		REP=$((REP + 1))
	done
	sh "$TOP/scripts/pg-cluster.sh" stop "$pgdir" >/dev/null 2>&1
	summarize "$g" "$n" assets/s - "sqlite3 .import" "floor (embedded)"
	summarize "$g" "$n" assets/s - "psql COPY" "floor (PostgreSQL)"
	for st in ${BENCH_STORE_STORES:-embedded postgresql}; do
		if [ $st = postgresql ]; then fl="psql COPY"; tg="-"; else fl="sqlite3 .import"; tg="as before"; fi
		[ "${BENCH_STORE_ONE:-1}" = 0 ] || summarize "$g" "$n" assets/s "$fl" "$st import, 1 worker" "$tg"
		for w in ${BENCH_STORE_ONEJOB_WORKERS:-2}; do
			[ "${BENCH_STORE_ONEJOB:-1}" = 0 ] ||
				summarize "$g" "$n" assets/s "$fl" "$st 1 job, $w worker$([ "$w" = 1 ] || echo s)" "-"
		done
		[ "${BENCH_STORE_TWO:-1}" = 0 ] || summarize "$g" "$n" assets/s "$fl" "$st 2 jobs, 2 workers" "-"
	done
	dropwork
}

# ---- the report ----------------------------------------------------------------------------------
fs_desc() {
	for fs in $FSLIST; do
		if [ "$fs" = tmpfs ]; then d=$TMPFS_DIR; else
			mkdir -p "$DISK_DIR"
			d=$DISK_DIR
		fi
		printf '%s: %s (%s on %s)  ' "$fs" "$d" "$(df -PT "$d" 2>/dev/null | awk 'NR == 2 { print $2 }')" \
			"$(df -P "$d" 2>/dev/null | awk 'NR == 2 { print $1 }')"
	done
}
COMMIT=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo '?')
[ -n "$(git -C "$TOP" status --porcelain --untracked-files=no 2>/dev/null)" ] && COMMIT="$COMMIT (tree modified)"
MACHINE="$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)), $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null) memory, $(uname -sr)"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
DATE0=$(date -u '+%Y-%m-%d %H:%M UTC')

write_md() {
	{
		echo "# bulkrepo benchmark results"
		echo
		echo "- command: \`$(env | grep -E '^(REPS|BENCH_[A-Z_]*|BULKREPO|BULKREPO_BASE|GEN_SAF|GEN_ESPLORO)=' | sort | tr '\n' ' ')$CMDLINE\`"
		echo "- date: $DATE0; load average at start $LOAD0, at end $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
		echo "- machine: $MACHINE"
		echo "- filesystems: $(fs_desc)"
		echo "- binary: $BR (source commit $COMMIT)${BASE:+; base: $BASE}"
		echo "- $REPS runs of each measure, interleaved with its floor; peak RSS by $RSS_SRC;" \
			"SAF file size $FSIZE bytes, seed $SEED"
		[ "${BUSY:-0}" = 1 ] && echo "- **warning: a floor varied by more than 30 % between runs: the machine was busy; do not quote these ratios**"
		echo
		echo "Rates are at the median.  *vs floor*: the measure's median time over its floor's median time, both"
		echo "from this run (below 1: faster than the floor).  *BUSY*: that floor's max/min was over 1.30."
		echo
		echo "| benchmark | measure | min s | median s | max s | rate (median) | peak RSS MB | vs floor | target | note |"
		echo "|---|---|---:|---:|---:|---:|---:|---:|---|---|"
		awk -F '\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }' "$ROWS"
		if [ -s "$WEB_OUT" ]; then
			echo
			echo "## The server under load (bench/web.sh)"
			echo
			echo '```'
			cat "$WEB_OUT"
			echo '```'
		fi
	} >"$MD"
}

# ---- delivery: pulling from and delivering to an FTP server (issue 17) ---------------------------
# seconds between a job's started and ended (its JSON), for the fetch job's own time
job_secs() {
	"$BR" --repo "$1" job show "$2" --json 2>/dev/null | python3 -c '
import json, sys
from datetime import datetime
j = json.load(sys.stdin)
f = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
print("%.3f" % (f(j["ended"]) - f(j["started"])).total_seconds())'
}

delivery_bench() { # delivery_bench FS
	fs=$1
	workdir "$fs"
	g="delivery $fs F=$DFILES x $DITEMS items"
	echo "== $g ($WORK)"
	mkdir -p "$WORK/server/in" "$WORK/server/out"
	i=1
	while [ "$i" -le "$DFILES" ]; do
		rm -rf "$WORK/pkg"
		"$GEN" "$WORK/pkg" "$DITEMS" --seed "$((SEED + i))" --file-size "$FSIZE" >"$LOGS/gen.log" 2>&1 ||
			die "gen_saf failed"
		(cd "$WORK/pkg" && zip -qr "$WORK/server/in/f$i.zip" .) || die "zip failed"
		i=$((i + 1))
	done
	rm -rf "$WORK/pkg"
	# pyftpdlib as shipped (the tests' ftpd.py adds misbehaviours and is slower and uneven)
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	/usr/bin/python3 -m pyftpdlib -i 127.0.0.1 -p "$port" -w -d "$WORK/server" -u bench -P bench-pw \
		>"$LOGS/ftpd.log" 2>&1 &
	ftpd=$!
	url="ftp://127.0.0.1:$port"
	t=0
	until curl -sS --user bench:bench-pw "$url/" -o /dev/null 2>/dev/null || [ "$t" -ge 100 ]; do
		sleep 0.1
		t=$((t + 1))
	done
	REP=1
	while [ "$REP" -le "$REPS" ]; do
		rm -rf "$WORK/dl"
		mkdir -p "$WORK/dl"
		measure curl -sS --user bench:bench-pw "$url/in/f[1-$DFILES].zip" -o "$WORK/dl/f#1.zip"
		sample "$g" floor "curl get (all files)"
		r=$WORK/repo
		new_repo "$BR" "$r"
		printf 'bench-pw\n' | "$BR" --repo "$r" ftp add src --url "$url/" --user bench --password-stdin \
			>"$LOGS/ftp.log" 2>&1 || die "ftp add failed: $(tail -n 3 "$LOGS/ftp.log")"
		"$BR" --repo "$r" profile add pub --format saf --collection "$COLL" --ftp src --remote-dir in \
			>"$LOGS/profile.log" 2>&1 || die "profile add failed: $(tail -n 3 "$LOGS/profile.log")"
		measure "$BR" --repo "$r" profile run pub --wait
		sample "$g" bulkrepo "pull: fetch + $DFILES loads"
		fetch=$(head -n 1 "$LOGS/last.out")
		M_SECS=$(job_secs "$r" "$fetch")
		M_RSS=n/a
		M_RC=0
		[ -n "$M_SECS" ] || M_RC=1
		sample "$g" bulkrepo "fetch job (its own time)"
		measure "$BR" --repo "$r" export -t COLLECTION -i "$COLL" --deliver "ftp:src" --subdir "out/r$REP"
		sample "$g" bulkrepo "export + delivery (ftp)"
		rm -rf "$WORK/exp" && mkdir -p "$WORK/exp"
		measure "$BR" --repo "$r" export -t COLLECTION -i "$COLL" -d "$WORK/exp" -z export.zip
		sample "$g" bulkrepo "export (zip, no delivery)"
		up=$(find "$WORK/server/out/r$REP" -name '*.zip' | head -n 1)
		measure curl -sS --user bench:bench-pw -T "$up" "$url/out/floor-r$REP.zip"
		sample "$g" floor "curl put (the export zip)"
		REP=$((REP + 1))
	done
	kill "$ftpd" 2>/dev/null
	wait "$ftpd" 2>/dev/null
	summarize "$g" "$DFILES" files/s - "curl get (all files)" "floor (FTP download)"
	summarize "$g" "$DFILES" files/s "curl get (all files)" "fetch job (its own time)" "<= 3x curl"
	summarize "$g" "$((DFILES * DITEMS))" items/s - "pull: fetch + $DFILES loads" "-"
	summarize "$g" "$((DFILES * DITEMS))" items/s - "export (zip, no delivery)" "-"
	summarize "$g" "$((DFILES * DITEMS))" items/s "export (zip, no delivery)" "export + delivery (ftp)" "delivery adds little"
	summarize "$g" 1 uploads/s - "curl put (the export zip)" "floor (FTP upload)"
	dropwork
}

# ---- sets: search and the jobs that change sets (issue 10) ----------------------------------------
SL=$(dirname "$GEN")/search_latency

# a set job on the set "all", waited for: the job's id in JOB_ID
set_job() { # set_job REPO TYPE PARAM...
	sj_repo=$1
	sj_type=$2
	shift 2
	sj_args=
	for a in "$@"; do sj_args="$sj_args --param $a"; done
	# shellcheck disable=SC2086
	measure "$BR" --repo "$sj_repo" job run "$sj_type" --set all $sj_args --wait
}

sets_bench() { # sets_bench FS N
	fs=$1
	n=$2
	workdir "$fs"
	g="sets $fs N=$n"
	echo "== $g ($WORK)"
	[ -x "$SL" ] || die "$SL not found (make tools)"
	csv=$WORK/assets.csv
	"$GEN_E" -n "$n" -o "$csv" >"$LOGS/gen.log" 2>&1 || die "gen_esploro failed: $(tail -n 3 "$LOGS/gen.log")"
	r=$WORK/r
	new_repo "$BR" "$r"
	"$BR" --repo "$r" orgunit import "$UNITS" >"$LOGS/units.log" 2>&1 || die "orgunit import failed"
	"$BR" --repo "$r" import --format esploro-csv -s "$csv" -m "$WORK/map" >"$LOGS/imp.log" 2>&1 ||
		die "import failed: $(tail -n 3 "$LOGS/imp.log")"
	"$BR" --repo "$r" set create all --query 'status:draft OR status:archived' >"$LOGS/set.log" 2>&1 ||
		die "set create failed: $(tail -n 3 "$LOGS/set.log")"
	# Search: a free-text word, a phrase, fielded terms, a date range, booleans.
	"$SL" "$r" "$SEARCH_RUNS" 'genome' '"soil energy"' 'title:archive' 'creator:muller' \
		'date:2019..2021' 'type:doctoral AND has:doi' 'genome OR policy NOT status:withdrawn' \
		>"$LOGS/search.out" 2>"$LOGS/search.err" || die "search_latency failed: $(tail -n 3 "$LOGS/search.err")"
	awk -F '\t' -v g="$g" '{ printf "%s\tsearch %s (%s hits; p50 / p99 / max ms)\t%s\t%s\t%s\t-\t-\t-\tp99 < 100 ms\t\n", g, $1, $2, $3, $4, $5 }' \
		"$LOGS/search.out" >>"$ROWS"
	sed 's/^/  search /' "$LOGS/search.out"
	db=$r/bulkrepo.db
	REP=1
	while [ "$REP" -le "$REPS" ]; do
		measure sqlite3 "$db" "UPDATE metadata_value SET value = value || '' WHERE field_id =
			(SELECT f.id FROM metadata_field f JOIN metadata_schema s ON s.id = f.schema_id
			 WHERE s.prefix = 'dc' AND f.element = 'title' AND f.qualifier = '')"
		sample "$g" floor "sqlite3 UPDATE a value each"
		set_job "$r" update-set operation=field-add field=dc.subject "value=bench$REP"
		sample "$g" bulkrepo "update-set field-add"
		set_job "$r" index-assets
		sample "$g" bulkrepo "index-assets"
		rm -rf "$WORK/d"
		cp -a "$r" "$WORK/d"
		sync
		measure sqlite3 "$WORK/d/bulkrepo.db" "PRAGMA foreign_keys = ON; DELETE FROM item;"
		sample "$g" floor "sqlite3 DELETE every item"
		rm -rf "$WORK/d"
		cp -a "$r" "$WORK/d"
		sync
		set_job "$WORK/d" delete-set
		sample "$g" bulkrepo "delete-set"
		rm -rf "$WORK/d"
		REP=$((REP + 1))
	done
	summarize "$g" "$n" assets/s - "sqlite3 UPDATE a value each" "floor (update)"
	summarize "$g" "$n" assets/s "sqlite3 UPDATE a value each" "update-set field-add" "-"
	summarize "$g" "$n" assets/s - "index-assets" "-"
	summarize "$g" "$n" assets/s - "sqlite3 DELETE every item" "floor (delete)"
	summarize "$g" "$n" assets/s "sqlite3 DELETE every item" "delete-set" "-"
	dropwork
}

# ---- publications: ONIX and XLSX (issue 9) --------------------------------------------------------
pub_bench() { # pub_bench FS N: ONIX validate/import against xmllint --stream; XLSX import
	fs=$1
	n=$2
	workdir "$fs"
	g="pub $fs N=$n"
	echo "== $g ($WORK)"
	"$GEN_ONIX" "$n" "$WORK/feed.xml" >"$LOGS/gen.log" 2>&1 || die "gen_onix failed: $(tail -n 3 "$LOGS/gen.log")"
	"$GEN_XLSX" "$n" "$WORK/titles.xlsx" >"$LOGS/gen.log" 2>&1 || die "gen_xlsx failed: $(tail -n 3 "$LOGS/gen.log")"
	REP=1
	while [ "$REP" -le "$REPS" ]; do
		warm "$WORK/feed.xml"
		measure xmllint --stream --noout "$WORK/feed.xml"
		sample "$g" floor "xmllint --stream (ONIX)"
		for b in new; do
			new_repo "$BR" "$WORK/o.$b"
			warm "$WORK/feed.xml"
			measure "$BR" --repo "$WORK/o.$b" import --format onix -v -s "$WORK/feed.xml" -c "$COLL" -m "$WORK/ov.map"
			sample "$g" bulkrepo "onix validate (-v)"
			rm -f "$WORK/o.map"
			measure "$BR" --repo "$WORK/o.$b" import --format onix -s "$WORK/feed.xml" -c "$COLL" -m "$WORK/o.map"
			sample "$g" bulkrepo "onix import"
			rm -rf "$WORK/o.$b"
			new_repo "$BR" "$WORK/x.$b"
			rm -f "$WORK/x.map"
			warm "$WORK/titles.xlsx"
			measure "$BR" --repo "$WORK/x.$b" import --format xlsx -s "$WORK/titles.xlsx" -c "$COLL" -m "$WORK/x.map"
			sample "$g" bulkrepo "xlsx import"
			rm -rf "$WORK/x.$b"
		done
		REP=$((REP + 1))
	done
	summarize "$g" "$n" products/s - "xmllint --stream (ONIX)" "floor (ONIX parse)"
	summarize "$g" "$n" products/s "xmllint --stream (ONIX)" "onix validate (-v)" "RSS < 64 MB, flat"
	summarize "$g" "$n" products/s "xmllint --stream (ONIX)" "onix import" "<= 3x xmllint --stream"
	summarize "$g" "$n" rows/s - "xlsx import" "RSS < 64 MB, flat"
	dropwork
}

# ---- the run ------------------------------------------------------------------------------------
FAILED=0
BUSY=0
PY=
command -v python3 >/dev/null 2>&1 && PY=python3
echo "bulkrepo bench: phases [$PHASES], $REPS runs each, on [$FSLIST ], $MACHINE, load $LOAD0"
for phase in $PHASES; do
	case $phase in
	saf)
		for fs in $FSLIST; do for n in $NS; do saf_bench "$fs" "$n"; done; done
		;;
	esploro)
		for fs in $FSLIST; do for n in $ENS; do esploro_bench "$fs" "$n" import; done; done
		;;
	lint)
		[ -n "$PY" ] || echo "bench: no python3: lint runs without its floor" >&2
		for fs in $FSLIST; do for n in $ENS; do esploro_bench "$fs" "$n" lint; done; done
		;;
	pub)
		for fs in $FSLIST; do for n in $PNS; do pub_bench "$fs" "$n"; done; done
		;;
	sets)
		for fs in $FSLIST; do for n in $SNS; do sets_bench "$fs" "$n"; done; done
		;;
	big)
		if [ "${BENCH_BIG:-0}" != 1 ]; then
			echo "bench: phase big needs BENCH_BIG=1 (a 1,000,000-item package is ~8 GB per copy)" >&2
			continue
		fi
		for fs in $FSLIST; do for n in $BIG_NS; do saf_bench "$fs" "$n"; done; done
		;;
	delivery)
		[ -x /usr/bin/python3 ] && command -v curl >/dev/null 2>&1 ||
			die "phase delivery needs /usr/bin/python3 (python3-pyftpdlib) and curl"
		for fs in $FSLIST; do delivery_bench "$fs"; done
		;;
	turns)
		for fs in $FSLIST; do for n in $TNS; do turns_bench "$fs" "$n"; done; done
		;;
	store)
		[ -n "$PY" ] && command -v psql >/dev/null 2>&1 || die "phase store needs python3 and psql"
		for fs in $FSLIST; do for n in $STNS; do store_bench "$fs" "$n"; done; done
		;;
	web)
		echo "== web (bench/web.sh)"
		BENCH_REPS=$REPS sh bench/web.sh "$BR" 2>&1 | tee "$WEB_OUT" || FAILED=1
		;;
	esac
	write_md
done
write_md
echo
echo "written: $MD"
[ "$BUSY" = 1 ] && echo "bench: WARNING: a floor's spread was over 30 %: the machine was busy" >&2
exit "$FAILED"
