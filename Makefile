# The two commands a newcomer needs. Both install the pinned toolchain first (rustup does not
# do it by itself for a rust-toolchain.toml), then let cargo build everything else, including
# the built-in WebAssembly plugins that the `warden` binary embeds.
#
#   make run               build Warden and start the server (ARGS="..." to run something else)
#   make test              the whole test suite: format, lints, unit, engine, CLI and server tests
#   make bench / make load the benchmark report / only its HTTP and hostile-load part

ARGS ?= serve

.PHONY: run test toolchain bench load

toolchain:
	@rustup toolchain install >/dev/null 2>&1 || rustup toolchain install
	@# The CPython runner is built with componentize-py, installed by the build into a virtual environment.
	@python3 -c 'import venv, ensurepip' 2>/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv; }
	@rustup show active-toolchain >/dev/null

run: toolchain
	cargo run --quiet --package warden -- $(ARGS)

test: toolchain
	@command -v curl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq curl; }  # the README test runs curl
	@# The PostgreSQL tests start their own throw-away cluster from the server binaries.
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --workspace --no-fail-fast
	@# The black-box server suite once more, every server on PostgreSQL instead of redb.
	TEST_STORAGE_BACKEND=postgres cargo test --package warden --test server --no-fail-fast

bench: toolchain
	cargo bench --package warden --bench engine
	cargo bench --package warden --bench http
	cargo bench --package warden --bench storage
	bench/run

# The bounded load test on loopback (wrk; normal calls beside hostile tenants), part of the HTTP
# benchmark: it writes the "HTTP" section of docs/benchmarks.md.
load: toolchain
	cargo bench --package warden --bench http
