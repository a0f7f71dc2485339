# omniflow: `make run` starts the server, `make test` runs every test. Both install what is
# missing (Debian packages) first. See README.md.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
HOST ?= 127.0.0.1
PORT ?= 7071
DATA_DIR ?= ./data

.PHONY: all deps build run demo test test-asan test-tsan fuzz soak bench clean

all: build

deps:
	@bash scripts/install-deps.sh build

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@echo "omniflow: API and dashboard at http://$(HOST):$(PORT)/  (data in $(DATA_DIR); Ctrl-C stops)"
	@[ -s $(DATA_DIR)/omniflow.db ] || echo "omniflow: the store is empty; 'make demo' fills it with demo data for the dashboard"
	$(BUILD_DIR)/omniflow serve --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

# A realistic multilingual demo set for the dashboard (20,000 interactions), into DATA_DIR.
demo: build
	$(BUILD_DIR)/omniflow demo-data --data-dir $(DATA_DIR)

test: build
	@bash scripts/install-deps.sh test
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 300

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	@bash scripts/install-deps.sh test
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOMNIFLOW_SANITIZE=address,undefined
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 600

# The concurrency tests under ThreadSanitizer. Not the SIGTERM drain test: in one full CI run under
# TSan (2026-11-30) its idle connection was not closed within 10 s of SIGTERM; 7 runs (4 alone,
# 3 beside two busy loops) passed. It runs in the ASan and release passes on both engines; see
# docs/reliability.md. ErasureCrash (kill -9 during erasures) is left to the other passes: its
# thousands of imported rows per cycle would take it past the test timeout under TSan, and the
# kill loop itself is in the TSan pass as CrashSafety.
TSAN_TESTS ?= Concurrent|Writer|IdGenerator|CrashSafety|ErasureRace|Idle|ToolCallHandler|Spool|ProxyRouter|Attack10Info|IsolationMatrix
test-tsan: deps
	cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOMNIFLOW_SANITIZE=thread
	cmake --build build-tsan -j $(JOBS)
	cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --output-on-failure -j 1 --timeout 600 -R '$(TSAN_TESTS)'

# Each libFuzzer target for FUZZ_SECONDS, starting from its committed seed corpus.
FUZZ_SECONDS ?= 30
FUZZ_TARGETS = save_body query token http_request completion
fuzz: deps
	@command -v clang++ >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev >/dev/null)
	cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DOMNIFLOW_FUZZ=ON -DOMNIFLOW_BUILD_TESTS=OFF
	cmake --build build-fuzz -j $(JOBS)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t && cp -n fuzz/corpus/$$t/* build-fuzz/corpus/$$t/ ; \
	  echo "fuzzing $$t for $(FUZZ_SECONDS)s"; \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/fuzz/lsan.supp:fast_unwind_on_malloc=0 build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1 \
	    $$(test -f fuzz/$$t.dict && echo -dict=fuzz/$$t.dict) \
	    -artifact_prefix=build-fuzz/crash-$$t- build-fuzz/corpus/$$t 2>build-fuzz/fuzz_$$t.log \
	    || { tail -50 build-fuzz/fuzz_$$t.log; exit 1; }; \
	  grep -E "stat::number_of_executed_units|stat::peak_rss" build-fuzz/fuzz_$$t.log; \
	done

# The crash-safety test for many kill cycles (1000 by default).
SOAK_CYCLES ?= 1000
soak: build
	cd $(BUILD_DIR) && OMNIFLOW_KILL_CYCLES=$(SOAK_CYCLES) ./omniflow_e2e_tests --gtest_filter='CrashSafety.*'

# The side-by-side benchmark (about 10 minutes; never part of test or CI): ingest against nginx
# and PostgreSQL, history at 1M interactions, tool_call_handler, storage, RSS, start-up,
# instructions per save, and the data lifecycle (export of 1M rows, erasure of a user with 100k
# and a purge of 500k while saves run). Prints the table and writes bench/results/latest.md.
# BENCH_ARGS are passed to bench/bench.py (e.g. BENCH_ARGS="--rounds 3 --only ingest"; the
# lifecycle sizes: --lifecycle-n, --erase-n, --purge-n). BENCH_ARGS="--only analytics" measures the
# analytics API and the dashboard on 10M interactions (about an hour; see docs/performance.md).
BENCH_ARGS ?=
bench: deps
	@bash scripts/install-deps.sh bench
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DOMNIFLOW_BUILD_BENCH=ON
	cmake --build $(BUILD_DIR) -j $(JOBS) --target omniflow bench_save_path bench_sqlite_history
	python3 bench/bench.py --build-dir $(BUILD_DIR) $(BENCH_ARGS)

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan build-fuzz
