# ecr-warden: `make demo` runs the whole thing against a local ECR; `make test` runs every check.
# Both set themselves up on a fresh machine: a Python venv with moto, and the Rust build.

VENV ?= .venv
PYTHON ?= python3
# One build directory shared by every checkout on this machine (the AWS SDK is slow to build cold).
export CARGO_TARGET_DIR ?= $(HOME)/.cache/ecr-warden/target
export CARGO_PROFILE_DEV_DEBUG ?= line-tables-only
MOTO_SERVER := $(abspath $(VENV))/bin/moto_server

.PHONY: test demo lint build venv check-template package bench bench-preview bench-pace bench-custodian bench-organization fuzz

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

build:
	cargo build --workspace

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --quiet

# The template: SAM validation, cfn-lint on the SAM-translated template, and each function's IAM policy
# against the actions its code declares.
check-template: venv build
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 $(VENV)/bin/sam validate --template template.yaml --region us-east-1
	PATH=$(abspath $(VENV))/bin:$$PATH $(VENV)/bin/python scripts/check_template.py template.yaml $(CARGO_TARGET_DIR)/debug/ecr-warden

# Every test: unit tests, integration tests that start their own moto server per test, the template checks;
# then the contract check of every request the tests sent (against botocore's AWS service models).
REQUEST_LOG := $(abspath .request-log)
test: venv lint build check-template
	rm -rf $(REQUEST_LOG)
	$(VENV)/bin/python scripts/check_requests.py --self-test
	MOTO_SERVER=$(MOTO_SERVER) CARGO_LAMBDA=$(abspath $(VENV))/bin/cargo-lambda ECR_WARDEN_REQUEST_LOG=$(REQUEST_LOG) \
	  ECR_WARDEN_BIN=$(CARGO_TARGET_DIR)/debug/ecr-warden cargo test --workspace
	$(VENV)/bin/python scripts/check_requests.py $(REQUEST_LOG)

# The main job on the built-in baseline: a local ECR (moto), a drifted registry, plan, apply, an event.
demo: venv build
	VENV=$(VENV) ECR_WARDEN=$(CARGO_TARGET_DIR)/debug/ecr-warden scripts/demo.sh

# Every Lambda function as an arm64 zip (cargo-lambda + zig), into $(CARGO_TARGET_DIR)/lambda/<name>/bootstrap.zip.
# Not part of `make test`: a release build of the AWS SDK for another architecture takes a while.
$(VENV)/.package-installed: requirements-package.txt $(VENV)/.installed
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-package.txt
	touch $@

package: $(VENV)/.package-installed
	VENV=$(VENV) scripts/package.sh

# The scale benchmark (not a test): apply over 100, 1,000 and 5,000 drifted repositories in moto, then again
# when compliant, and one event of each kind; a table on stdout, JSON in bench-results.json.
BENCH_SIZES ?= 100,1000,5000
bench: venv
	cargo build --release -p ecr-warden
	$(VENV)/bin/python scripts/bench.py $(CARGO_TARGET_DIR)/release/ecr-warden --sizes $(BENCH_SIZES)

# The lifecycle preview as users run it (not a test): the whole command over 10,000 to 1,000,000 images.
bench-preview: venv
	cargo build --release -p ecr-warden
	$(VENV)/bin/python scripts/bench_preview.py $(CARGO_TARGET_DIR)/release/ecr-warden

# The pace benchmark (not a test): apply over 1,000 drifted repositories against a registry throttling ECR calls
# above 100 a second, 20 ms a call, a fixed 8 repositories at once against the adaptive pace; JSON in
# bench-pace.json.
bench-pace: venv
	cargo build --release -p ecr-warden
	$(VENV)/bin/python scripts/bench_pace.py $(CARGO_TARGET_DIR)/release/ecr-warden

# Side by side with Cloud Custodian (not a test): its policies and ecr-warden's translation of them over 200
# drifted repositories, every call answered after 20 ms; Custodian in a virtual environment of its own (it is
# not part of the test environment); JSON in bench-custodian.json.
CUSTODIAN_VENV ?= .venv-custodian
bench-custodian: venv
	cargo build --release -p ecr-warden
	test -x $(CUSTODIAN_VENV)/bin/custodian || (python3 -m venv $(CUSTODIAN_VENV) && $(CUSTODIAN_VENV)/bin/pip install --quiet c7n==0.9.53)
	$(VENV)/bin/python scripts/bench_custodian.py $(CARGO_TARGET_DIR)/release/ecr-warden $(CUSTODIAN_VENV)/bin/custodian

# The organization benchmark (not a test): apply --organization over 10 accounts x 2 regions x 100 drifted
# repositories against the same 2,000 in one registry, every call answered after 20 ms; JSON in
# bench-organization.json.
bench-organization: venv
	cargo build --release -p ecr-warden
	$(VENV)/bin/python scripts/bench_organization.py $(CARGO_TARGET_DIR)/release/ecr-warden

# Every fuzz target for FUZZ_SECONDS (cargo-fuzz from crates.io, stable toolchain, no sanitizer).
FUZZ_SECONDS ?= 60
fuzz:
	command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	scripts/fuzz.sh $(FUZZ_SECONDS)
