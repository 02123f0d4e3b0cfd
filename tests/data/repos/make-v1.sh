#!/bin/sh
# Builds the v1 fixture repository with the release binary of commit ef72367.
#   make-v1.sh BULKREPO_BIN GEN_ESPLORO SRC_TREE OUT_DIR
set -eu
BIN=$1 GEN=$2 SRC=$3 OUT=$4
W=$(mktemp -d)
R="--repo $W/repo"
$BIN $R init --handle-prefix 123456789
COLL=$($BIN $R collection create "Theses")
$BIN $R import -a -s "$SRC/examples/saf" -c "$COLL" -m "$W/saf.map" -e fixture@example.org
$GEN -n 2 -s 7 -o "$W/assets.csv"
{ echo code,name; i=0; while [ $i -lt 50 ]; do printf '01BENCH_INST___u%03d,Unit %d\n' $i $i; i=$((i+1)); done; } > "$W/units.csv"
$BIN $R orgunit import "$W/units.csv"
$BIN $R import --format esploro-csv -s "$W/assets.csv" -m "$W/assets.map" -c "$COLL"
echo 'fixture-password-1' | $BIN $R user add alice --role "Repository Manager" --password-stdin
$BIN $R user token alice > "$W/token.txt"
mkdir "$W/out"
$BIN $R export -t COLLECTION -i "$COLL" -d "$W/out" -n 1
sqlite3 "$W/repo/bulkrepo.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
mkdir -p "$OUT"
cp "$W/repo/bulkrepo.db" "$OUT/"
(cd "$W/repo" && find assetstore -type f ! -path "assetstore/tmp/*" -exec cp --parents {} "$OUT" \;)
cat "$W/token.txt"
ls -R "$W/repo" >&2
rm -rf "$W"
