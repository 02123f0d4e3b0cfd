#!/bin/sh
# tests/crash_resume.sh — crash safety of the SAF and Esploro CSV imports (issue 13):
# kill -9 an import in each of its phases, resume it with -R, and check that the
# repository holds exactly what a clean import makes.
#
#   sh tests/crash_resume.sh BULKREPO GEN_SAF [GEN_ESPLORO]
#   (GEN_ESPLORO defaults to gen_esploro next to GEN_SAF)
#
# For each format, first a clean import of the same input, watched through the
# journal (a sqlite3 reader on the repository's database, one query every few
# ms), measures when each phase starts and ends on this machine.  Then every
# round uses a fresh repository:
#   validation      killed at a random point of the measured validation time,
#                   counted from the job's start;
#   write pass      CRASH_KILLS rounds, killed a random fraction of the measured
#                   write pass after its first batch commit;
#   relationships   (SAF: a package whose items name each other) killed as soon
#                   as the last batch is journaled, during DSpace's second pass;
#   mapfile         killed while the mapfile is rewritten (its .tmp exists).
# Where a kill landed is read from the journal after it, not assumed: write pass
# = some but not all records journaled; validation = none journaled (and for SAF
# no file stored yet); relationships = all journaled, no relationship committed;
# mapfile = the .tmp mapfile left behind.
# After each kill: import -R to completion, then the result must be exactly the
# clean run's: the same mapfile byte for byte (every record once, input order,
# the same handles), every handle journaled before the kill unchanged, the items
# the mapfile names and no others, every relationship once, the job's journal
# complete, no .tmp mapfile, fsck clean.
#
# Fails when a check fails, when fewer than CRASH_MIN_LANDED of the CRASH_KILLS
# write-pass kills landed in the write pass, or when a one-kill phase was missed
# CRASH_TRIES times in a row.
#
# Environment:
#   CRASH_N          SAF items (default 3000)      CRASH_ESPLORO_N  assets (default 3000)
#   CRASH_KILLS      write-pass kills per format (default 4)
#   CRASH_MIN_LANDED of them that must land in the write pass (default 3)
#   CRASH_TRIES      attempts for a one-kill phase (default 3)
#   CRASH_FORMATS    "saf esploro" (default)       CRASH_SEED  seed of the delays (printed)
#   CRASH_TIMEOUT    seconds for one resume (default 300)
#   CRASH_KEEP=1     keep the temp dir (printed)
#
# Last line: "crash_resume: N passed, 0 failed" (exit 0) or "... M failed" (exit 1).
set -u

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: sh tests/crash_resume.sh BULKREPO GEN_SAF [GEN_ESPLORO]" >&2
	exit 2
fi

abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
BR=$(abspath "$1")
GEN=$(abspath "$2")
GEN_E=$(abspath "${3:-$(dirname "$GEN")/gen_esploro}")
N_SAF=${CRASH_N:-3000}
N_ESP=${CRASH_ESPLORO_N:-3000}
KILLS=${CRASH_KILLS:-4}
MIN_LANDED=${CRASH_MIN_LANDED:-3}
TRIES=${CRASH_TRIES:-3}
FORMATS=${CRASH_FORMATS:-saf esploro}
SEED=${CRASH_SEED:-$(($$ % 30000 + $(date +%S)))}
RESUME_TIMEOUT=${CRASH_TIMEOUT:-300}

say() { echo "crash_resume: $*"; }

T=$(mktemp -d "${TMPDIR:-/tmp}/crash_resume.XXXXXX") || {
	say "cannot create a temp dir"
	say "0 passed, 1 failed"
	exit 1
}
BGPID=
SQLPID=
# shellcheck disable=SC2317  # invoked via trap
cleanup() {
	if [ -n "$BGPID" ]; then
		kill -9 "$BGPID" 2>/dev/null
		wait "$BGPID" 2>/dev/null
	fi
	db_close
	if [ "${CRASH_KEEP:-0}" = 1 ]; then
		echo "crash_resume: kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASSED=0
FAILED=0
fail() {
	say "FAIL: $*"
	FAILED=$((FAILED + 1))
}
ok() { PASSED=$((PASSED + 1)); }
die() {
	say "FAIL: $*"
	say "$PASSED passed, $((FAILED + 1)) failed"
	exit 1
}

for b in "$BR" "$GEN" "$GEN_E"; do
	[ -x "$b" ] || die "$b not found or not executable (make tools)"
done
command -v sqlite3 >/dev/null 2>&1 || die "sqlite3 (the command) is needed to read the journal"

ms_now() { echo $(($(date +%s%N) / 1000000)); }
# rand_ms LO_FRACTION HI_FRACTION SPAN_MS: a random delay in [LO, HI] x SPAN (ms).
RAND_K=0
rand_ms() {
	RAND_K=$((RAND_K + 1))
	awk -v s="$SEED" -v k="$RAND_K" -v lo="$1" -v hi="$2" -v span="$3" \
		'BEGIN { srand(s * 1000 + k); printf "%d", span * (lo + (hi - lo) * rand()) }'
}
sleep_ms() { [ "$1" -gt 0 ] && sleep "$(awk -v m="$1" 'BEGIN { printf "%.3f", m / 1000 }')"; }

# ---- a sqlite3 reader on the repository, asked through two FIFOs ---------------------------
# One process for the whole round: a query costs ~0.1 ms instead of a fork and an open.
db_open() { # db_open REPO
	rm -f "$T/q.in" "$T/q.out"
	mkfifo "$T/q.in" "$T/q.out" || die "mkfifo failed"
	sqlite3 -batch "$1/bulkrepo.db" <"$T/q.in" >"$T/q.out" 2>&1 &
	SQLPID=$!
	exec 3>"$T/q.in" 4<"$T/q.out"
	printf '.timeout 5000\n' >&3
}
db_close() {
	[ -n "$SQLPID" ] || return 0
	exec 3>&- 4<&-
	wait "$SQLPID" 2>/dev/null
	SQLPID=
}
# q SQL: ANS = the first line of the answer ('' when none); errors are answers too.
q() {
	printf '%s\nSELECT '"'"'-end-'"'"';\n' "$1" >&3
	ANS=
	q_first=1
	while IFS= read -r q_line <&4; do
		[ "$q_line" = "-end-" ] && return 0
		if [ $q_first = 1 ]; then ANS=$q_line; fi
		q_first=0
	done
	die "the sqlite3 reader stopped"
}
# state: S_JOB S_STATUS S_DONE (records journaled as imported) S_RELS
state() {
	q "SELECT j.id || ' ' || j.status || ' ' || coalesce((SELECT n FROM job_tally t WHERE
	   t.job_id = j.id AND t.outcome = 'imported'), 0) || ' ' || (SELECT count(*) FROM relationship)
	   FROM job j WHERE j.category = 'import' ORDER BY j.id DESC LIMIT 1;"
	# shellcheck disable=SC2086
	set -- $ANS 0 0 0 0
	case $1 in *[!0-9]*) set -- 0 NONE 0 0 ;; esac
	S_JOB=$1 S_STATUS=$2 S_DONE=$3 S_RELS=$4
}
files_stored() { # 1 when the assetstore holds a file already
	for d in "$R"/assetstore/??; do
		[ -d "$d" ] && return 0
	done
	return 1
}

# ---- inputs and repositories ------------------------------------------------------------------
make_repo() { # make_repo DIR: a fresh repository with one collection (COLL)
	rm -rf "$1"
	"$BR" --repo "$1" init >"$T/init.log" 2>&1 || die "init failed: $(tail -n 3 "$T/init.log")"
	COLL=$("$BR" --repo "$1" collection create Crash 2>"$T/init.log") ||
		die "collection create failed: $(tail -n 3 "$T/init.log")"
	if [ "$FMT" = esploro ]; then
		"$BR" --repo "$1" orgunit import "$T/units.csv" >"$T/init.log" 2>&1 ||
			die "orgunit import failed: $(tail -n 3 "$T/init.log")"
	fi
}
# start_import LOG [OPTION...]: this format's import in the background (BGPID)
start_import() {
	s_log=$1
	shift
	if [ "$FMT" = saf ]; then
		("$BR" --repo "$R" import -a "$@" -s "$INPUT" -c "$COLL" -m "$MAP") >>"$s_log" 2>&1 &
	else
		("$BR" --repo "$R" import --format esploro-csv "$@" -s "$INPUT" -m "$MAP") >>"$s_log" 2>&1 &
	fi
	BGPID=$!
}
run_resume() {
	TO=
	command -v timeout >/dev/null 2>&1 && TO="timeout -s KILL $RESUME_TIMEOUT"
	if [ "$FMT" = saf ]; then
		$TO "$BR" --repo "$R" import -a -R -s "$INPUT" -c "$COLL" -m "$MAP" >>"$LOG" 2>&1
	else
		$TO "$BR" --repo "$R" import --format esploro-csv -R -s "$INPUT" -m "$MAP" >>"$LOG" 2>&1
	fi
}
alive() { kill -0 "$BGPID" 2>/dev/null; }
# reap: waits for the import; RC its status (137 when killed)
reap() {
	{ wait "$BGPID"; } 2>/dev/null # no "Killed" from the shell
	RC=$?
	BGPID=
}

# ---- calibration: a clean import, its phases timed -------------------------------------------
calibrate() {
	R=$T/$FMT.cal
	MAP=$T/$FMT.cal.map
	LOG=$T/$FMT.cal.log
	rm -f "$MAP"
	make_repo "$R"
	db_open "$R"
	t0=$(ms_now)
	start_import "$LOG"
	t_job='' t_first='' t_all='' t_rel=''
	while alive; do
		state
		now=$(ms_now)
		[ -z "$t_job" ] && [ "$S_JOB" -gt 0 ] && t_job=$now
		[ -z "$t_first" ] && [ "$S_DONE" -gt 0 ] && t_first=$now
		[ -z "$t_all" ] && [ "$S_DONE" -ge "$NREC" ] && t_all=$now
		[ -z "$t_rel" ] && [ "$S_RELS" -ge "$NRELS" ] && [ "$S_DONE" -ge "$NREC" ] && t_rel=$now
		sleep 0.003
	done
	t_end=$(ms_now)
	reap
	state
	db_close
	[ "$RC" = 0 ] || die "$FMT: the clean import exited $RC: $(tail -n 3 "$LOG")"
	[ "$S_DONE" = "$NREC" ] || die "$FMT: the clean import journaled $S_DONE of $NREC records"
	[ "$S_RELS" = "$NRELS" ] || die "$FMT: the clean import made $S_RELS of $NRELS relationships"
	if [ -z "$t_first" ] || [ -z "$t_all" ] || [ -z "$t_job" ]; then
		die "$FMT: the clean import ran too fast to watch its phases (raise CRASH_N)"
	fi
	[ -n "$t_rel" ] || t_rel=$t_end
	cp "$MAP" "$T/$FMT.want.map"
	# The first commit ends the validation plus one batch: take one batch off.
	batches=$(((NREC + 499) / 500))
	W_MS=$((t_all - t_first))
	B_MS=0
	[ "$batches" -gt 1 ] && B_MS=$((W_MS / (batches - 1)))
	V_MS=$((t_first - t_job - B_MS))
	[ "$V_MS" -gt 0 ] || V_MS=$((t_first - t_job))
	say "$FMT: clean import of $NREC records in $((t_end - t0)) ms: validation ~${V_MS} ms," \
		"write pass ${W_MS} ms after its first commit, relationships + mapfile $((t_end - t_all)) ms"
	[ "$W_MS" -ge 50 ] || die "$FMT: the write pass took ${W_MS} ms: too short to aim at (raise CRASH_N)"
}

# ---- one round: an import killed at a moment, then resumed and checked -----------------------
# where: the phase the last kill landed in, from the state it left
where() {
	state
	if [ "$S_JOB" = 0 ]; then
		WHERE=before-job
	elif [ "$S_STATUS" != RUNNING ]; then
		WHERE=after-end
	elif [ "$S_DONE" = 0 ]; then
		WHERE=validation
		if [ "$FMT" = saf ] && files_stored; then WHERE=first-batch; fi
	elif [ "$S_DONE" -lt "$NREC" ]; then
		WHERE="write"
	elif ls "$MAP".tmp* >/dev/null 2>&1; then
		WHERE=mapfile
	elif [ "$S_RELS" -lt "$NRELS" ]; then
		WHERE=relationships
	else
		WHERE=finalizing
	fi
}

# round PHASE NAME: kills an import aimed at PHASE, resumes it and checks; sets WHERE.
round() {
	phase=$1
	name=$2
	R=$T/$FMT.$name
	MAP=$T/$FMT.$name.map
	LOG=$T/$FMT.$name.log
	rm -f "$MAP" "$MAP".tmp*
	make_repo "$R"
	db_open "$R"
	start_import "$LOG"
	delay=0
	case $phase in
	validation)
		delay=$(rand_ms 0.1 0.6 "$V_MS")
		while alive; do
			state
			[ "$S_JOB" -gt 0 ] && break
			sleep 0.002
		done
		;;
	write)
		delay=$(rand_ms 0.05 0.7 "$W_MS")
		while alive; do
			state
			[ "$S_DONE" -gt 0 ] && break
			sleep 0.002
		done
		;;
	relationships)
		while alive; do
			state
			[ "$S_DONE" -ge "$NREC" ] && break
		done
		;;
	mapfile)
		# Near the end, look for the .tmp mapfile without a fork in between.
		while alive; do
			state
			[ "$S_DONE" -ge $((NREC - 500)) ] && break
			sleep 0.002
		done
		found=
		while [ -z "$found" ] && alive; do
			for f in "$MAP".tmp*; do
				[ -e "$f" ] && found=1
			done
		done
		;;
	esac
	sleep_ms "$delay"
	kill -9 "$BGPID" 2>/dev/null
	reap
	where
	# The journal's (key, handle) pairs at the kill: they must survive the resume.
	q "SELECT count(*) FROM job_record WHERE outcome = 'imported';"
	before_n=$ANS
	sqlite3 "$R/bulkrepo.db" "SELECT key || ' ' || handle FROM job_record WHERE outcome = 'imported'" \
		2>/dev/null | sort >"$T/before.pairs"
	db_close
	echo "== killed ($phase aim, ${delay} ms; exit $RC) landed: $WHERE, $before_n journaled" >>"$LOG"
	say "$FMT $name: aimed at the $phase, landed in: $WHERE ($before_n of $NREC journaled," \
		"relationships $S_RELS of $NRELS)"
	check_resume
}

check() { # check DESCRIPTION STATUS(0 = ok)
	if [ "$2" -eq 0 ]; then ok; else fail "$FMT $name: $1"; fi
}

check_resume() {
	run_resume
	rc=$?
	check "import -R exited $rc: $(tail -n 3 "$LOG" | tr '\n' ' ')" "$rc"
	cmp -s "$MAP" "$T/$FMT.want.map"
	check "the mapfile differs from the clean import's:
$(diff "$T/$FMT.want.map" "$MAP" 2>&1 | head -n 6)" $?
	sort "$MAP" >"$T/after.pairs" 2>/dev/null
	lost=$(comm -23 "$T/before.pairs" "$T/after.pairs" | wc -l)
	check "$lost handles journaled before the kill changed or vanished:
$(comm -23 "$T/before.pairs" "$T/after.pairs" | head -n 3)" "$lost"
	left=0
	for f in "$MAP".tmp*; do
		[ -e "$f" ] && left=$((left + 1))
	done
	check "$left .tmp mapfiles were left" "$left"
	"$BR" --repo "$R" item list --json >"$T/items.json" 2>"$T/items.err"
	check "item list --json exited $?: $(head -n 2 "$T/items.err")" $?
	grep -o '"handle"[[:space:]]*:[[:space:]]*"[^"]*"' "$T/items.json" |
		sed 's/.*"\([^"]*\)"$/\1/' | sort >"$T/items.handles"
	cut -d' ' -f2 "$MAP" | sort >"$T/map.handles"
	cmp -s "$T/items.handles" "$T/map.handles"
	check "the items are not the ones the mapfile names ($(wc -l <"$T/items.handles") items):
$(diff "$T/map.handles" "$T/items.handles" | head -n 4)" $?
	got=$(sqlite3 "$R/bulkrepo.db" "SELECT (SELECT count(*) FROM relationship) || ' ' ||
		(SELECT count(*) FROM (SELECT DISTINCT type, left_item, right_item FROM relationship))
		|| ' ' || (SELECT coalesce(sum(n), 0) FROM job_tally WHERE outcome = 'imported') || ' ' ||
		(SELECT count(*) FROM job WHERE category = 'import')" 2>&1)
	check "relationships, distinct ones, journaled records, import jobs: $got, want $NRELS $NRELS $NREC 1" \
		"$([ "$got" = "$NRELS $NRELS $NREC 1" ]; echo $?)"
	"$BR" --repo "$R" fsck >"$T/fsck.log" 2>&1
	check "fsck exited $?: $(tail -n 4 "$T/fsck.log" | tr '\n' ' ')" $?
	[ "${CRASH_KEEP:-0}" = 1 ] || rm -rf "$R"
}

# ---- per format ------------------------------------------------------------------------------
printf 'code,name\n' >"$T/units.csv"
u=0
while [ $u -lt 50 ]; do
	printf '01BENCH_INST___u%03d,Unit %d\n' $u $u >>"$T/units.csv"
	u=$((u + 1))
done

say "formats [$FORMATS], SAF items $N_SAF, Esploro assets $N_ESP, write-pass kills $KILLS," \
	"seed $SEED, tmp $T"
T_START=$(ms_now)
SUMMARY=
for FMT in $FORMATS; do
	case $FMT in
	saf)
		NREC=$N_SAF
		NRELS=$((N_SAF - 1))
		INPUT=$T/saf.pkg
		"$GEN" "$INPUT" "$NREC" --file-size 512 --seed 7 --relationships >"$T/gen.log" 2>&1 ||
			die "gen_saf failed: $(tail -n 3 "$T/gen.log")"
		PHASES="validation relationships mapfile"
		;;
	esploro)
		NREC=$N_ESP
		NRELS=0
		INPUT=$T/esploro.csv
		"$GEN_E" -n "$NREC" -o "$INPUT" >"$T/gen.log" 2>&1 ||
			die "gen_esploro failed: $(tail -n 3 "$T/gen.log")"
		PHASES="validation mapfile"
		;;
	*) die "unknown format '$FMT' in CRASH_FORMATS" ;;
	esac
	calibrate
	landed=0
	k=1
	while [ $k -le "$KILLS" ]; do
		round write "write$k"
		[ "$WHERE" = write ] && landed=$((landed + 1))
		k=$((k + 1))
	done
	line="$FMT: write pass $landed of $KILLS"
	if [ "$landed" -lt "$MIN_LANDED" ]; then
		fail "$FMT: only $landed of $KILLS kills landed in the write pass (want $MIN_LANDED)"
	fi
	for ph in $PHASES; do
		try=1
		hit=0
		while [ $try -le "$TRIES" ]; do
			round "$ph" "$ph$try"
			if [ "$WHERE" = "$ph" ]; then
				hit=1
				break
			fi
			try=$((try + 1))
		done
		[ $try -gt "$TRIES" ] && try=$TRIES
		line="$line, $ph $hit of $try"
		[ $hit = 1 ] || fail "$FMT: no kill landed in the $ph in $TRIES tries"
	done
	say "landed: $line"
	SUMMARY="$SUMMARY; $line"
	rm -rf "$INPUT" "$T/$FMT.cal"
done

say "kills landed:${SUMMARY#;} ($(($(ms_now) - T_START)) ms)"
say "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
