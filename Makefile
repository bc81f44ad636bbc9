# goevent's entry points. CMake does the building; this file names the jobs.
#   make demo   build the library and run the main example
#   make test   every test (Go unit tests, C differential tests, fault
#               injection, fuzz seeds, bindings, then the sanitizer build)
# `make help` lists the rest.

BUILD   ?= build
GO      ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
CMAKE   ?= cmake
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
PYTHON  ?= python3
FUZZTIME ?= 20s
export PATH := $(PATH):/usr/local/go/bin

.PHONY: all lib deps configure test test-go test-c test-bindings python-wheel demo bench fuzz soak memtest install clean help \
	sanitize sanitize-build

all: lib

help:
	@echo "make          build build/lib/libevent_core-2.1.so.7 (and the other sonames)"
	@echo "make demo     build and run the evbuffer and echo examples"
	@echo "make test     gofmt/vet, Go unit tests (-race), C differential tests, fault"
	@echo "              injection and fuzz seeds (ctest), Python and Rust binding tests,"
	@echo "              then all of ctest again under ASan+UBSan (make sanitize)"
	@echo "make bench    goevent vs system libevent, median of runs, ratio table and chart"
	@echo "make python-wheel  the Python package as a wheel in $(BUILD)/python/dist"
	@echo "make fuzz     differential fuzzing through the C ABI (FUZZ_SEEDS seeds of each"
	@echo "              program, default $(FUZZ_SEEDS)), then each Go fuzz target for FUZZTIME ($(FUZZTIME))"
	@echo "make soak     SOAK_CONNS echo connections (default max: as many as the hard"
	@echo "              RLIMIT_NOFILE allows) for SOAK_SECONDS (default $(SOAK_SECONDS)),"
	@echo "              every byte and descriptor accounted for; goevent, then libevent"
	@echo "make memtest  GOEVENT_MAX_READ's memory test at length (MEMTEST_ROUNDS, default"
	@echo "              $(MEMTEST_ROUNDS); make test runs one round)"
	@echo "make sanitize the library, the engine's C and every C test built with"
	@echo "              ASan+UBSan in $(SAN_BUILD)/, all tests run (three ways each), no report allowed"
	@echo "make install  PREFIX=/usr/local: headers, libraries, pkg-config and CMake files"
	@echo "make clean    remove $(BUILD)/ and $(SAN_BUILD)/"

deps:
	@tools/deps.sh

$(BUILD)/CMakeCache.txt: | deps
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

configure: deps $(BUILD)/CMakeCache.txt

lib: configure
	$(CMAKE) --build $(BUILD) --target goevent_libs -j $(JOBS)

# The sanitizer run (make sanitize) is part of make test: the library, the
# engine's C and every C test and fuzz program rebuilt with ASan+UBSan in
# $(SAN_BUILD)/, and all of ctest run again there.
test: test-go test-c test-bindings sanitize

test-go: deps
	@unformatted=$$(gofmt -l core engine tests); if [ -n "$$unformatted" ]; then \
		echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./core/... ./engine/... ./tests/...
	$(GO) test -race -count=1 ./core/...

test-c: lib
	$(CMAKE) --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The Python suite runs from the repository against goevent, then against
# the system's libevent (the reference: the tests must hold there too),
# then against the wheel installed in a fresh venv (bindings/python/wheel.sh).
# The Rust workspace's tests run against goevent, then against libevent.
SYSTEM_LIBEVENT ?= $(shell pkg-config --variable=libdir libevent_core 2>/dev/null)/libevent_core-2.1.so.7
PYTEST = $(PYTHON) -m unittest discover -s bindings/python/tests -t bindings/python

test-bindings: lib
	$(PYTEST)
	@if [ -f "$(SYSTEM_LIBEVENT)" ]; then \
		echo "GOEVENT_LIBRARY=$(SYSTEM_LIBEVENT) $(PYTEST)"; \
		GOEVENT_LIBRARY="$(SYSTEM_LIBEVENT)" $(PYTEST); \
	else \
		echo "no system libevent_core-2.1.so.7: Python tests not run against libevent"; \
	fi
	$(PYTHON) bindings/python/examples/echo.py
	PYTHON=$(PYTHON) bindings/python/wheel.sh --test $(BUILD)
	cargo test --offline --manifest-path bindings/rust/Cargo.toml
	@if [ -f "$(SYSTEM_LIBEVENT)" ]; then \
		echo "GOEVENT_LIB_DIR=$(dir $(SYSTEM_LIBEVENT)) cargo test (the Rust tests on libevent)"; \
		GOEVENT_LIB_DIR="$(dir $(SYSTEM_LIBEVENT))" CARGO_TARGET_DIR="$(abspath $(BUILD))/rust-libevent" \
			cargo test --offline -q --manifest-path bindings/rust/Cargo.toml; \
	fi

python-wheel: lib
	PYTHON=$(PYTHON) bindings/python/wheel.sh $(BUILD)

demo: lib
	$(CMAKE) --build $(BUILD) --target buffer_demo echo_client -j $(JOBS)
	$(BUILD)/examples/buffer_demo
	@echo
	$(BUILD)/examples/echo_client

bench: lib
	$(CMAKE) --build $(BUILD) -j $(JOBS)
	bench/run.sh $(BUILD)

# make fuzz: the differential fuzz programs (tests/fuzz: libevent against
# goevent through the C ABI) over FUZZ_SEEDS seeds each, then every Go fuzz
# target for FUZZTIME. FUZZ_FROM picks the first seed; FUZZ_RECORD=1
# appends what is found, shrunk, to tests/fuzz/corpus.
FUZZ_SEEDS ?= 20000
FUZZ_FROM ?= 1
fuzz: lib
	$(CMAKE) --build $(BUILD) --target fuzzrun -j $(JOBS)
	$(BUILD)/tests/fuzz/fuzzrun -bindir $(BUILD)/tests/fuzz -libdir $(BUILD)/lib \
		-corpus tests/fuzz/corpus -from $(FUZZ_FROM) -count $(FUZZ_SEEDS) -jobs $(JOBS) \
		$(if $(FUZZ_RECORD),-record)
	@for pkg in $$($(GO) list ./core/...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
			$(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

# tests/soak/soak.c, kept out of `make test` because it runs for a while:
# built with cc against goevent (soak_ge) and, with libevent-dev, against the
# system libevent (soak_ref, which checks the test itself). Both run; the
# target fails if either does.
SOAK_SECONDS ?= 20
SOAK_CONNS ?= max
SOAK_CFLAGS ?= -std=gnu99 -O2 -g -Wall -Wextra -pthread
soak: lib
	@mkdir -p $(BUILD)/soak
	$(CC) $(SOAK_CFLAGS) -Iinclude -o $(BUILD)/soak/soak_ge tests/soak/soak.c \
		-L$(BUILD)/lib -Wl,-rpath,$(abspath $(BUILD)/lib) -levent_core -levent_pthreads
	@if pkg-config --exists libevent_core libevent_pthreads; then \
		echo "$(CC) ... -o $(BUILD)/soak/soak_ref (system libevent)"; \
		$(CC) $(SOAK_CFLAGS) -o $(BUILD)/soak/soak_ref tests/soak/soak.c \
			$$(pkg-config --cflags --libs libevent_core libevent_pthreads) || exit 1; \
	else \
		rm -f $(BUILD)/soak/soak_ref; \
		echo "libevent-dev not found: no reference run"; \
	fi
	@status=0; \
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_CONNS=$(SOAK_CONNS) $(BUILD)/soak/soak_ge || status=1; \
	if [ -x $(BUILD)/soak/soak_ref ]; then \
		echo; \
		SOAK_SECONDS=$(SOAK_SECONDS) SOAK_CONNS=$(SOAK_CONNS) $(BUILD)/soak/soak_ref || status=1; \
	fi; \
	exit $$status

# tests/c/solo_maxread_mem.c with more rounds of bursts than make test's one.
MEMTEST_ROUNDS ?= 20
memtest: lib
	$(CMAKE) --build $(BUILD) --target solo_maxread_mem -j $(JOBS)
	$(BUILD)/tests/c/solo_maxread_mem $(MEMTEST_ROUNDS)

# The sanitizer build: its own build directory, so that it never disturbs
# $(BUILD)/. tests/sanitize/run.sh sets the sanitizers' options.
SAN_BUILD ?= build-san
sanitize-build: deps
	@test -f $(SAN_BUILD)/CMakeCache.txt || \
		$(CMAKE) -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGE_SANITIZE=ON >/dev/null
	$(CMAKE) --build $(SAN_BUILD) -j $(JOBS)

sanitize: sanitize-build
	tests/sanitize/run.sh $(SAN_BUILD) -j $(JOBS)

PREFIX ?= /usr/local
install: lib
	$(CMAKE) --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
