#!/usr/bin/env bash
# The test command: format check, clippy with warnings denied, then every test of the workspace
# against SQLite, a throwaway PostgreSQL cluster (scripts/with-postgres.sh), a real OpenID
# provider (tools/oidc-provider, Node.js), a real DNS server (tools/dns, dnslib), moto for
# AWS (tools/aws) and fhir.resources for FHIR (tools/fhir).
set -euo pipefail
cd "$(dirname "$0")/.."
# Each step is announced with the seconds elapsed so far, so the slow ones are plain to see.
step() { echo "==> $* [${SECONDS}s]"; }

step "cargo fmt --check"
cargo fmt --all -- --check

# The tests' own tools are installed in the background while clippy compiles (downloads more
# than work for the cores): the test OpenID provider's node packages (the SSO tests run a real
# OpenID provider, npm oidc-provider), a real DNS server (dnslib: proofs of SSO domain
# ownership), moto (the installation root is tested with two servers and a worker against KMS
# in moto), fhir.resources (FHIR exports validated by an implementation that is not MHP's),
# opentelemetry-proto (a real OTLP receiver for the trace test), compliance-trestle and botocore
# (the compliance reports' OSCAL and Security Hub forms validated), standardwebhooks (alert
# webhooks verified by the reference library), trustme and syslog-rfc5424-parser (a TLS syslog
# receiver), aiosmtpd (an SMTP server requiring STARTTLS, for mail), oauthlib (a machine client
# of the client credentials grant), scikit-learn (the honesty report's other side), and
# the deploy checks' Python tools.
install_test_tools() {
  set -e
  npm ci --prefix tools/oidc-provider --no-audit --no-fund --loglevel=error
  local tool
  for tool in dns aws fhir otlp compliance webhooks syslog smtp oauth; do
    [ -x "target/$tool-venv/bin/python" ] || python3 -m venv "target/$tool-venv"
    "target/$tool-venv/bin/pip" install --quiet --disable-pip-version-check -r "tools/$tool/requirements.txt"
  done
  [ -x target/ml-venv/bin/python ] || python3 -m venv target/ml-venv
  target/ml-venv/bin/pip install --quiet --disable-pip-version-check -r tools/ml/requirements-sklearn.txt
  scripts/check-deploy.sh --only tools
}
mkdir -p target
step "test tools: tools/oidc-provider, tools/dns, tools/aws, tools/fhir, tools/otlp, tools/compliance, tools/webhooks, tools/syslog, tools/smtp, tools/oauth, scikit-learn (tools/ml), the deploy tools (in the background, log in target/test-tools.log)"
install_test_tools >target/test-tools.log 2>&1 &
TOOLS_PID=$!

step "cargo clippy --all-targets -- -D warnings (default features, then all: aws, vault, stand-ins)"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "waiting for the test tools"
wait "$TOOLS_PID" || { cat target/test-tools.log; echo "test.sh: the test tools did not install" >&2; exit 1; }
export MHP_TEST_REQUIRE_OIDC=1 MHP_TEST_REQUIRE_DNS=1 MHP_TEST_REQUIRE_AWS=1 MHP_TEST_REQUIRE_FHIR=1 MHP_TEST_REQUIRE_OTLP=1 MHP_TEST_REQUIRE_COMPLIANCE=1 MHP_TEST_REQUIRE_WEBHOOKS=1 MHP_TEST_REQUIRE_SYSLOG=1 MHP_TEST_REQUIRE_SMTP=1 MHP_TEST_REQUIRE_OAUTH=1

step "tests (SQLite and PostgreSQL)"
# MHP_TEST_REQUIRE_PG makes every PostgreSQL test fail rather than skip without a server.
export MHP_TEST_REQUIRE_PG=1
# --all-features: the cloud providers (AWS KMS, Secrets Manager, SSM, Vault) and their test
# stand-ins are built and tested too.
scripts/with-postgres.sh cargo test --workspace --all-features --locked

step "timing tests, alone (the ignored ones: nothing else may compete for the cores)"
scripts/with-postgres.sh cargo test --workspace --all-features --locked --test it -- --ignored --test-threads=1

# The checks below run the server binary the tests built (debug, every feature: aws, vault,
# onnx). A release build from scratch is ten minutes of CI on two cores (thin LTO of the binary
# alone is three and a half) and would only repeat what they check; README's run command and the
# benches build the release binary themselves.
BIN=target/debug/mhp
[ -x "$BIN" ] || { echo "test.sh: $BIN was not built by the tests" >&2; exit 1; }

step "deploy checks (scripts/check-deploy.sh --image, the image packed around $BIN)"
MHP_IMAGE_BIN="$PWD/$BIN" scripts/check-deploy.sh --image

step "schemathesis against the live server (scripts/schemathesis.sh)"
scripts/schemathesis.sh "$BIN"

step "a client generated from the served OpenAPI document runs the main path (scripts/check-openapi-client.sh)"
scripts/check-openapi-client.sh "$BIN"

step "PostgreSQL point-in-time recovery with pgBackRest, drilled (scripts/pitr-drill.sh)"
scripts/pitr-drill.sh "$BIN"

step "high availability under faults: two servers and two workers behind HAProxy (scripts/ha-drill.sh)"
scripts/ha-drill.sh "$BIN"

step "C3D against ezc3d, an independent implementation (scripts/check-c3d.sh)"
scripts/check-c3d.sh "$BIN"

step "pages in a real browser (scripts/check-pages.sh)"
scripts/check-pages.sh "$BIN"

step "ML honesty report (issue 24; a gate against regression, not yet against the issue's limits: three are missed, see docs/design/pipelines.md)"
# The default model search against the true hazard on demo seasons of 80 and 240 athletes, for
# the demo's hazard and a second shape. --floor exits 1 when a figure falls more than 0.01 below
# the one recorded (deterministic: seeded cohorts); --check (a missed limit) joins it once the
# figures meet the limits.
# (mhp-ml is optimised in the dev profile too: the same figures as a release build.)
HONESTY_DIR=$(mktemp -d)
cargo run --locked -p mhp-ml --example honesty -- --cohorts 20 --floor --export "$HONESTY_DIR"

step "ML honesty, the scikit-learn side: the same search with scikit-learn's models on the same rows (tools/ml/honesty_sklearn.py; the first 5 cohorts of each scenario)"
target/ml-venv/bin/python tools/ml/honesty_sklearn.py "$HONESTY_DIR" --cohorts 5
rm -rf "$HONESTY_DIR"
echo "==> all checks passed in ${SECONDS}s"
