#!/usr/bin/env bash
# tests/crash_resume.sh — crash safety of SAF import: kill -9 at random moments,
# resume with -R, and check the repository ends up with every item exactly once.
#
#   bash tests/crash_resume.sh BULKREPO GEN_SAF
#
# Environment:
#   CRASH_N          items in the package (default 20000)
#   CRASH_KILLS      number of kill -9 rounds (default 4)
#   CRASH_SEED       seed for the kill delays (default: random; printed)
#   CRASH_MAX_DELAY  upper bound of a kill delay in seconds (default: measured
#                    import time, extrapolated from a calibration import)
#   CRASH_TIMEOUT    time limit in seconds for the final resume run (default 900)
#   CRASH_KEEP=1     keep the temp dir (printed) for inspection
#
# Last line: "crash_resume: <checks> passed, 0 failed" and exit 0, or
# "crash_resume: 0 passed, 1 failed" and exit 1 (reasons printed before it).
set -u

if [ $# -ne 2 ]; then
	echo "usage: bash tests/crash_resume.sh BULKREPO GEN_SAF" >&2
	exit 2
fi

abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
BR=$(abspath "$1")
GEN=$(abspath "$2")
N=${CRASH_N:-20000}
KILLS=${CRASH_KILLS:-4}
SEED=${CRASH_SEED:-$(( ($$ ^ $(date +%s)) & 32767 ))}
FINAL_TIMEOUT=${CRASH_TIMEOUT:-900}
RANDOM=$SEED

say() { echo "crash_resume: $*"; }

T=$(mktemp -d "${TMPDIR:-/tmp}/crash_resume.XXXXXX") || {
	say "cannot create temp dir"
	say "0 passed, 1 failed"
	exit 1
}
BGPID=
# shellcheck disable=SC2317  # invoked via trap
cleanup() {
	if [ -n "$BGPID" ]; then
		kill -9 "$BGPID" 2>/dev/null
		wait "$BGPID" 2>/dev/null
	fi
	if [ "${CRASH_KEEP:-0}" = 1 ]; then
		echo "crash_resume: kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	say "FAIL: $*"
	say "0 passed, 1 failed"
	exit 1
}

for b in "$BR" "$GEN"; do
	[ -x "$b" ] || die "$b not found or not executable"
done

PKG=$T/pkg
R=$T/repo
MAP=$T/mapfile
LOG=$T/import.log

ms_now() { echo $(( $(date +%s%N) / 1000000 )); }

# ---- setup ----
say "N=$N kills=$KILLS seed=$SEED tmp=$T"
"$GEN" "$PKG" "$N" --file-size 512 --seed 7 >"$T/gen.log" 2>&1 ||
	die "gen_saf failed: $(tail -n 3 "$T/gen.log")"

# ---- calibration: time a clean import of a subset to pick kill delays ----
if [ -n "${CRASH_MAX_DELAY:-}" ]; then
	MAXD_MS=$(awk -v s="$CRASH_MAX_DELAY" 'BEGIN { printf "%d", s * 1000 }')
else
	NC=$(( N / 10 ))
	(( NC < 200 )) && NC=200
	(( NC > N )) && NC=$N
	"$GEN" "$T/cal.pkg" "$NC" --file-size 512 --seed 7 >/dev/null 2>&1 ||
		die "gen_saf (calibration) failed"
	"$BR" --repo "$T/cal.repo" init >"$T/cal.log" 2>&1 ||
		die "init failed: $(tail -n 3 "$T/cal.log")"
	CAL_COLL=$("$BR" --repo "$T/cal.repo" collection create Calibration 2>>"$T/cal.log") ||
		die "collection create failed: $(tail -n 3 "$T/cal.log")"
	t0=$(ms_now)
	"$BR" --repo "$T/cal.repo" import -a -s "$T/cal.pkg" -c "$CAL_COLL" -m "$T/cal.map" \
		>>"$T/cal.log" 2>&1
	rc=$?
	t1=$(ms_now)
	(( rc == 0 )) || die "calibration import of $NC items exited $rc: $(tail -n 3 "$T/cal.log")"
	MAXD_MS=$(( (t1 - t0) * N / NC ))
	say "calibration: $NC items imported in $(( t1 - t0 )) ms; estimated full import ${MAXD_MS} ms"
	rm -rf "$T/cal.pkg" "$T/cal.repo" "$T/cal.map"
fi
(( MAXD_MS < 500 )) && MAXD_MS=500

"$BR" --repo "$R" init >"$T/init.log" 2>&1 || die "init failed: $(tail -n 3 "$T/init.log")"
COLL=$("$BR" --repo "$R" collection create Crash 2>"$T/coll.log") ||
	die "collection create failed: $(tail -n 3 "$T/coll.log")"
[ -n "$COLL" ] || die "collection create printed no handle"

# random_ms LO HI: uniform-ish integer in [LO, HI]
random_ms() {
	local lo=$1 hi=$2
	(( hi <= lo )) && { echo "$lo"; return; }
	echo $(( lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1) ))
}

# ---- kill rounds ----
landed=0
for (( round = 1; round <= KILLS; round++ )); do
	if (( round == 1 )); then
		mode=(-a)
		hi=$(( MAXD_MS * 8 / 10 ))   # the first kill must land mid-import
	else
		# Aim within the estimated remaining work (the mapfile shows progress).
		mode=(-a -R)
		done_n=0
		[ -f "$MAP" ] && done_n=$(wc -l <"$MAP")
		hi=$(( 300 + MAXD_MS * (N - done_n) / N ))
	fi
	delay=$(random_ms 200 "$hi")
	echo "== round $round: import ${mode[*]}, kill -9 after ${delay} ms" >>"$LOG"
	( exec "$BR" --repo "$R" import "${mode[@]}" -s "$PKG" -c "$COLL" -m "$MAP" ) >>"$LOG" 2>&1 &
	BGPID=$!
	sleep "$(awk -v m="$delay" 'BEGIN { printf "%.3f", m / 1000 }')"
	if kill -9 "$BGPID" 2>/dev/null; then
		wait "$BGPID" 2>/dev/null
		rc=$?
		BGPID=
		if (( rc == 137 )); then
			landed=$(( landed + 1 ))
			mapped=$( [ -f "$MAP" ] && wc -l <"$MAP" || echo 0 )
			say "round $round: import ${mode[*]} killed after ${delay} ms (mapfile: $(( mapped )) lines)"
			continue
		fi
	else
		wait "$BGPID"
		rc=$?
		BGPID=
	fi
	# The process ended on its own before the kill.
	if (( rc != 0 )); then
		die "round $round: import ${mode[*]} exited $rc before the kill: $(tail -n 3 "$LOG")"
	fi
	say "round $round: import ${mode[*]} finished before the kill (${delay} ms)"
done
(( landed > 0 )) || say "warning: no kill landed mid-import (set CRASH_MAX_DELAY lower?)"

# ---- final resume to completion ----
echo "== final: import -a -R" >>"$LOG"
TO=()
command -v timeout >/dev/null 2>&1 && TO=(timeout -s KILL "$FINAL_TIMEOUT")
${TO[@]+"${TO[@]}"} "$BR" --repo "$R" import -a -R -s "$PKG" -c "$COLL" -m "$MAP" >>"$LOG" 2>&1
rc=$?

# ---- checks (all run; every failure is reported) ----
passed=0
failures=()
check() { # DESCRIPTION CONDITION-RESULT(0 = ok)
	if [ "$2" -eq 0 ]; then
		passed=$(( passed + 1 ))
	else
		failures+=("$1")
	fi
}

check "final import -a -R exited $rc (want 0): $(tail -n 3 "$LOG" | tr '\n' ' ')" $(( rc != 0 ))

"$BR" --repo "$R" item list --json >"$T/items.json" 2>"$T/items.err"
rc=$?
check "item list --json exited $rc: $(head -n 3 "$T/items.err" | tr '\n' ' ')" $(( rc != 0 ))

grep -o '"handle"[[:space:]]*:[[:space:]]*"[^"]*"' "$T/items.json" |
	sed 's/.*:[[:space:]]*"\([^"]*\)"$/\1/' | sort >"$T/items.handles"
nitems=$(wc -l <"$T/items.handles")
check "repository holds $(( nitems )) items, want $N" $(( nitems != N ))

dups=$(uniq -d "$T/items.handles" | wc -l)
check "$(( dups )) duplicate handles in item list" $(( dups != 0 ))

mapl=0
[ -f "$MAP" ] && mapl=$(wc -l <"$MAP")
check "mapfile has $(( mapl )) lines, want $N" $(( mapl != N ))

touch "$MAP"
cut -d' ' -f1 "$MAP" | sort >"$T/map.folders"
dupf=$(uniq -d "$T/map.folders" | wc -l)
check "$(( dupf )) folders appear more than once in the mapfile" $(( dupf != 0 ))

(cd "$PKG" && ls -1) | sort >"$T/pkg.folders"
cmp -s "$T/pkg.folders" "$T/map.folders"
rc=$?
check "mapfile folders differ from the package folders:
$(diff "$T/pkg.folders" "$T/map.folders" | head -n 5)" "$rc"

cut -d' ' -f2 "$MAP" | tr -d '\r' | sort >"$T/map.handles"
cmp -s "$T/map.handles" "$T/items.handles"
rc=$?
check "mapfile handles differ from the repository's items:
$(diff "$T/map.handles" "$T/items.handles" | head -n 5)" "$rc"

"$BR" --repo "$R" fsck >"$T/fsck.log" 2>&1
rc=$?
check "fsck exited $rc: $(tail -n 5 "$T/fsck.log" | tr '\n' ' ')" $(( rc != 0 ))

if (( ${#failures[@]} )); then
	for f in "${failures[@]}"; do
		say "FAIL: $f"
	done
	say "0 passed, 1 failed"
	exit 1
fi
say "$N items, $landed of $KILLS kills landed mid-import, all checks ok"
say "$passed passed, 0 failed"
exit 0
