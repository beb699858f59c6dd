# Set-up is two commands: `make demo` and `make test`. Both install what a
# fresh machine lacks (Debian packages, a virtual environment with the Python
# tools, the pinned engine sources through cargo), build, then run.

SHELL := /bin/bash
, := ,
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUILD := build
STAMP := $(VENV)/.requirements-installed
DEB_PACKAGES := cmake ninja-build g++ clang libgtest-dev libsimdjson-dev libcurl4-openssl-dev cargo python3-dev python3-venv clang-format npm openssl nghttp2-proxy zlib1g-dev protobuf-compiler libprotobuf-dev

.PHONY: all setup build test test-cpp test-python test-pythons test-stress test-sqlalchemy-suite demo bench lint stubs clean \
	sanitize sanitize-address sanitize-thread fuzz remote-server replica-primary replica-primary-v1 bench-remote

all: build

# Debian packages, only those missing; cargo comes from Debian unless a
# toolchain is already on PATH.
$(BUILD)/.system-ready:
	@missing=""; \
	for pkg in $(DEB_PACKAGES); do \
	  case $$pkg in \
	    cargo) command -v cargo >/dev/null || [ -x "$$HOME/.cargo/bin/cargo" ] || missing="$$missing $$pkg" ;; \
	    python3-dev) $(PYTHON) -c 'import sysconfig,os,sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"],"Python.h")))' || missing="$$missing $$pkg" ;; \
	    python3-venv) $(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing $$pkg" ;; \
	    clang-format) command -v clang-format >/dev/null || missing="$$missing $$pkg" ;; \
	    npm) command -v npm >/dev/null || missing="$$missing $$pkg" ;; \
	    *) dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg" ;; \
	  esac; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@mkdir -p $(BUILD) && touch $@

$(STAMP): requirements/dev.txt
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements/dev.txt
	@# Development imports come straight from python/.
	@echo "$(CURDIR)/python" > $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/aiolibsql-dev.pth
	@touch $@

# The servers and reference clients the remote tests start, from npm, as
# the lock file pins them (npm install: only this platform's binaries exist here).
NODE_STAMP := tests/servers/node_modules/.installed
$(NODE_STAMP): tests/servers/package.json tests/servers/package-lock.json $(BUILD)/.system-ready
	cd tests/servers && npm install --silent --no-audit --no-fund
	@touch $@

setup: $(BUILD)/.system-ready $(STAMP) $(NODE_STAMP)

# Configuring again is quick and keeps the build directory on these options.
build: setup
	PATH="$$HOME/.cargo/bin:$$PATH" cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DAIOLIBSQL_BUILD_PYTHON=ON -DAIOLIBSQL_BUILD_TESTS=ON -DAIOLIBSQL_INPLACE=ON \
	  -DPython_EXECUTABLE=$(CURDIR)/$(PY) > $(BUILD)/configure.log || (cat $(BUILD)/configure.log; exit 1)
	cmake --build $(BUILD)

# libSQL's own Rust replica client (the libsql crate), which judges the v1
# test primary and opens replicas ours made; built once, as its lock file pins it.
JUDGE_V1 := $(BUILD)/judge_v1/debug/judge_v1
$(JUDGE_V1): tests/servers/judge_v1/Cargo.toml tests/servers/judge_v1/Cargo.lock tests/servers/judge_v1/src/main.rs \
    $(BUILD)/.system-ready
	PATH="$$HOME/.cargo/bin:$$PATH" cargo build --quiet --locked --manifest-path tests/servers/judge_v1/Cargo.toml \
	  --target-dir $(BUILD)/judge_v1

test-cpp: build
	ctest --test-dir $(BUILD) --output-on-failure

# The suite runs twice: with short reads inline (the default) and without.
test-python: build $(JUDGE_V1)
	$(PY) -m pytest -q tests
	AIOLIBSQL_INLINE_READS=0 $(PY) -m pytest -q tests

# SQLAlchemy's dialect compliance suite for both aiolibsql dialects, on a file
# and in memory, beside the built-in sqlite dialects: fails if ours fail a test
# or pass fewer (docs/sqlalchemy-compliance.md has the counts).
SQLALCHEMY_SUITE_PAIRS := aiolibsql:pysqlite aiolibsql_async:aiosqlite aiolibsql_memory:pysqlite_memory aiolibsql_async_memory:aiosqlite_memory
test-sqlalchemy-suite: build
	$(PY) tests/sqlalchemy_suite/compare.py --workdir $(BUILD)/sqlalchemy-suite $(SQLALCHEMY_SUITE_PAIRS)

# Every supported Python found here (pyenv's versions, then python3.X on PATH):
# its own build of the extension, linking the engine built above, and the
# pytest suite in both inline modes; then the compliance comparison, once, on
# the newest. Prints pass counts per interpreter and names those not found.
test-pythons: build $(JUDGE_V1)
	$(PY) tests/run_pythons.py --engine-build $(BUILD) --main-venv $(VENV) --sqlalchemy-suite $(SQLALCHEMY_SUITE_PAIRS)

# Long runs that need no repeating per interpreter: kill -9 during writes,
# memory over a million operations.
test-stress: build
	$(PY) -m pytest -q tests/stress

test: test-cpp test-pythons test-stress

# The Quick Start runs in a fresh directory so it prints the same on every run.
demo: build
	@rm -rf $(BUILD)/demo && mkdir -p $(BUILD)/demo
	cd $(BUILD)/demo && $(CURDIR)/$(PY) $(CURDIR)/examples/quickstart.py
	$(PY) examples/concurrent_load.py --path $(BUILD)/demo/guilds.db

# The core, the extension and the tests built with AddressSanitizer and
# UndefinedBehaviorSanitizer (GoogleTest and pytest suites), and the core with
# ThreadSanitizer (GoogleTest suite). Each in its own build directory, linking
# the engine built above; every sanitizer report fails the run.
ASAN_BUILD := build-asan
TSAN_BUILD := build-tsan
SANITIZER_ENV := UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The engine and the interpreter are not instrumented, so an address the
# sanitizer did not see allocated would only be reported as a false positive
# by the container-overflow check.
ASAN_ENV := $(SANITIZER_ENV) ASAN_OPTIONS=detect_stack_use_after_return=1:strict_init_order=1:detect_container_overflow=0
# A child of fork() may start threads (it opens connections of its own, and
# their workers run on new threads), which ThreadSanitizer refuses by default.
TSAN_ENV := $(SANITIZER_ENV) TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:die_after_fork=0
# Python under ASan: the runtime is preloaded into the interpreter (the module
# is a shared library loaded late), and libstdc++ with it, or ASan cannot find
# the real __cxa_throw when the module throws; objects are allocated with malloc so ASan
# sees their lifetimes; leak checking stays with the C++ suite, because the
# interpreter deliberately keeps its own allocations alive at exit.
PYTHON_ASAN_ENV := $(ASAN_ENV):detect_leaks=0:suppressions=$(CURDIR)/tests/sanitizers/asan.supp LD_PRELOAD="$$($(CXX) -print-file-name=libasan.so) $$($(CXX) -print-file-name=libstdc++.so)" \
  PYTHONMALLOC=malloc PYTHONPATH=$(CURDIR)/$(ASAN_BUILD)/python

# Resident size means nothing under ASan (its quarantine holds freed memory),
# so tests that measure it run in the plain builds only. The suite runs once,
# with inline reads on (the default): under ASan it is about ten times slower.
# A greenlet thread of its own switching under load crashes inside greenlet
# under ASan (its stack copying is not made for it), so that test stays out too.
ASAN_PYTEST_SCOPE := tests -m "not resident_memory and not greenlet_stack_switching"

define sanitized_build
	mkdir -p $(1)
	cmake -S . -B $(1) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAIOLIBSQL_SANITIZE=$(2) \
	  -DAIOLIBSQL_ENGINE_FROM_BUILD=$(CURDIR)/$(BUILD) -DAIOLIBSQL_BUILD_TESTS=ON -DAIOLIBSQL_BUILD_PYTHON=$(3) \
	  -DPython_EXECUTABLE=$(CURDIR)/$(PY) > $(1)/configure.log || (cat $(1)/configure.log; exit 1)
	cmake --build $(1)
endef

sanitize: sanitize-address sanitize-thread fuzz

# The decoders of what a server sends, fuzzed for a bounded time from the
# seed corpus kept in tests/fuzz/corpus (new inputs go to the build
# directory). Any crash is written there too, and becomes a test.
FUZZ_BUILD := build-fuzz
FUZZ_SECONDS ?= 60
fuzz: build
	mkdir -p $(FUZZ_BUILD)/corpus/hrana_response $(FUZZ_BUILD)/corpus/sync_answer
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DAIOLIBSQL_SANITIZE=address$(,)undefined -DAIOLIBSQL_BUILD_FUZZERS=ON -DAIOLIBSQL_BUILD_PYTHON=OFF \
	  -DAIOLIBSQL_ENGINE_FROM_BUILD=$(CURDIR)/$(BUILD) > $(FUZZ_BUILD)/configure.log || (cat $(FUZZ_BUILD)/configure.log; exit 1)
	cmake --build $(FUZZ_BUILD) --target hrana_response_fuzzer sync_answer_fuzzer
	$(ASAN_ENV) $(FUZZ_BUILD)/tests/fuzz/hrana_response_fuzzer -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	  -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/hrana_response tests/fuzz/corpus/hrana_response
	$(ASAN_ENV) $(FUZZ_BUILD)/tests/fuzz/sync_answer_fuzzer -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	  -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/sync_answer tests/fuzz/corpus/sync_answer

# The package is staged beside the sanitized module so the tests import it and
# not the plain module in python/aiolibsql.
sanitize-address: build $(JUDGE_V1)
	$(call sanitized_build,$(ASAN_BUILD),address$(,)undefined,ON)
	rm -rf $(ASAN_BUILD)/python && mkdir -p $(ASAN_BUILD)/python
	cp -r python/aiolibsql python/aiolibsql_sqlalchemy $(ASAN_BUILD)/python/
	rm -f $(ASAN_BUILD)/python/aiolibsql/_native*.so
	cp $(ASAN_BUILD)/src/bindings/_native*.so $(ASAN_BUILD)/python/aiolibsql/
	$(ASAN_ENV) ctest --test-dir $(ASAN_BUILD) --output-on-failure
	$(PYTHON_ASAN_ENV) $(PY) -m pytest -q $(ASAN_PYTEST_SCOPE)

sanitize-thread: build
	$(call sanitized_build,$(TSAN_BUILD),thread,OFF)
	$(TSAN_ENV) ctest --test-dir $(TSAN_BUILD) --output-on-failure

# A Hrana server on 127.0.0.1:8080 for trying remote databases (the README's
# examples use it): the test server, on a file in a temporary directory.
remote-server: setup
	$(PY) tests/servers/hrana_server.py --port 8080

# A primary for trying embedded replicas on 127.0.0.1:8081 (the README's
# examples use it): the Hrana test server that also serves libSQL's sync protocol.
replica-primary: setup
	$(PY) tests/servers/sync_primary.py --port 8081

# The same for sqld's replication log (v1) on 127.0.0.1:8082: the Hrana test
# server that also serves the ReplicationLog gRPC-web service.
replica-primary-v1: setup
	$(PY) tests/servers/replication_log_primary.py --port 8082

# Local files against every peer (bench/results/results.md), then remote
# databases (bench/results/remote.md).
bench: build
	$(PY) -m bench
	$(PY) -m bench.remote
	$(PY) -m bench.replica

# Remote databases alone: ours against every Python client of libSQL, on
# tursodb and on the Hrana test server, on loopback and at 20 ms.
bench-remote: build
	$(PY) -m bench.remote

lint: setup
	$(PY) -m ruff check python tests examples bench
	$(PY) -m ruff format --check python tests examples bench
	clang-format --dry-run --Werror $$(find src tests/cpp tests/fuzz -name "*.[ch]pp" 2>/dev/null)

# The type stubs of the extension module, regenerated after its interface changes.
stubs: build
	$(PY) -m nanobind.stubgen -q -m aiolibsql._native -p src/bindings/stub_patterns.txt -o python/aiolibsql/_native.pyi

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) python/aiolibsql/_native*.so
