#!/usr/bin/env python3
"""The application and its deployment agree (issue 21): every setting the deployment gives MHP
is one the binary reads, every setting production needs is given, and every command the
deployment runs is a command the binary has.

Checked against the built binary, never against a list kept here:

- the ECS task definitions of every flavour, as Terraform plans them (modules/platform
  tests/contract.tftest.hcl, run by `terraform test -json -verbose`; the plan JSON is this
  script's input): each MHP container's environment and secrets (secrets get a placeholder of
  their shape) go to `mhp config check --strict` in an otherwise empty environment, which fails
  on a variable MHP does not read and on a production setting left unset;
- each container's command and each scheduled job's command override are parsed by the
  binary's own command-line parser (`mhp ARGS... --help`: an unknown command or option fails);
- the compose stack's MHP services (deploy/compose/compose.yaml with the values of
  .env.example) the same way;
- every MHP_* name the documentation, the Terraform and the compose files mention is one
  `mhp config vars` lists, or one of the deployment tools' own variables below (each checked to
  be read where it says);
- every `mhp ...` command the README, the runbooks and the design notes show (in code blocks
  and in inline code) is parsed by the binary, so a runbook never names a command or an option
  that does not exist;
- every URL registered with the planned Cognito app client(s) is one MHP answers: each callback
  URL is the tasks' public URL (MHP_HTTP_PUBLIC_URL) followed by a path of the OpenAPI document
  the binary serves (`mhp serve` on a temporary SQLite installation, GET /api/v1/openapi.json)
  whose GET takes the OpenID Connect `code` and `state`, i.e. the redirect URI MHP sends; each
  sign-out URL is a path that server answers (not 404);
- every secret the platform's `secrets` module makes (as planned) is handed to a task by a
  `secret_env` of modules/platform, and each `secret_env` name reaches the planned MHP
  containers: no secret that nothing reads;
- every SSM parameter the plans make under /mhp/<env>/ is named by a setting of `mhp config
  vars` (its key, e.g. object_store.bucket), a `recovery.*` name a recovery environment reads
  (modules/platform recovery.tf `recovered_names`), or one of the few other parameters below,
  each with its reader; the environment's own parameters (module.secrets) hold what its MHP
  containers are given for that setting; every setting the binary requires of those containers
  (dropped one at a time, `mhp config check --strict` fails) comes from a parameter, a secret,
  or is one of the few the same in every environment (below); and a production plan writes in
  its recovery region every parameter a recovery environment reads.

  check_app_config.py --mhp BIN --plans PLAN.jsonl [--root REPO]
"""

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

# Secrets reach the tasks from Secrets Manager; the check gives each a value of its shape.
SECRET_PLACEHOLDERS = {
    "DATABASE_URL": "postgres://mhp_app:placeholder@db.internal:5432/mhp?sslmode=verify-full",
    "MHP_KEYS_STORE_URL": "postgres://mhp_app:placeholder@db.internal:5432/mhp_keys?sslmode=verify-full",
}

# MHP_* names that are not MHP settings: the deployment tools' own inputs, each with a file that
# reads it (checked, so the list cannot outlive its reasons).
TOOL_VARIABLES = {
    "MHP_IMAGE": "deploy/bin/mhp-env",
    "MHP_PUBLIC_HOST": "deploy/bin/mhp-env",
    "MHP_CERTIFICATE_ARN": "deploy/bin/mhp-env",
    "MHP_ALARM_EMAILS": "deploy/bin/mhp-env",
    "MHP_HOSTED_ZONE_ID": "deploy/bin/mhp-env",
    "MHP_RECOVERY_OF": "deploy/bin/mhp-env",
    "MHP_STANDBY_APP_COUNT": "deploy/bin/mhp-env",
    "MHP_APP_DB_PASSWORD": "deploy/compose/postgres-init/01-mhp-app-role.sh",
    "MHP_IMAGE_BIN": "scripts/build-image.sh",
}
TOOL_PREFIXES = ("MHP_TEST_",)  # the test suites' switches

MHP_CONTAINERS = {"mhp", "migrate", "worker"}

# SSM parameters under /mhp/<env>/ that hold no MHP setting: name -> (the file that reads it, the
# text there that reads it, why). Checked, so an entry cannot outlive its reader.
NON_SETTING_PARAMETERS = {
    "ecs-host-ami": ("deploy/terraform/modules/ecs-app/main.tf", 'data "aws_ssm_parameter" "ecs_ami"',
                     "written by modules/host-image's pipeline, read by the hosts' launch template"),
}

# Settings the binary requires of the tasks that need no parameter: setting -> why. Each must
# still be required (else the entry goes) and, for the fixed ones, the same in every planned
# environment (else it is the environment's and needs its parameter).
SETTINGS_WITHOUT_PARAMETER = {
    "keys.provider": ("fixed", "aws-kms in every environment (the image is built with --features aws)"),
    "object_store.backend": ("fixed", "s3 in every environment"),
    "http.public_url": ("input", "https://<public_host>: the root's own input (public_host, "
                                 "MHP_PUBLIC_HOST of mhp-env), never a resource of the environment"),
    "mail.transport": ("fixed", "ses wherever the root names a mail domain"),
    "mail.from": ("input", "the root's own input (mail_from, or no-reply@<mail_domain>)"),
}

# A parameter of the environment's own settings (as opposed to those its source writes for a
# recovery environment in the recovery region: module.recovery_parameters).
OWN_PARAMETER = re.compile(r'^module\.secrets\.aws_ssm_parameter\.this\["([^"]+)"\]$')
RECOVERY_PARAMETER = re.compile(r'^module\.recovery_parameters\[0\]\.aws_ssm_parameter\.this\["([^"]+)"\]$')
PARAMETER_NAME = re.compile(r"^/mhp/([^/]+)/(.+)$")


def run(cmd, env):
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)


def base_env():
    # Nothing of this machine's environment may satisfy a setting by accident.
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"}


def check_settings(mhp, where, env, errors):
    out = run([mhp, "config", "check", "--strict"], {**base_env(), **env})
    if out.returncode != 0:
        errors.append(f"{where}: `mhp config check --strict` refuses the settings:\n    "
                      + out.stderr.strip().replace("\n", "\n    "))


def check_command(mhp, where, args, errors):
    if not args:
        return
    out = run([mhp, *args, "--help"], base_env())
    if out.returncode != 0 and "a value is required" in out.stderr:
        # Prose names an option without its value (`--param`): give it one.
        out = run([mhp, *args, "1", "--help"], base_env())
    if out.returncode != 0:
        first = (out.stderr.strip().splitlines() or ["(no message)"])[0]
        errors.append(f"{where}: `mhp {' '.join(args)}` is not a command of this binary: {first}")


def plans(path):
    """(run name, plan JSON) of every planned run in `terraform test -json -verbose` output."""
    with open(path) as f:
        for line in f:
            msg = json.loads(line)
            if msg.get("type") == "test_plan":
                yield msg["@testrun"], msg["test_plan"]


class PlanFacts:
    """What the other checks need from the plans besides the task definitions."""

    def __init__(self):
        self.cognito_clients = []  # (run, address, after, after_unknown)
        self.public_urls = {}  # run -> {MHP_HTTP_PUBLIC_URL of its MHP containers}
        self.made_secrets = {}  # run -> {key of module.secrets.aws_secretsmanager_secret.this}
        self.container_secrets = {}  # run -> {name of a secret an MHP container gets}
        self.parameters = {}  # run -> [(address, name, value or None when unknown at plan)]
        self.task_envs = {}  # run -> [(where, {name: value}, {secret name})] of MHP containers


MADE_SECRET = re.compile(r'^module\.secrets\.aws_secretsmanager_secret\.this\["([^"]+)"\]$')


def check_plans(mhp, path, errors, facts):
    seen_tasks = 0
    seen_runs = 0
    for run_name, plan in plans(path):
        seen_runs += 1
        facts.public_urls.setdefault(run_name, set())
        facts.made_secrets.setdefault(run_name, set())
        facts.container_secrets.setdefault(run_name, set())
        facts.parameters.setdefault(run_name, [])
        facts.task_envs.setdefault(run_name, [])
        for rc in plan.get("resource_changes", []):
            after = rc["change"].get("after") or {}
            unknown = rc["change"].get("after_unknown") or {}
            where = f"{run_name}: {rc['address']}"
            if rc["type"] == "aws_ssm_parameter":
                facts.parameters[run_name].append(
                    (rc["address"], after.get("name"), None if unknown.get("value") else after.get("value")))
            elif rc["type"] == "aws_cognito_user_pool_client":
                facts.cognito_clients.append((run_name, rc["address"], after, unknown))
            elif rc["type"] == "aws_secretsmanager_secret":
                m = MADE_SECRET.match(rc["address"])
                if m:
                    facts.made_secrets[run_name].add(m.group(1))
            elif rc["type"] == "aws_ecs_task_definition":
                if unknown.get("container_definitions"):
                    errors.append(f"{where}: container definitions unknown at plan (give the "
                                  "contract test's mocks the values they are made of)")
                    continue
                for c in json.loads(after["container_definitions"]):
                    if c["name"] not in MHP_CONTAINERS:
                        continue
                    seen_tasks += 1
                    env = {e["name"]: e["value"] for e in c.get("environment", [])}
                    facts.task_envs[run_name].append(
                        (f"{where} [{c['name']}]", dict(env), {x["name"] for x in c.get("secrets", [])}))
                    if "MHP_HTTP_PUBLIC_URL" in env:
                        facts.public_urls[run_name].add(env["MHP_HTTP_PUBLIC_URL"])
                    for s in c.get("secrets", []):
                        facts.container_secrets[run_name].add(s["name"])
                        if s["name"] not in SECRET_PLACEHOLDERS:
                            errors.append(f"{where} [{c['name']}]: secret {s['name']} has no "
                                          "placeholder in deploy/check_app_config.py")
                            continue
                        env[s["name"]] = SECRET_PLACEHOLDERS[s["name"]]
                    check_settings(mhp, f"{where} [{c['name']}]", env, errors)
                    check_command(mhp, f"{where} [{c['name']}]", c.get("command") or ["serve"],
                                  errors)
            elif rc["type"] == "aws_scheduler_schedule":
                target = (after.get("target") or [{}])[0]
                if unknown.get("target") and "input" not in target:
                    errors.append(f"{where}: the job's input is unknown at plan")
                    continue
                for o in json.loads(target.get("input") or "{}").get("containerOverrides", []):
                    check_command(mhp, where, o.get("command") or [], errors)
    if seen_runs < 3 or seen_tasks < 3 * 4:
        errors.append(f"{path}: expected the plans of three flavours with four MHP containers "
                      f"each (app, its migrate, worker, its migrate); found {seen_runs} plans "
                      f"and {seen_tasks} containers")
    return seen_runs, seen_tasks


def compose_services(root):
    import yaml  # PyYAML, in the deploy checks' virtual environment (with checkov)

    base = os.path.join(root, "deploy", "compose")
    values = {}
    with open(os.path.join(base, ".env.example")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                values[k] = v

    def expand(text):
        def sub(m):
            name = m.group(1) or m.group(3)
            return values.get(name, "")
        return re.sub(r"\$\{([A-Z0-9_]+)(:?[-?][^}]*)?\}|\$([A-Z0-9_]+)", sub, str(text))

    with open(os.path.join(base, "compose.yaml")) as f:
        doc = yaml.safe_load(f)
    for name, svc in doc["services"].items():
        if svc.get("image") != "mhp:local":
            continue
        env = {k: expand(v) for k, v in (svc.get("environment") or {}).items()}
        yield name, env, svc.get("command") or ["serve"]


def check_compose(mhp, root, errors):
    n = 0
    for name, env, command in compose_services(root):
        n += 1
        check_settings(mhp, f"compose service {name}", env, errors)
        check_command(mhp, f"compose service {name}", command, errors)
    if n < 3:
        errors.append(f"compose: expected three MHP services, found {n}")
    return n


def mentioned_names(root):
    """MHP_* names in the documentation, the Terraform and the compose files, with a file each."""
    found = {}
    for top in ("README.md", "ARCHITECTURE.md", "docs", "deploy"):
        path = os.path.join(root, top)
        files = [path] if os.path.isfile(path) else [
            os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs
            if "/.terraform" not in d]
        for file in files:
            if not re.search(r"(\.md|\.tf|\.hcl|\.ya?ml|\.example)$", file):
                continue
            with open(file, errors="replace") as f:
                for name in re.findall(r"\bMHP_[A-Z0-9_]*[A-Z0-9]\b", f.read()):
                    found.setdefault(name, os.path.relpath(file, root))
    return found


def check_names(mhp, root, errors):
    out = run([mhp, "config", "vars"], base_env())
    if out.returncode != 0:
        errors.append("`mhp config vars` failed: " + out.stderr.strip())
        return 0
    known = {line.split("\t")[0] for line in out.stdout.splitlines() if line}
    for name, reader in TOOL_VARIABLES.items():
        with open(os.path.join(root, reader)) as f:
            if name not in f.read():
                errors.append(f"{name} is listed as read by {reader}, which does not mention it")
    names = mentioned_names(root)
    for name, file in sorted(names.items()):
        if name in known or name in TOOL_VARIABLES or name.startswith(TOOL_PREFIXES):
            continue
        errors.append(f"{file}: {name} is not a variable MHP reads (mhp config vars) nor a "
                      "deployment tool's")
    return len(names)


SHELL_STOPS = {"|", "||", "&&", ";", ">", ">>", "<", "2>&1", "&", "\\"}


def doc_commands(root):
    """(file, the arguments after `mhp`) of every mhp command shown in the docs."""
    import shlex

    files = [os.path.join(root, "README.md"), os.path.join(root, "deploy", "README.md")]
    for top in ("docs",):
        for d, _, fs in os.walk(os.path.join(root, top)):
            files += [os.path.join(d, f) for f in fs if f.endswith(".md")]
    for file in files:
        with open(file) as f:
            text = f.read()
        candidates = re.findall(r"`([^`\n]*\bmhp [a-z][^`\n]*)`", text)
        fenced = False
        for line in text.splitlines():
            if line.lstrip().startswith("```"):
                fenced = not fenced
                continue
            if fenced:
                candidates.append(line)
        for text_cmd in candidates:
            # Usage notation: a <placeholder> of several words is one value, [optional] parts
            # are shown as given, and of alternatives a|b|c the first is taken.
            text_cmd = re.sub(r"<[^<>]*>", "1", text_cmd)
            text_cmd = text_cmd.replace("[", " ").replace("]", " ")
            text_cmd = re.sub(r"(?<=[\w-])\|[\w|-]+", "", text_cmd)
            try:
                tokens = shlex.split(text_cmd, comments=True)
            except ValueError:
                continue
            # Leading VAR=value assignments, then the binary itself.
            while tokens and re.match(r"^[A-Z_][A-Z0-9_]*=", tokens[0]):
                tokens = tokens[1:]
            if not tokens or not (tokens[0] == "mhp" or tokens[0].endswith("/mhp")):
                continue
            args = []
            for t in tokens[1:]:
                if t in SHELL_STOPS or t.startswith(("|", ">", "$(")):
                    break
                args.append(t)
            if args and not args[0].startswith("-"):
                yield os.path.relpath(file, root), args


def check_doc_commands(mhp, root, errors):
    n = 0
    seen = set()
    for file, args in doc_commands(root):
        key = (file, tuple(args))
        if key in seen:
            continue
        seen.add(key)
        n += 1
        check_command(mhp, file, args, errors)
    return n


# ---------------------------------------------------------------------------------------------
# The URLs registered with Cognito against the routes the binary serves.

@contextlib.contextmanager
def live_server(mhp):
    """`mhp serve` on a temporary SQLite installation on a free loopback port: yields its base
    URL once it answers, stops it and removes the directory afterwards."""
    work = tempfile.mkdtemp(prefix="mhp-app-config-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log_path = os.path.join(work, "serve.log")
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [mhp, "serve", "--data-dir", os.path.join(work, "data"), "--listen", f"127.0.0.1:{port}"],
        env={**base_env(), "MHP_LOG_LEVEL": "warn"}, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                log.flush()
                raise RuntimeError(f"`mhp serve` exited {proc.returncode}: "
                                   + open(log_path).read()[-2000:])
            try:
                if http_get(f"127.0.0.1:{port}", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("`mhp serve` did not become ready in 90 s: "
                                   + open(log_path).read()[-2000:])
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def http_get(hostport, path):
    """(status, body) of a GET, redirects not followed."""
    conn = http.client.HTTPConnection(hostport, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def any_unknown(value):
    """Whether an after_unknown value marks anything unknown (lists and maps hold a flag per
    element)."""
    if isinstance(value, list):
        return any(any_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(any_unknown(v) for v in value.values())
    return value is True


def origin(url):
    u = urllib.parse.urlsplit(url)
    return f"{u.scheme}://{u.netloc}"


def check_cognito_urls(mhp, facts, errors):
    """Every callback URL of the planned Cognito app clients is the redirect URI MHP sends (the
    public URL + a GET route of the served OpenAPI document taking `code` and `state`); every
    sign-out URL a path the server answers. Returns the number of URLs checked."""
    if not facts.cognito_clients:
        errors.append("no aws_cognito_user_pool_client in the plans: the contract test must plan "
                      "modules/identity (the SSO callback cannot be checked)")
        return 0
    for run_name in facts.public_urls:
        if not any(r == run_name for r, *_ in facts.cognito_clients):
            errors.append(f"{run_name}: no Cognito app client planned")
    try:
        with live_server(mhp) as server:
            status, body = http_get(server, "/api/v1/openapi.json")
            if status != 200:
                errors.append(f"`mhp serve`: GET /api/v1/openapi.json answered {status}")
                return 0
            paths = json.loads(body).get("paths") or {}
            # A path no route has must be 404 here, or a sign-out URL's answer proves nothing.
            probe = "/no-such-page-of-mhp/app-config-probe"
            if http_get(server, probe)[0] != 404:
                errors.append(f"`mhp serve` answers {probe} with no 404: cannot tell a route "
                              "from a missing one")
                return 0
            n = 0
            for run_name, address, after, unknown in facts.cognito_clients:
                where = f"{run_name}: {address}"
                publics = facts.public_urls.get(run_name) or set()
                if len(publics) != 1:
                    errors.append(f"{where}: expected one MHP_HTTP_PUBLIC_URL among the run's MHP "
                                  f"containers (the redirect URI's base), found {sorted(publics)}")
                    continue
                public = next(iter(publics)).rstrip("/")
                for attr in ("callback_urls", "logout_urls"):
                    if any_unknown(unknown.get(attr)):
                        errors.append(f"{where}: {attr} unknown at plan")
                if not after.get("callback_urls"):
                    errors.append(f"{where}: no callback URL: MHP's SSO redirect cannot come back")
                for url in after.get("callback_urls") or []:
                    n += 1
                    u = urllib.parse.urlsplit(url)
                    op = (paths.get(u.path) or {}).get("get")
                    if u.scheme != "https" or u.query or u.fragment:
                        errors.append(f"{where}: callback URL {url} must be https, with no query "
                                      "or fragment")
                    if op is None:
                        sso = sorted(p for p in paths if "sso" in p or "callback" in p)
                        errors.append(f"{where}: callback URL {url}: {u.path} is no GET route of "
                                      f"the binary's OpenAPI document (its SSO routes: {sso})")
                        continue
                    query = {q.get("name") for q in op.get("parameters") or []
                             if q.get("in") == "query"}
                    if not {"code", "state"} <= query:
                        errors.append(f"{where}: callback URL {url}: GET {u.path} takes no OpenID "
                                      "Connect `code` and `state`: it is not MHP's SSO callback")
                    if origin(url) != origin(public) or url != public + u.path:
                        errors.append(f"{where}: callback URL {url} is not the redirect URI MHP "
                                      f"sends: its public URL {public} + {u.path}")
                for url in after.get("logout_urls") or []:
                    n += 1
                    u = urllib.parse.urlsplit(url)
                    if u.scheme != "https" or origin(url) != origin(public):
                        errors.append(f"{where}: sign-out URL {url} is not on MHP's public URL "
                                      f"{public}")
                    status = http_get(server, (u.path or "/") + (f"?{u.query}" if u.query else ""))[0]
                    if status in (404, 405):
                        errors.append(f"{where}: sign-out URL {url}: `mhp serve` answers "
                                      f"GET {u.path or '/'} with {status}")
            return n
    except RuntimeError as e:
        errors.append(str(e))
        return 0


# ---------------------------------------------------------------------------------------------
# Every secret made is read.

SECRET_ENV = re.compile(r"^\s*secret_env\s*=\s*\{(.*?)^\s*\}", re.M | re.S)
SECRET_ENV_ENTRY = re.compile(
    r'^\s*([A-Z][A-Z0-9_]*)\s*=\s*module\.secrets\.secret_arns\["([^"]+)"\]', re.M)


def check_secrets_read(root, facts, errors):
    """Every secret modules/platform's `secrets` module makes (as planned) is handed to a task by
    a `secret_env` of modules/platform, and every such variable reaches the planned MHP
    containers. Returns the number of secrets made."""
    platform = os.path.join(root, "deploy", "terraform", "modules", "platform")
    handed = {}  # secret key -> {variable}
    for name in sorted(os.listdir(platform)):
        if not name.endswith(".tf"):
            continue
        with open(os.path.join(platform, name)) as f:
            text = f.read()
        for block in SECRET_ENV.findall(text):
            for var, key in SECRET_ENV_ENTRY.findall(block):
                handed.setdefault(key, set()).add(var)
    made = set().union(*facts.made_secrets.values()) if facts.made_secrets else set()
    if not made:
        errors.append("no module.secrets.aws_secretsmanager_secret in the plans")
    for run_name, keys in sorted(facts.made_secrets.items()):
        got = facts.container_secrets.get(run_name, set())
        for key in sorted(keys):
            if key not in handed:
                errors.append(f"{run_name}: secret {key} (module.secrets) is made but no task reads "
                              "it: no secret_env of modules/platform hands "
                              f'module.secrets.secret_arns["{key}"] to a container (remove it, '
                              "or give it to the task that needs it)")
                continue
            for var in sorted(handed[key] - got):
                errors.append(f"{run_name}: secret {key} is handed over as {var}, which no planned "
                              "MHP container gets")
    return len(made)


# ---------------------------------------------------------------------------------------------
# The SSM parameters against the settings the binary reads.

def setting_names(mhp):
    """{environment variable: setting key} of `mhp config vars` (the settings file aside)."""
    out = run([mhp, "config", "vars"], base_env())
    pairs = (line.split("\t") for line in out.stdout.splitlines() if "\t" in line)
    return {var: key for var, key in pairs if not key.startswith("(")}


def recovered_names(root):
    """The parameters a recovery environment reads (modules/platform recovery.tf)."""
    path = os.path.join(root, "deploy", "terraform", "modules", "platform", "recovery.tf")
    with open(path) as f:
        m = re.search(r"^\s*recovered_names\s*=\s*\[(.*?)\]", f.read(), re.M | re.S)
    return set(re.findall(r'"([^"]+)"', m.group(1))) if m else set()


def required_settings(mhp, env, secrets, var_to_key):
    """The settings `mhp config check --strict` cannot do without in this container's
    environment: each variable dropped in turn (the binary decides, not a list kept here)."""
    full = {**env, **{n: SECRET_PLACEHOLDERS.get(n, "") for n in secrets}}
    required = set()
    for name in full:
        rest = {k: v for k, v in full.items() if k != name}
        if run([mhp, "config", "check", "--strict"], {**base_env(), **rest}).returncode != 0:
            required.add((name, var_to_key.get(name, name)))
    return required


def check_parameters(mhp, root, facts, errors):
    """Every SSM parameter is a setting's (or read otherwise), holds what the tasks get, and
    every required setting has one. Returns the number of parameters checked."""
    var_to_key = setting_names(mhp)
    keys = set(var_to_key.values())
    key_to_vars = {}
    for var, key in var_to_key.items():
        key_to_vars.setdefault(key, set()).add(var)
    recovered = recovered_names(root)
    if not recovered:
        errors.append("modules/platform/recovery.tf: no recovered_names list found")
    for name in sorted(recovered):
        if not name.startswith("recovery.") and name not in keys:
            errors.append(f"modules/platform/recovery.tf: recovered_names has {name}, which is no "
                          "setting of `mhp config vars` (nor a recovery.* name)")
    for name, (reader, text, _why) in NON_SETTING_PARAMETERS.items():
        with open(os.path.join(root, reader)) as f:
            if text not in f.read():
                errors.append(f"parameter {name} is listed as read by {reader} ({text}), which "
                              "does not read it")
    n = 0
    fixed_values = {}  # setting -> {value in some run}
    required_seen = set()
    production_runs = 0
    for run_name, params in sorted(facts.parameters.items()):
        own = {}  # setting -> value (None: unknown at plan)
        recovery_written = set()
        for address, name, value in params:
            m = PARAMETER_NAME.match(name or "")
            if not m:
                continue  # not one of MHP's parameters (none today)
            n += 1
            key = m.group(2)
            where = f"{run_name}: {address} ({name})"
            if OWN_PARAMETER.match(address):
                own[key] = value
                if key not in keys:
                    errors.append(f"{where}: no setting reads it: `mhp config vars` has no setting "
                                  f"{key} (name the parameter after the setting it holds, or remove it)")
            elif RECOVERY_PARAMETER.match(address):
                recovery_written.add(key)
                if key not in keys and key not in recovered:
                    errors.append(f"{where}: neither a setting nor a name a recovery environment "
                                  "reads (recovery.tf recovered_names)")
            elif key not in NON_SETTING_PARAMETERS:
                errors.append(f"{where}: no setting reads it (`mhp config vars` has no {key}) and "
                              "it is not in NON_SETTING_PARAMETERS of deploy/check_app_config.py")
        if recovery_written:
            # A production plan: the recovery environment finds everything it reads.
            production_runs += 1
            for name in sorted(recovered - recovery_written):
                errors.append(f"{run_name}: a recovery environment reads /mhp/<env>/{name} in the "
                              "recovery region (recovery.tf recovered_names), but "
                              "module.recovery_parameters does not write it")
        envs = facts.task_envs.get(run_name, [])
        if not own and envs:
            errors.append(f"{run_name}: no parameter of module.secrets planned")
        seen_envs = set()
        for where, env, secrets in envs:
            # The parameters hold what the tasks are given.
            for key, value in sorted(own.items()):
                given = {env[v] for v in key_to_vars.get(key, ()) if v in env}
                if value is not None and given and value not in given:
                    errors.append(f"{where}: parameter {key} holds {value!r}, the container is "
                                  f"given {sorted(given)}")
            if not any(env.get(v) is not None for k in own for v in key_to_vars.get(k, ())):
                continue  # a container that gets none of the settings (e.g. a collector)
            sig = (frozenset(env.items()), frozenset(secrets))
            if sig in seen_envs:
                continue
            seen_envs.add(sig)
            for var, key in sorted(required_settings(mhp, env, secrets, var_to_key)):
                required_seen.add(key)
                if key in own or var in secrets:
                    continue
                kind = SETTINGS_WITHOUT_PARAMETER.get(key, (None,))[0]
                if kind == "fixed":
                    fixed_values.setdefault(key, set()).add(env.get(var))
                elif kind is None:
                    errors.append(f"{where}: {var} ({key}) is required by the binary but no "
                                  f"parameter /mhp/<env>/{key} holds it and no secret gives it")
    for key, values in sorted(fixed_values.items()):
        if len(values) > 1:
            errors.append(f"setting {key} differs between the planned environments ({sorted(values)}): "
                          "it is the environment's own and needs its parameter "
                          "(SETTINGS_WITHOUT_PARAMETER says it is fixed)")
    for key in sorted(set(SETTINGS_WITHOUT_PARAMETER) - required_seen):
        errors.append(f"SETTINGS_WITHOUT_PARAMETER lists {key}, which the binary does not require "
                      "of any planned container: remove the entry")
    if not production_runs:
        errors.append("no plan writes module.recovery_parameters: the contract test must plan "
                      "production (the recovery region's parameters cannot be checked)")
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mhp", required=True, help="the built mhp binary")
    ap.add_argument("--plans", required=True, help="terraform test -json -verbose output")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    args = ap.parse_args()
    errors = []
    facts = PlanFacts()
    runs, tasks = check_plans(args.mhp, args.plans, errors, facts)
    urls = check_cognito_urls(args.mhp, facts, errors)
    secrets = check_secrets_read(args.root, facts, errors)
    parameters = check_parameters(args.mhp, args.root, facts, errors)
    services = check_compose(args.mhp, args.root, errors)
    names = check_names(args.mhp, args.root, errors)
    commands = check_doc_commands(args.mhp, args.root, errors)
    for e in errors:
        print("FAIL", e)
    print(f"app-config: {runs} planned flavours, {tasks} MHP containers, {urls} Cognito "
          f"callback and sign-out URLs against the served routes, {secrets} secrets made "
          f"(each read by a task), {parameters} SSM parameters against the settings, "
          f"{services} compose services, {names} MHP_* names in the docs "
          f"and deployment files, {commands} mhp commands in the docs; "
          f"{len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
