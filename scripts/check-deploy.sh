#!/usr/bin/env bash
# Offline checks of deploy/ and .github/ (capability C11): Dockerfile lint, Terraform
# fmt/init/validate for every root, `terraform test` (mock_provider) for every module and every
# root with tests (production), the dev root applied against a local moto server and read back
# (moto-apply: envs/dev itself with the override files of deploy/terraform/tests/moto, PyPI
# moto[server] on first run), the runbooks' aws and terraform
# commands against botocore's models and terraform -help (runbook-commands), checkov,
# the GitHub workflows (actionlint, zizmor, the workflow JSON schema), the compose file against
# the compose specification, the Prometheus rules (promtool) and dashboard, the deploy role's
# actions against the roots' resource types (deploy-actions), and - with --image - the engine-less image build and a run of the
# binary from the unpacked image (scripts/build-image.sh --test).
#
#   scripts/check-deploy.sh            static checks (no cargo)
#   scripts/check-deploy.sh --image    also build the OCI image and run it (needs the release build)
#   scripts/check-deploy.sh --only terraform,checkov   a subset (names as in the summary)
#   scripts/check-deploy.sh --bin target/debug/mhp     also check that the deployment and that
#                                                      binary agree (app-config; --image does too)
#
# Needs: python3 with venv and pip (PyPI reachable on first run), the terraform CLI and the
# filesystem mirror of the AWS provider (a directory named tf-plugins, or TF_PLUGIN_MIRROR).
# Tools and Terraform working data go to target/deploy-tools/ (ignored by git); the run is
# idempotent and leaves nothing in the source tree that git would pick up (a module's
# .terraform.lock.hcl from `terraform test` is ignored by deploy/.gitignore).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD

WITH_IMAGE=0
ONLY=""
BIN="${MHP_IMAGE_BIN:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --image) WITH_IMAGE=1 ;;
    --only) ONLY=",$2,"; shift ;;
    --bin) BIN="$2"; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "check-deploy: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

TOOLS="$ROOT/target/deploy-tools"
VENV="$TOOLS/venv"
mkdir -p "$TOOLS"
declare -a RESULTS=()
FAILED=0

want() { [ -z "$ONLY" ] || [[ "$ONLY" == *",$1,"* ]]; }

# run_check NAME COMMAND...: runs a check, keeps its output in target/deploy-tools/logs/NAME.log,
# prints it on failure, records the result and the time taken.
mkdir -p "$TOOLS/logs"
run_check() {
  local name=$1; shift
  local log="$TOOLS/logs/$name.log" start end rc
  start=$(date +%s)
  echo "==> $name"
  rm -f "$TOOLS/logs/$name.why"
  "$@" >"$log" 2>&1
  rc=$?
  end=$(date +%s)
  if [ $rc -eq 0 ]; then
    RESULTS+=("PASS  $name ($((end - start)) s)")
  else
    FAILED=1
    RESULTS+=("FAIL  $name ($((end - start)) s) - see $log")
    # What failed, in a few lines, for the summary at the very end (a CI log is often read
    # from its tail only).
    if [ -s "$TOOLS/logs/$name.why" ]; then
      while IFS= read -r line; do RESULTS+=("        $line"); done < <(head -n 20 "$TOOLS/logs/$name.why")
    fi
    sed 's/^/    /' "$log" | tail -n 80
  fi
  return $rc
}

# ---------------------------------------------------------------------------------------------
# Python tools (pinned in deploy/requirements-checks.txt)
install_tools() {
  local req="$ROOT/deploy/requirements-checks.txt" stamp="$VENV/.requirements.sha256"
  local want_sum
  want_sum=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want_sum" ]; then
    return 0
  fi
  python3 -m venv "$VENV" || { echo "python3 -m venv failed (Debian: apt-get install python3-venv)"; return 1; }
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$req" || return 1
  echo "$want_sum" >"$stamp"
}

# ---------------------------------------------------------------------------------------------
# Terraform: CLI configuration of our own, pointing at the provider mirror; shared plugin cache.
TF_WORK="$TOOLS/terraform"
setup_terraform() {
  if ! command -v terraform >/dev/null 2>&1; then
    echo "terraform CLI not found on PATH: install Terraform >= 1.10 (this check cannot run without it)"
    return 1
  fi
  local mirror="${TF_PLUGIN_MIRROR:-}"
  if [ -z "$mirror" ]; then
    mirror=$(find / -maxdepth 3 -type d -name tf-plugins 2>/dev/null | head -n 1)
  fi
  if [ -z "$mirror" ] || [ ! -d "$mirror/registry.terraform.io/hashicorp/aws" ]; then
    echo "no filesystem mirror of the AWS provider (a directory named tf-plugins holding"
    echo "registry.terraform.io/hashicorp/aws/5.100.x); set TF_PLUGIN_MIRROR to it"
    return 1
  fi
  mkdir -p "$TF_WORK/plugin-cache" "$TF_WORK/data"
  cat >"$TF_WORK/cli.tfrc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/*/*"]
  }
  direct {
    exclude = ["registry.terraform.io/*/*"]
  }
}
plugin_cache_dir = "$TF_WORK/plugin-cache"
disable_checkpoint = true
EOF
  export TF_CLI_CONFIG_FILE="$TF_WORK/cli.tfrc"
  export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
  echo "terraform: $(terraform version | head -n 1); AWS provider in the mirror: $(find "$mirror/registry.terraform.io/hashicorp/aws" -mindepth 1 -maxdepth 1 -printf '%f ')"
}

TF_DIR="$ROOT/deploy/terraform"
tf_roots() { # directories that are applied: bootstrap, envs/*, templates/*
  for d in "$TF_DIR/bootstrap" "$TF_DIR"/envs/* "$TF_DIR"/templates/*; do
    [ -f "$d/main.tf" ] && echo "$d"
  done
}
tf_modules() {
  for d in "$TF_DIR"/modules/*; do
    [ -f "$d/main.tf" ] && echo "$d"
  done
}
# terraform working data goes to target/ (TF_DATA_DIR), never into the source tree.
tf_id() {
  local id=${1#"$TF_DIR"/}
  echo "${id//\//_}"
}
tf_in() {
  local dir=$1; shift
  TF_DATA_DIR="$TF_WORK/data/$(tf_id "$dir")" terraform -chdir="$dir" "$@"
}

check_tf_fmt() { terraform fmt -check -recursive -diff "$TF_DIR"; }

tf_validate_root() {
  local d=$1
  echo "--- ${d#"$ROOT"/}"
  # -lockfile=readonly: the committed .terraform.lock.hcl must already name the provider.
  tf_in "$d" init -backend=false -input=false -no-color -lockfile=readonly >/dev/null || return 1
  tf_in "$d" validate -no-color
}

check_tf_validate() {
  [ "$(tf_roots | wc -l)" -ge 7 ] || { echo "expected bootstrap, 5 environments and the demo template"; return 1; }
  # shellcheck disable=SC2046 # one directory per word
  two_at_a_time tf_validate_root $(tf_roots)
}

tf_test_module() {
  local d=$1 lockfile=()
  echo "--- ${d#"$ROOT"/}"
  if ! ls "$d"/tests/*.tftest.hcl >/dev/null 2>&1; then
    echo "no tests in ${d#"$ROOT"/}/tests"; return 1
  fi
  # A root's committed .terraform.lock.hcl must already name the provider (as in validate).
  [ -f "$d/.terraform.lock.hcl" ] && [[ "$d" != "$TF_DIR"/modules/* ]] && lockfile=(-lockfile=readonly)
  # The plugin cache is not safe for concurrent installs: inits take turns (tests overlap).
  flock "$TF_WORK/plugin-cache.lock" \
    env TF_DATA_DIR="$TF_WORK/data/$(tf_id "$d")" terraform -chdir="$d" \
    init -backend=false -input=false -no-color "${lockfile[@]}" >/dev/null || return 1
  # terraform test would leave a lock file in the module; modules take the root's lock.
  local out trc
  out=$(tf_in "$d" test -no-color 2>&1); trc=$?
  if [ $trc -ne 0 ] && ! grep -q "Test assertion failed" <<<"$out"; then
    # Not an assertion: the provider or terraform itself failed (a plugin that did not start
    # in time on a loaded machine). Said, kept, and tried once more.
    echo "--- ${d#"$ROOT"/}: terraform test failed without a failed assertion; its output:"
    echo "$out" | tail -n 40
    echo "--- ${d#"$ROOT"/}: trying once more"
    out=$(tf_in "$d" test -no-color 2>&1); trc=$?
  fi
  echo "$out" | grep -E "^(  run |Success|Failure|Error)" || true
  if [ $trc -ne 0 ]; then
    echo "$out"
    # For the summary: the module, its failed runs and the first error lines.
    {
      echo "${d#"$ROOT"/}: $(grep -E '^  run .*\.\.\. fail' <<<"$out" | sed -E 's/^  run "([^"]+)".*/\1/' | tr '\n' ' ')"
      grep -E -A3 '^(Error|│ Error|╷)' <<<"$out" | grep -vE '^(--|╷|│ *$)' | head -n 4 | sed 's/^/  /'
    } >>"$TOOLS/logs/terraform-test.why"
    return 1
  fi
}

# Runs FUNCTION DIR for each DIR, two at a time: terraform spends most of its time starting the
# provider, so two overlap well on two cores. The first runs alone, so that the plugin cache is
# filled before the others start (their inits also take turns on a lock). Each writes its own
# log; they are printed in order.
two_at_a_time() {
  local fn=$1 d rc=0 running=0 i=0 logs
  shift
  logs=$(mktemp -d "$TF_WORK/logs.XXXXXX")
  for d in "$@"; do
    i=$((i + 1))
    if [ "$i" = 1 ]; then
      "$fn" "$d" >"$logs/$i.log" 2>&1; echo $? >"$logs/$i.rc"
      continue
    fi
    ( "$fn" "$d" >"$logs/$i.log" 2>&1; echo $? >"$logs/$i.rc" ) &
    running=$((running + 1))
    if [ "$running" -ge 2 ]; then wait -n || true; running=$((running - 1)); fi
  done
  wait || true
  for i in $(seq 1 "$#"); do
    cat "$logs/$i.log"
    [ "$(cat "$logs/$i.rc" 2>/dev/null)" = 0 ] || rc=1
  done
  rm -rf "$logs"
  return $rc
}

# Roots with tests of their own (the production roots: mail domain, recovery region; the demo
# template: a recovery environment).
tf_tested_roots() {
  local d
  for d in $(tf_roots); do
    if ls "$d"/tests/*.tftest.hcl >/dev/null 2>&1; then echo "$d"; fi
  done
}

check_tf_test() {
  # shellcheck disable=SC2046 # one directory per word
  two_at_a_time tf_test_module $(tf_modules) $(tf_tested_roots)
}

# ---------------------------------------------------------------------------------------------
check_hadolint() {
  "$VENV/bin/hadolint" --config "$ROOT/deploy/docker/hadolint.yaml" "$ROOT/deploy/docker/Dockerfile"
}

check_checkov() {
  # No unexplained skip: every inline skip must carry a reason after its id.
  local bad
  bad=$(grep -rnE '#[[:space:]]*checkov:skip=[A-Z0-9_]+[[:space:]]*(:[[:space:]]*.{0,19})?$' "$ROOT/deploy" "$ROOT/.github" || true)
  if [ -n "$bad" ]; then
    echo "checkov skips without a reason (write #checkov:skip=ID:why):"; echo "$bad"; return 1
  fi
  echo "checkov skips (each with its reason):"
  grep -rhoE 'checkov:skip=[A-Z0-9_]+' "$ROOT/deploy" "$ROOT/.github" | sort | uniq -c
  # --skip-download: no calls to Bridgecrew/Prisma; every skip is inline with its reason, or in
  # deploy/checkov.yaml with a comment.
  "$VENV/bin/checkov" --config-file "$ROOT/deploy/checkov.yaml" --skip-download --quiet --compact \
    --directory "$ROOT/deploy" --directory "$ROOT/.github"
}

check_actionlint() {
  # actionlint also runs ShellCheck on run: blocks when it is installed (Debian: shellcheck).
  "$VENV/bin/actionlint" -no-color "$ROOT"/.github/workflows/*.yml
}

check_zizmor() {
  "$VENV/bin/zizmor" --offline --no-progress --config "$ROOT/.github/zizmor.yml" "$ROOT/.github/workflows"
}

check_workflow_schema() {
  "$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows "$ROOT"/.github/workflows/*.yml &&
    "$VENV/bin/check-jsonschema" --builtin-schema vendor.dependabot "$ROOT/.github/dependabot.yml"
}

# GitHub environments and rulesets as code (.github/environments.yml) against the workflows, the
# AWS roles' trusted refs and the Terraform roots; every module IAM role takes the permissions
# boundary (.github/ci_policy.py; `ci_policy.py apply` makes GitHub match the file).
check_ci_policy() {
  "$VENV/bin/python" "$ROOT/.github/ci_policy.py" check
}

check_compose() {
  "$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$ROOT/deploy/compose/compose.yaml" &&
    "$VENV/bin/python" "$ROOT/deploy/compose/check_compose.py" "$ROOT/deploy/compose/compose.yaml"
}

SHELL_SCRIPTS=(scripts/check-deploy.sh scripts/build-image.sh scripts/pitr-drill.sh
  scripts/ha-drill.sh scripts/lib/postgres.sh scripts/with-postgres.sh deploy/bin/mhp-env
  deploy/compose/make-dev-cert.sh deploy/compose/postgres-init/01-mhp-app-role.sh)
check_scripts() {
  local f rc=0
  for f in "${SHELL_SCRIPTS[@]}"; do bash -n "$ROOT/$f" || rc=1; done
  if command -v shellcheck >/dev/null 2>&1; then
    (cd "$ROOT" && shellcheck "${SHELL_SCRIPTS[@]}") || rc=1
  else
    echo "shellcheck not installed (Debian: apt-get install shellcheck): syntax checked only"
  fi
  python3 -c 'import ast, sys; [ast.parse(open(f).read(), f) for f in sys.argv[1:]]' \
    "$ROOT/deploy/image/sbom.py" "$ROOT/deploy/compose/check_compose.py" \
    "$ROOT/deploy/prometheus/check_metrics.py" "$ROOT/tools/ha/drill.py" \
    "$ROOT/deploy/check_app_config.py" "$ROOT/deploy/terraform/check_architecture.py" \
    "$ROOT/deploy/terraform/check_recovery_regions.py" "$ROOT/deploy/terraform/check_deploy_actions.py" \
    "$ROOT/deploy/terraform/tests/moto/moto_server.py" "$ROOT/deploy/terraform/tests/moto/assert_moto.py" \
    "$ROOT/deploy/terraform/tests/moto/empty_buckets.py" "$ROOT/deploy/check_runbook_commands.py" || rc=1
  return $rc
}

# The Prometheus rules (promtool check and unit tests; Debian package prometheus, installed as
# root when missing) and the agreement of rules and dashboard with what /metrics exports.
check_prometheus() {
  if ! command -v promtool >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus || return 1
    else
      echo "promtool not found (Debian: apt-get install prometheus)"
      return 1
    fi
  fi
  (cd "$ROOT/deploy/prometheus" && promtool check rules mhp-rules.yml && promtool test rules mhp-rules.test.yml) &&
    python3 "$ROOT/deploy/prometheus/check_metrics.py"
}

check_image() { "$ROOT/scripts/build-image.sh" --test; }

# One CPU architecture from the image (scripts/build-image.sh --architecture and every image
# build in .github/workflows) to the ECS hosts' AMI and instance types and the Fargate workers
# (deploy/terraform/check_architecture.py); one map of regions to recovery regions in mhp-env,
# templates/demo, bootstrap, the roots' providers and deploy/README.md
# (deploy/terraform/check_recovery_regions.py).
check_architecture() {
  local rc=0
  python3 "$ROOT/deploy/terraform/check_architecture.py" || rc=1
  python3 "$ROOT/deploy/terraform/check_recovery_regions.py" || rc=1
  return $rc
}

# The deploy role's actions are derived from the roots (deploy/terraform/check_deploy_actions.py):
# every AWS resource type of envs/* (and the modules they call) has its actions in
# modules/github-oidc/deploy_actions.json, no entry is stale, no allow is service-wide (`svc:*`)
# outside the file's wildcard_allow; and the rendered statements are exactly the file's actions,
# the escalating KMS ones conditioned (modules/github-oidc/tests/deploy_actions.tftest.hcl).
check_deploy_actions() {
  local rc=0 d="$TF_DIR/modules/github-oidc" out
  python3 "$ROOT/deploy/terraform/check_deploy_actions.py" --root "$ROOT" || rc=1
  setup_terraform >/dev/null || { echo "terraform could not be set up: tests/deploy_actions.tftest.hcl not run"; return 1; }
  flock "$TF_WORK/plugin-cache.lock" \
    env TF_DATA_DIR="$TF_WORK/data/$(tf_id "$d")" terraform -chdir="$d" \
    init -backend=false -input=false -no-color >/dev/null || return 1
  out=$(tf_in "$d" test -no-color -filter=tests/deploy_actions.tftest.hcl 2>&1) || { echo "$out"; rc=1; }
  echo "$out" | grep -E "^(  run |Success|Failure)" || true
  return $rc
}

# The application and its deployment agree (deploy/check_app_config.py): the task definitions
# of every flavour as Terraform plans them (modules/platform/tests/contract.tftest.hcl), the
# compose stack and the docs, against the binary's own settings and commands.
check_app_config() {
  local d="$TF_DIR/modules/platform" plans="$TOOLS/logs/platform-contract.jsonl"
  flock "$TF_WORK/plugin-cache.lock" \
    env TF_DATA_DIR="$TF_WORK/data/$(tf_id "$d")" terraform -chdir="$d" \
    init -backend=false -input=false -no-color >/dev/null || return 1
  if ! tf_in "$d" test -json -verbose -no-color -filter=tests/contract.tftest.hcl >"$plans"; then
    grep '"@level":"error"' "$plans" | head -n 20
    return 1
  fi
  "$VENV/bin/python" "$ROOT/deploy/check_app_config.py" --mhp "$BIN" --plans "$plans"
}

# The dev root itself (envs/dev, modules/platform and every module it calls) applied against
# moto's server mode (deploy/README.md "Applied against moto"): the check copies envs/dev, the
# modules and deploy/wazuh into target/deploy-tools/moto/tree and adds the override files of
# deploy/terraform/tests/moto: envs-dev/ points the providers at moto and the state under
# target/; platform/ gives the module calls whose services moto does not emulate a stand-in
# (tests/moto/stubs/<module>: the real module's variables.tf and versions.tf, copied here, and
# outputs of the same names). Then apply, assertions through boto3 on what was made
# (assert_moto.py), destroy. moto runs from its own venv (tests/moto/requirements.txt) on a
# free port, with fake credentials; everything goes with the server at the end.
MOTO_DIR="$TF_DIR/tests/moto"
MOTO_VENV="$TOOLS/moto-venv"
install_moto() {
  local req="$MOTO_DIR/requirements.txt" stamp="$MOTO_VENV/.requirements.sha256" want_sum
  want_sum=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -x "$MOTO_VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want_sum" ]; then
    return 0
  fi
  python3 -m venv "$MOTO_VENV" || return 1
  "$MOTO_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$req" || return 1
  echo "$want_sum" >"$stamp"
}

MOTO_PID=""
trap 'stop_moto' EXIT # also when the script is interrupted
stop_moto() {
  if [ -n "$MOTO_PID" ]; then kill "$MOTO_PID" 2>/dev/null; wait "$MOTO_PID" 2>/dev/null; fi
  MOTO_PID=""
}

# moto_tree WORK: the temporary copy of the dev root with the override files and the stand-ins.
moto_tree() {
  local work=$1 tree="$1/tree/terraform" stub real rc=0
  mkdir -p "$tree/envs" "$tree/tests/moto"
  cp -r "$TF_DIR/envs/dev" "$tree/envs/dev" && cp -r "$TF_DIR/modules" "$tree/modules" &&
    cp -r "$ROOT/deploy/wazuh" "$work/tree/wazuh" && cp -r "$MOTO_DIR/stubs" "$tree/tests/moto/stubs" &&
    cp "$MOTO_DIR"/envs-dev/*.tf "$MOTO_DIR"/envs-dev/*.tfvars "$tree/envs/dev/" &&
    cp "$MOTO_DIR"/platform/*.tf "$tree/modules/platform/" || return 1
  rm -rf "$tree"/modules/*/tests
  for stub in "$tree"/tests/moto/stubs/*; do
    real="$tree/modules/$(basename "$stub")"
    [ -d "$real" ] || { echo "tests/moto/stubs/$(basename "$stub"): no module of that name"; rc=1; continue; }
    cp "$real/variables.tf" "$real/versions.tf" "$stub/" || rc=1
    # A stand-in has exactly the real module's outputs: an output added there (and used by
    # modules/platform) fails here, not as a surprise in AWS.
    if ! diff <(grep -ho '^output "[^"]*"' "$real"/*.tf | sort) <(grep -ho '^output "[^"]*"' "$stub/outputs.tf" | sort); then
      echo "tests/moto/stubs/$(basename "$stub")/outputs.tf: outputs differ from modules/$(basename "$stub") (< the module, > the stand-in)"
      rc=1
    fi
  done
  return $rc
}

check_moto_apply() {
  install_moto || { echo "cannot install moto (deploy/terraform/tests/moto/requirements.txt)"; return 1; }
  local work="$TOOLS/moto" port endpoint rc=0 dev
  rm -rf "$work" && mkdir -p "$work"
  moto_tree "$work" || return 1
  dev="$work/tree/terraform/envs/dev"
  port=$("$MOTO_VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  endpoint="http://127.0.0.1:$port"
  "$MOTO_VENV/bin/python" "$MOTO_DIR/moto_server.py" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  MOTO_PID=$!
  local i
  for i in $(seq 1 50); do
    "$MOTO_VENV/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
      "$endpoint/moto-api/" 2>/dev/null && break
    kill -0 "$MOTO_PID" 2>/dev/null || { cat "$work/moto.log"; return 1; }
    sleep 0.2
  done
  echo "moto $("$MOTO_VENV/bin/python" -c 'import moto; print(moto.__version__)') at $endpoint; envs/dev copied to ${dev#"$ROOT"/}"
  # Fake credentials for moto only; nothing here reaches AWS (AWS_ENDPOINT_URL sends every
  # service's requests to moto, and AWS_* from the caller's environment are replaced).
  local -a env_moto=(env -u AWS_SESSION_TOKEN -u AWS_PROFILE AWS_ENDPOINT_URL="$endpoint"
    AWS_ACCESS_KEY_ID=moto-testing AWS_SECRET_ACCESS_KEY=moto-testing AWS_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null
    AWS_SHARED_CREDENTIALS_FILE=/dev/null
    TF_DATA_DIR="$work/tf-data")
  local -a tf=("${env_moto[@]}" terraform -chdir="$dev")
  local -a apply=(-auto-approve -input=false -no-color -parallelism=20)
  # -lockfile=readonly: envs/dev's own committed lock file.
  "${tf[@]}" init -input=false -no-color -lockfile=readonly \
    -backend-config="path=$work/terraform.tfstate" >/dev/null || { stop_moto; return 1; }
  # The log bucket's policy first: modules/s3-bucket orders a bucket's access logging after the
  # log bucket but not after its policy, and moto (unlike AWS) refuses logging to a bucket
  # whose policy does not yet let logging.s3.amazonaws.com write.
  "${tf[@]}" apply "${apply[@]}" -target=module.platform.module.object_store.module.logs.aws_s3_bucket_policy.this >"$work/first.log" 2>&1 ||
    { grep -A12 -E 'Error' "$work/first.log"; rc=1; }
  [ $rc -eq 0 ] &&
    "${tf[@]}" apply "${apply[@]}" | grep -vE '(Creating|Still creating|Reading|Read complete|Creation complete)' ||
    rc=1
  if [ $rc -eq 0 ]; then
    "${tf[@]}" output -json applied >"$work/applied.json" &&
      "${env_moto[@]}" "$MOTO_VENV/bin/python" "$MOTO_DIR/assert_moto.py" "$work/applied.json" "$endpoint" || rc=1
  fi
  # Destroy what was applied (also after a failure): the root must come down again. dev's
  # buckets are not force_destroy: they are emptied first (empty_buckets.py), as by an operator.
  if "${tf[@]}" output -json applied >"$work/applied.json" 2>/dev/null; then
    "${env_moto[@]}" "$MOTO_VENV/bin/python" "$MOTO_DIR/empty_buckets.py" "$work/applied.json" "$endpoint" || rc=1
  fi
  "${tf[@]}" destroy "${apply[@]}" -refresh=false | grep -E '^(Destroy complete|Error)' || rc=1
  stop_moto
  rm -rf "$work"
  return $rc
}

# The runbooks' commands exist (deploy/check_runbook_commands.py): every `aws ...` of
# deploy/README.md, the other .md files under deploy/ and docs/runbooks/ against botocore's
# service models (service, operation or waiter, parameters, required parameters), every
# `terraform ...` against the terraform binary's own -help. botocore comes from the moto venv
# (tests/moto/requirements.txt pins boto3, so botocore, recent enough for the CLI operators run;
# the check tools' venv holds the older one checkov needs).
check_runbook_commands() {
  install_moto || { echo "cannot install boto3/botocore (deploy/terraform/tests/moto/requirements.txt)"; return 1; }
  command -v terraform >/dev/null 2>&1 || { echo "terraform CLI not found on PATH: the terraform commands cannot be checked"; return 1; }
  "$MOTO_VENV/bin/python" "$ROOT/deploy/check_runbook_commands.py" --root "$ROOT" --terraform "$(command -v terraform)"
}

# ---------------------------------------------------------------------------------------------
T0=$(date +%s)
if want tools || want hadolint || want checkov || want actionlint || want zizmor || want workflow-schema || want ci-policy || want compose || want app-config; then
  run_check tools install_tools || { echo "cannot install the Python tools"; }
fi
want scripts && run_check scripts check_scripts
want hadolint && run_check hadolint check_hadolint
if want terraform || want architecture; then
  run_check architecture check_architecture
fi
if want terraform || want terraform-fmt; then
  if run_check terraform-setup setup_terraform; then
    setup_terraform >/dev/null
    run_check terraform-fmt check_tf_fmt
  fi
fi
if want terraform; then
  if setup_terraform >/dev/null; then
    run_check terraform-validate check_tf_validate
    run_check terraform-test check_tf_test
  fi
fi
if want moto-apply; then
  if setup_terraform >/dev/null; then
    run_check moto-apply check_moto_apply
  else
    FAILED=1; RESULTS+=("FAIL  moto-apply (terraform could not be set up: see terraform-setup)")
  fi
fi
want runbook-commands && run_check runbook-commands check_runbook_commands
want checkov && run_check checkov check_checkov
want actionlint && run_check actionlint check_actionlint
want zizmor && run_check zizmor check_zizmor
want workflow-schema && run_check workflow-schema check_workflow_schema
want ci-policy && run_check ci-policy check_ci_policy
want compose && run_check compose check_compose
want prometheus && run_check prometheus check_prometheus
want deploy-actions && run_check deploy-actions check_deploy_actions
if [ $WITH_IMAGE -eq 1 ] && want image; then
  run_check image check_image
fi
if want app-config; then
  if [ -z "$BIN" ] && [ $WITH_IMAGE -eq 1 ] && [ -x "$ROOT/target/release/mhp" ]; then
    BIN="$ROOT/target/release/mhp"
  fi
  if [ -n "$BIN" ]; then
    if setup_terraform >/dev/null; then
      run_check app-config check_app_config
    else
      FAILED=1; RESULTS+=("FAIL  app-config (terraform could not be set up: see terraform-setup)")
    fi
  else
    RESULTS+=("SKIP  app-config (needs the binary: --bin PATH, MHP_IMAGE_BIN or --image)")
  fi
fi
T1=$(date +%s)

echo
echo "check-deploy summary ($((T1 - T0)) s):"
printf '  %s\n' "${RESULTS[@]}"
npass=$(printf '%s\n' "${RESULTS[@]}" | grep -c '^PASS' || true)
nfail=$(printf '%s\n' "${RESULTS[@]}" | grep -c '^FAIL' || true)
echo "deploy: $npass passed, $nfail failed"
[ $FAILED -eq 0 ] || exit 1
