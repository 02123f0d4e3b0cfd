#!/bin/sh
# make run: a fresh embedded repository, the bundled example SAF package
# imported into it, the job report and one item.
set -eu
BIN=${1:-build/bulkrepo}
DEMO=build/demo
rm -rf "$DEMO"
mkdir -p "$DEMO"
R="$DEMO/repo"

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

say bulkrepo --repo "$R" init
"$BIN" --repo "$R" init
say bulkrepo --repo "$R" collection create "Research outputs"
COLL=$("$BIN" --repo "$R" collection create "Research outputs")
echo "$COLL"
say bulkrepo --repo "$R" import -a -s examples/saf -c "$COLL" -m "$DEMO/mapfile" -e demo@example.org
"$BIN" --repo "$R" import -a -s examples/saf -c "$COLL" -m "$DEMO/mapfile" -e demo@example.org
say cat "$DEMO/mapfile"
cat "$DEMO/mapfile"
say bulkrepo --repo "$R" job show 1
"$BIN" --repo "$R" job show 1
FIRST=$(head -n 1 "$DEMO/mapfile" | cut -d' ' -f2)
say bulkrepo --repo "$R" item show "$FIRST"
"$BIN" --repo "$R" item show "$FIRST"
say bulkrepo --repo "$R" fsck
"$BIN" --repo "$R" fsck
printf '\nThe repository is in %s. Try:\n  %s --repo %s item list\n  %s --repo %s export -t COLLECTION -i %s -d /tmp -n 1\n' \
    "$R" "$BIN" "$R" "$BIN" "$R" "$COLL"
