# A thin wrapper over CMake: the README's two commands are `make run` and
# `make test` (each installs what it needs first, as root, from Debian 12).

BUILD_DEPS := cmake g++ make pkg-config libmnl-dev libsystemd-dev libyaml-cpp-dev prometheus-cpp-dev \
              libcap-dev scdoc
RUN_DEPS   := iproute2
TEST_DEPS  := libgtest-dev libgmock-dev iproute2 nftables libcap2-bin clang libclang-rt-14-dev \
              systemd debhelper dpkg-dev build-essential lintian prometheus debootstrap systemd-container

JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 30

CMAKE_COMMON := -DTCPREAP_WERROR=ON

.PHONY: all run test build deps test-deps unit fuzz bench clean

all: build

# Installs only what is missing, so a prepared machine touches no network.
define apt_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing || \
	  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; }; \
	fi
endef

deps:
	$(call apt_install,$(BUILD_DEPS) $(RUN_DEPS))

test-deps:
	$(call apt_install,$(BUILD_DEPS) $(RUN_DEPS) $(TEST_DEPS))

# The main job: the daemon in the foreground on the shipped default config,
# logging to the terminal, metrics on 127.0.0.1:10126. Ctrl-C stops it.
run: deps
	cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DTCPREAP_TESTS=OFF
	cmake --build build-release -j$(JOBS)
	./build-release/daemon/tcpreapd --config config/tcpreap.yaml

build: test-deps
	cmake -S . -B build $(CMAKE_COMMON)
	cmake --build build -j$(JOBS)

# Every test: the fuzzers briefly, then unit + integration (root, network
# namespaces) under ASan/UBSan, then the same on the plain build.
# TCPREAP_REQUIRE_INTEGRATION=1 turns a skipped kernel test into a failure.
test: build fuzz
	cmake -S . -B build-asan $(CMAKE_COMMON) -DTCPREAP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build build-asan -j$(JOBS)
	TCPREAP_REQUIRE_INTEGRATION=1 ctest --test-dir build-asan --output-on-failure -j$(JOBS) -LE packaging
	TCPREAP_REQUIRE_INTEGRATION=1 ctest --test-dir build --output-on-failure -j$(JOBS)

unit: build
	ctest --test-dir build --output-on-failure -L unit

fuzz: test-deps
	CXX=clang++ cmake -S . -B build-fuzz $(CMAKE_COMMON) -DTCPREAP_FUZZ=ON -DTCPREAP_TESTS=OFF
	cmake --build build-fuzz -j$(JOBS)
	rm -rf build-fuzz/corpus && mkdir -p build-fuzz/corpus
	./build-fuzz/tests/fuzz/fuzz_seed_maker build-fuzz/corpus
	./build-fuzz/tests/fuzz/inet_diag_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    -artifact_prefix=build-fuzz/ build-fuzz/corpus
	rm -rf build-fuzz/config-corpus && cp -r tests/fuzz/config_corpus build-fuzz/config-corpus
	./build-fuzz/tests/fuzz/config_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=5 \
	    -dict=tests/fuzz/config.dict -artifact_prefix=build-fuzz/config- build-fuzz/config-corpus
	rm -rf build-fuzz/packet-corpus && tests/fuzz/make_packet_seeds.sh build-fuzz/packet-corpus
	./build-fuzz/tests/fuzz/tcp_packet_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=256 \
	    -artifact_prefix=build-fuzz/packet- build-fuzz/packet-corpus
	rm -rf build-fuzz/neighbour-corpus && mkdir -p build-fuzz/neighbour-corpus
	./build-fuzz/tests/fuzz/neighbour_dump_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    -artifact_prefix=build-fuzz/neighbour- build-fuzz/neighbour-corpus
	rm -rf build-fuzz/destroy-corpus && mkdir -p build-fuzz/destroy-corpus
	./build-fuzz/tests/fuzz/destroy_seed_maker build-fuzz/destroy-corpus
	./build-fuzz/tests/fuzz/destroy_answer_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    -artifact_prefix=build-fuzz/destroy- build-fuzz/destroy-corpus
	rm -rf build-fuzz/sockstat-corpus && mkdir -p build-fuzz/sockstat-corpus
	cp /proc/net/sockstat /proc/net/sockstat6 build-fuzz/sockstat-corpus/ 2>/dev/null || true
	./build-fuzz/tests/fuzz/sockstat_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=1024 \
	    -artifact_prefix=build-fuzz/sockstat- build-fuzz/sockstat-corpus

# The benchmarks (numbers, not assertions): tests/bench/README.md. probe_bench
# uses the kernel-test helpers, so it is built with the tests (GoogleTest).
bench: test-deps
	cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DTCPREAP_TESTS=OFF
	cmake --build build-release -j$(JOBS)
	TCPREAP_BIN=$(CURDIR)/build-release/daemon/tcpreap tests/bench/scan_bench.sh
	TCPREAP_BIN=$(CURDIR)/build-release/daemon/tcpreap tests/bench/reap_bench.sh
	TCPREAPD_BIN=$(CURDIR)/build-release/daemon/tcpreapd tests/bench/daemon_bench.sh
	cmake -S . -B build-probebench -DCMAKE_BUILD_TYPE=Release
	cmake --build build-probebench -j$(JOBS) --target probe_bench
	PROBE_BENCH_BIN=$(CURDIR)/build-probebench/tests/bench/probe_bench tests/bench/probe_bench.sh

clean:
	rm -rf build build-release build-asan build-fuzz build-probebench
