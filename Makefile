# Thin wrapper: every target installs what it needs first (scripts/deps.sh).
JOBS ?= $(shell nproc)
PROVE_ARGS ?= -r t/

.PHONY: all deps check-layers build build-asan build-debug install run test unit unit-asan prove prove-asan fuzz-smoke fuzz-diff bench clean format

all: build

deps:
	@bash scripts/deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build build/release -j$(JOBS)

build-debug: deps
	@cmake --preset debug >/dev/null
	@cmake --build build/debug -j$(JOBS)

build-asan: deps
	@cmake --preset asan-ubsan >/dev/null
	@cmake --build build/asan -j$(JOBS)

# Installs lunet and the resty link (PREFIX/bin; DESTDIR for staging).
PREFIX ?= /usr/local
install: build
	@cmake --install build/release --prefix $(PREFIX)

# Serves the default site (conf/nginx.conf) on http://127.0.0.1:8080 in the foreground.
run: build
	@mkdir -p logs
	@echo "lunet: serving http://127.0.0.1:8080 (logs in $(CURDIR)/logs/, Ctrl-C to stop)"
	@./build/release/lunet -p $(CURDIR)/ -c conf/nginx.conf -g 'daemon off;'

unit: build
	@./build/release/lunet_unit

unit-asan: build-asan
	@ASAN_OPTIONS=detect_leaks=1 ./build/asan/lunet_unit

prove: build
	@start=$$(date +%s.%N); \
	TEST_NGINX_BINARY=$(CURDIR)/build/release/lunet prove -I t/lib $(PROVE_ARGS); rc=$$?; \
	end=$$(date +%s.%N); \
	printf 'prove wall time: %.1f s\n' $$(echo "$$end - $$start" | bc); exit $$rc

# The t/ suite against the ASan+UBSan build: the harness fails a block when
# the server's stderr carries a sanitizer report (workers are leak-checked
# when they exit).
prove-asan: build-asan
	@start=$$(date +%s.%N); \
	TEST_NGINX_BINARY=$(CURDIR)/build/asan/lunet prove -I t/lib $(PROVE_ARGS); rc=$$?; \
	end=$$(date +%s.%N); \
	printf 'prove (ASan+UBSan) wall time: %.1f s\n' $$(echo "$$end - $$start" | bc); exit $$rc

# Include direction of each layer (docs/design/layers.md).
check-layers:
	@python3 scripts/check-layers

test: check-layers build build-asan
	@echo "== unit tests (release)"
	@./build/release/lunet_unit --gtest_brief=1
	@echo "== unit tests (ASan + UBSan)"
	@ASAN_OPTIONS=detect_leaks=1 ./build/asan/lunet_unit --gtest_brief=1
	@echo "== examples/embed (release, then ASan + UBSan)"
	@./build/release/lunet_embed_example 18480
	@ASAN_OPTIONS=detect_leaks=1 ./build/asan/lunet_embed_example 18481
	@./build/release/lunet_embed_example_c 18482
	@ASAN_OPTIONS=detect_leaks=1 ./build/asan/lunet_embed_example_c 18483
	@echo "== t/ (prove)"
	@$(MAKE) --no-print-directory prove
	@echo "== t/ (prove, ASan + UBSan build)"
	@$(MAKE) --no-print-directory prove-asan
	@echo "== fuzz smoke ($(FUZZ_SECONDS) s per target)"
	@$(MAKE) --no-print-directory fuzz-smoke

# libFuzzer targets (clang) for the HTTP adapter and the config lexer, each
# run for FUZZ_SECONDS on a corpus kept under build/fuzz/corpus.
FUZZ_SECONDS ?= 20
FUZZ_TARGETS = fuzz_http fuzz_conf_lexer
fuzz-smoke: deps
	@CC=clang CXX=clang++ cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DLUNET_FUZZ=ON \
	  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" >/dev/null
	@cmake --build build/fuzz -j$(JOBS) --target $(FUZZ_TARGETS)
	@for f in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus/$$f; \
	  ./build/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) build/fuzz/corpus/$$f > build/fuzz/$$f.log 2>&1 \
	    || { tail -40 build/fuzz/$$f.log; echo "fuzz: $$f FAILED"; exit 1; }; \
	  echo "fuzz: $$f $$(tail -1 build/fuzz/$$f.log)"; \
	done

# The differential test's mutation mode: random variants of t/diff/corpus.txt
# sent to Lunet and Debian's nginx for FUZZ_DIFF_SECONDS (fixed seed); fails
# on a difference t/diff/allow.txt does not explain. The corpus itself runs
# in `make prove` (t/diff/corpus.t).
FUZZ_DIFF_SECONDS ?= 60
FUZZ_DIFF_SEED ?= 1
fuzz-diff: build
	@t/diff/nginx-diff --mutate --seconds $(FUZZ_DIFF_SECONDS) --seed $(FUZZ_DIFF_SEED) \
	  --out build/fuzz-diff.txt

bench: build
	@bash scripts/deps.sh --bench
	@bench/run $(BENCH_ARGS)

format:
	@find src include t/unit t/fuzz -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf build t/servroot
