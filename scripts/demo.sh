#!/bin/sh
# make run: a fresh embedded repository, the bundled example SAF package
# imported into it, the job report and one item.
set -eu
BIN=${1:-build/bulkrepo}
DEMO=${DEMO_DIR:-build/demo}
R="$DEMO/repo"
LISTEN=${BULKREPO_LISTEN:-127.0.0.1:8080}

# Never delete a repository a server (or `job work`) is using: its engine
# holds run/engine.lock; and never start over while something answers on the
# demo's address (the old server would keep serving the deleted repository).
if [ -e "$R/run/engine.lock" ] && ! flock -n "$R/run/engine.lock" true; then
    echo "demo: $R is in use by a running bulkrepo server; stop it first (Ctrl-C in its terminal)" >&2
    exit 1
fi
if curl -sS -m 2 -o /dev/null "http://$LISTEN/api/health" 2>/dev/null; then
    echo "demo: a server already answers on $LISTEN; stop it first or set BULKREPO_LISTEN" >&2
    exit 1
fi
rm -rf "$DEMO"
mkdir -p "$DEMO"

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
# The Esploro example (examples/esploro): its org units, then its assets as drafts.
say bulkrepo --repo "$R" orgunit import examples/esploro/units.csv
"$BIN" --repo "$R" orgunit import examples/esploro/units.csv
say bulkrepo --repo "$R" import --format esploro-csv -s examples/esploro/assets.csv -c "$COLL" -m "$DEMO/esploro.map"
"$BIN" --repo "$R" import --format esploro-csv -s examples/esploro/assets.csv -c "$COLL" -m "$DEMO/esploro.map"
say bulkrepo --repo "$R" fsck
"$BIN" --repo "$R" fsck
printf '\nThe repository is in %s. Try:\n  %s --repo %s item list\n  %s --repo %s export -t COLLECTION -i %s -d /tmp -n 1\n' \
    "$R" "$BIN" "$R" "$BIN" "$R" "$COLL"
printf '  %s --repo %s item show %s   (an Esploro asset: job 2, examples/esploro/README.md)\n  %s lint examples/esploro/assets.csv\n' \
    "$BIN" "$R" "$(head -n 1 "$DEMO/esploro.map" | cut -d' ' -f2)" "$BIN"

# The web interface: an administrator with a generated password, and the server
# in the foreground (Ctrl-C stops it). DEMO_NO_SERVE=1 skips this part;
# BULKREPO_LISTEN sets the address (default 127.0.0.1:8080).
if [ -n "${DEMO_NO_SERVE:-}" ] || ! "$BIN" serve --help >/dev/null 2>&1; then
    exit 0
fi
PASS=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
say bulkrepo --repo "$R" export -t COLLECTION -i "$COLL" -d "$DEMO" -n 1 -m -z example.zip
"$BIN" --repo "$R" export -t COLLECTION -i "$COLL" -d "$DEMO" -n 1 -m -z example.zip
say bulkrepo --repo "$R" user add admin --role GENERAL_SYSTEM_ADMINISTRATOR --password-stdin
printf '%s\n' "$PASS" | "$BIN" --repo "$R" user add admin --role GENERAL_SYSTEM_ADMINISTRATOR --password-stdin
printf 'user: admin\npassword: %s\n' "$PASS" > "$DEMO/credentials.txt"
chmod 600 "$DEMO/credentials.txt"
say bulkrepo --repo "$R" serve --listen "$LISTEN"
printf '\n  Open    http://%s/\n  Log in  admin / %s   (also in %s)\n' "$LISTEN" "$PASS" "$DEMO/credentials.txt"
printf '  Then    Monitor Jobs > History > job 1 is the SAF example, job 2 the Esploro one; Import uploads\n'
printf '          another SAF zip (e.g. %s, the example exported again) and shows it run.\n' "$DEMO/example.zip"
printf '  Ctrl-C stops the server.\n\n'
exec "$BIN" --repo "$R" serve --listen "$LISTEN"
