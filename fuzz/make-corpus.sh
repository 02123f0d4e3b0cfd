#!/bin/sh
# Builds fuzz/corpus/<target>/ from tests/data: small seeds only (each under
# 64 KB), named by content so a rerun adds nothing twice.
set -eu
cd "$(dirname "$0")/.."
C=fuzz/corpus
mkdir -p "$C/fuzz_saf_item" "$C/fuzz_saf_xml" "$C/fuzz_esploro_read" "$C/fuzz_esploro_lint" \
         "$C/fuzz_zip" "$C/fuzz_csv"
put() { # target file
  [ "$(wc -c <"$2")" -le 65536 ] || return 0
  cp "$2" "$C/$1/$(sha1sum "$2" | cut -c1-16)"
}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# SAF items: the files fuzz_saf_item.c expects, separated by lines holding %%
for item in tests/data/saf/basic/*/; do
  : >"$tmp"
  first=1
  for f in dublin_core.xml contents handle collections relationships metadata_dcterms.xml; do
    [ $first -eq 1 ] || printf '\n%%%%\n' >>"$tmp"
    first=0
    [ -f "$item$f" ] && cat "$item$f" >>"$tmp"
  done
  printf '\n%%%%\nPDF\n%%%%\nb\n' >>"$tmp"
  put fuzz_saf_item "$tmp"
done
for x in tests/data/saf/basic/*/*.xml tests/data/saf/hostile/*/*.xml; do
  [ -f "$x" ] && put fuzz_saf_xml "$x"
done
for x in tests/data/esploro/*.csv; do
  put fuzz_esploro_read "$x"
  put fuzz_esploro_lint "$x"
  put fuzz_csv "$x"
done
for x in tests/data/saf/basic/*/*.csv; do
  [ -f "$x" ] && put fuzz_csv "$x"
done
for x in tests/data/saf/*.zip; do
  put fuzz_zip "$x"
done
echo "fuzz/corpus: $(find "$C" -type f | wc -l) seeds"
