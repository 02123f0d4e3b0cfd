#!/bin/sh
# embed.sh SYMBOL FILE: prints a C file defining `const char SYMBOL[]` with FILE's
# text, so data tables in data/ and the SQL schema are compiled into the library.
set -eu
sym=$1
file=$2
printf '/* Generated from %s by scripts/embed.sh; do not edit. */\n' "$file"
printf 'const char %s[] =\n' "$sym"
awk '{ gsub(/\\/, "\\\\\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); printf "    \"%s\\n\"\n", $0 }' "$file"
printf '    "";\n'
