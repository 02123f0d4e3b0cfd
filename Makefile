# bulkrepo — build, test, run, bench.
#   make          build build/bulkrepo (and build/libbulkrepo.a)
#   make test     install missing Debian packages, build, run every test
#                 (unit, CLI, crash/resume) and again under ASan/UBSan
#   make run      install, build, demo on an embedded repository
#   make bench    benchmarks (bench/RESULTS.md)
#   make fuzz     libFuzzer targets (fuzz/), each for FUZZ_SECONDS (default 60);
#                 make fuzz-smoke: 10 s each; `make test` runs each for 5 s.

CC      ?= cc
PKGS    := libxml-2.0 sqlite3 libpq libzip jansson libcrypto libutf8proc libcurl libmicrohttpd libsodium
CFLAGS  ?= -O2 -g
override CFLAGS += -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Wshadow -Wno-unused-parameter -Iinclude -Isrc/lib \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -MMD -MP
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lmagic -lpthread -lxlsxwriter
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

B       ?= build
LIB_SRC := $(wildcard src/lib/*/*.c)
CLI_SRC := $(wildcard src/cli/*.c) $(wildcard src/server/*.c)
# The web UI's files (web/, text) are compiled into the server as br_web_files[].
WEB_FILES := $(sort $(wildcard web/*.html web/*.js web/*.css web/*.svg web/*.txt))
# Every data/NAME.tsv table is compiled in as `const char br_NAME_tsv[]`.
DATA_TSV := $(wildcard data/*.tsv)
# Schema migrations (src/lib/store/migrations/N.sql) are compiled in as br_migration_files[].
MIGRATIONS := $(sort $(wildcard src/lib/store/migrations/*.sql))
GEN_SRC := $(B)/gen/schema_sql.c $(B)/gen/schema_pg_sql.c $(B)/gen/migrations_sql.c $(DATA_TSV:data/%.tsv=$(B)/gen/%_data.c)
# Shipped normalization rule sets and their maps are compiled in as br_normalization_files[].
NORM_FILES := $(sort $(wildcard data/normalization/*.rules data/normalization/*.tsv))
GEN_SRC += $(B)/gen/normalization_files.c
# Shipped notification letters (data/letters/TYPE.txt) are compiled in as br_letter_files[].
LETTER_FILES := $(sort $(wildcard data/letters/*.txt))
GEN_SRC += $(B)/gen/letter_files.c
LIB_OBJ := $(LIB_SRC:%.c=$(B)/obj/%.o) $(GEN_SRC:%.c=%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/obj/%.o) $(B)/gen/web_files.o
TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)
TEST_SUPPORT := $(patsubst %.c,$(B)/obj/%.o,$(wildcard tests/support/*.c))

# Keep intermediate objects (the test support object) between runs.
.SECONDARY:

.PHONY: all deps test check unit unit-pg run bench format clean tools browser fuzz fuzz-smoke fuzz-bins fuzz-corpus

all: $(B)/bulkrepo

deps:
	@sh scripts/install-deps.sh

$(B)/gen/schema_sql.c: src/lib/store/schema.sql scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh br_schema_sql $< > $@
$(B)/gen/schema_pg_sql.c: src/lib/store/schema_pg.sql scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh br_schema_pg_sql $< > $@
$(B)/gen/migrations_sql.c: $(MIGRATIONS) scripts/embed_files.sh
	@mkdir -p $(dir $@)
	sh scripts/embed_files.sh br_migration_files $(MIGRATIONS) > $@
$(B)/gen/%_data.c: data/%.tsv scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh br_$*_tsv $< > $@
$(B)/gen/normalization_files.c: $(NORM_FILES) scripts/embed_files.sh
	@mkdir -p $(dir $@)
	sh scripts/embed_files.sh br_normalization_files $(NORM_FILES) > $@
$(B)/gen/letter_files.c: $(LETTER_FILES) scripts/embed_files.sh
	@mkdir -p $(dir $@)
	sh scripts/embed_files.sh br_letter_files $(LETTER_FILES) > $@
$(B)/gen/web_files.c: $(WEB_FILES) scripts/embed_files.sh
	@mkdir -p $(dir $@)
	sh scripts/embed_files.sh br_web_files $(WEB_FILES) > $@

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@
$(B)/gen/%.o: $(B)/gen/%.c
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/libbulkrepo.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/bulkrepo: $(CLI_OBJ) $(B)/libbulkrepo.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(B)/libbulkrepo.a $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(TEST_SUPPORT) $(B)/libbulkrepo.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/support -o $@ $< $(TEST_SUPPORT) $(B)/libbulkrepo.a $(LDLIBS) -lcmocka

$(B)/tools/gen_saf: bench/gen_saf.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -o $@ $<

$(B)/tools/gen_esploro: bench/gen_esploro.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -o $@ $<

$(B)/tools/gen_xlsx: bench/gen_xlsx.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -o $@ $< -lxlsxwriter

$(B)/tools/gen_onix: bench/gen_onix.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -o $@ $<

$(B)/tools/search_latency: bench/search_latency.c $(B)/libbulkrepo.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(B)/libbulkrepo.a $(LDLIBS)

tools: $(B)/tools/gen_saf $(B)/tools/gen_esploro $(B)/tools/gen_xlsx $(B)/tools/gen_onix \
       $(B)/tools/search_latency

# Unit and CLI tests (cmocka); every binary runs even if one fails.
unit: $(B)/bulkrepo $(TEST_BIN) tools
	@fail=0; for t in $(TEST_BIN); do \
	  echo "== $$t"; BULKREPO_BIN=$(abspath $(B)/bulkrepo) GEN_SAF=$(abspath $(B)/tools/gen_saf) \
	  BULKREPO_TESTDATA=$(abspath tests/data) $$t || fail=1; done; exit $$fail

test: deps
	$(MAKE) unit
	$(MAKE) unit-pg
	$(MAKE) browser
	bash tests/crash_resume.sh $(B)/bulkrepo $(B)/tools/gen_saf
	$(MAKE) check
	$(MAKE) fuzz FUZZ_SECONDS=5 FUZZ_FLAGS=-seed=1

# The tests that run on both stores again with the repositories on PostgreSQL: a throwaway
# server (scripts/test-pg.sh) for the run: every test that keeps a repository, except the
# embedded database's upgrades (test_upgrade).
PG_TESTS := test_db test_store test_engine test_esploro_store test_export test_relations test_doi \
            test_mime test_fetch_policy test_cli_import test_cli_export test_cli_esploro_import \
            test_cli_export_esploro test_cli_jobs test_cli_onix test_cli_xlsx test_cli_convert \
            test_cli_lint test_revert_import test_affiliations test_users_job test_normalize \
            test_api test_setjobs test_deliver test_ftp test_pull test_notify test_researchers \
            test_setjob_files test_server_limits test_user test_support test_cron test_workers \
            test_migrate test_search test_sets
unit-pg: $(B)/bulkrepo $(PG_TESTS:%=$(B)/tests/%) tools
	BULKREPO_BIN=$(abspath $(B)/bulkrepo) GEN_SAF=$(abspath $(B)/tools/gen_saf) \
	BULKREPO_TESTDATA=$(abspath tests/data) sh scripts/test-pg.sh $(PG_TESTS:%=$(B)/tests/%)

# Browser tests of the web UI (tests/browser): Debian's chromium driven by
# playwright-core; installs both when missing.
browser: $(B)/bulkrepo
	sh tests/browser/run.sh $(B)/bulkrepo

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer.
check: deps
	$(MAKE) B=build/asan CFLAGS="$(SANFLAGS)" unit
	$(MAKE) B=build/asan CFLAGS="$(SANFLAGS)" unit-pg

run: deps all
	sh scripts/demo.sh $(B)/bulkrepo

# bench/run.sh [phases]: BENCH_PHASES="saf esploro lint big web", REPS, BENCH_FS, BENCH_DIR,
# BULKREPO_BASE (see bench/run.sh and bench/RESULTS.md).
bench: deps all tools
	BULKREPO=$(B)/bulkrepo GEN_SAF=$(B)/tools/gen_saf GEN_ESPLORO=$(B)/tools/gen_esploro \
	  sh bench/run.sh $(BENCH_PHASES)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# libFuzzer targets (fuzz/README.md): clang, ASan and UBSan, in build/fuzz;
# each runs FUZZ_SECONDS from its seeds in fuzz/corpus/<target> and a crash
# fails the run.  clang comes from scripts/install-fuzz-deps.sh, only here.
FUZZ_SECONDS ?= 60
FUZZ_B := build/fuzz
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined

fuzz:
	@sh scripts/install-fuzz-deps.sh
	$(MAKE) B=$(FUZZ_B) CC=clang CFLAGS="$(FUZZ_CFLAGS)" fuzz-bins
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_FLAGS="$(FUZZ_FLAGS)" sh fuzz/run.sh $(FUZZ_B) $(FUZZ_TARGETS)

fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=10

fuzz-bins: $(FUZZ_TARGETS:%=$(B)/fuzz/%)

$(B)/fuzz/%: fuzz/%.c fuzz/fuzz_util.h fuzz/fuzz_reader.h $(B)/libbulkrepo.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(B)/libbulkrepo.a $(LDLIBS)

# Rebuilds the seed corpora from tests/data (small files only).
fuzz-corpus:
	sh fuzz/make-corpus.sh

clean:
	rm -rf build

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
