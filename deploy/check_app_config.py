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
  that does not exist.

  check_app_config.py --mhp BIN --plans PLAN.jsonl [--root REPO]
"""

import argparse
import json
import os
import re
import subprocess
import sys

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


def check_plans(mhp, path, errors):
    seen_tasks = 0
    seen_runs = 0
    for run_name, plan in plans(path):
        seen_runs += 1
        for rc in plan.get("resource_changes", []):
            after = rc["change"].get("after") or {}
            unknown = rc["change"].get("after_unknown") or {}
            where = f"{run_name}: {rc['address']}"
            if rc["type"] == "aws_ecs_task_definition":
                if unknown.get("container_definitions"):
                    errors.append(f"{where}: container definitions unknown at plan (give the "
                                  "contract test's mocks the values they are made of)")
                    continue
                for c in json.loads(after["container_definitions"]):
                    if c["name"] not in MHP_CONTAINERS:
                        continue
                    seen_tasks += 1
                    env = {e["name"]: e["value"] for e in c.get("environment", [])}
                    for s in c.get("secrets", []):
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mhp", required=True, help="the built mhp binary")
    ap.add_argument("--plans", required=True, help="terraform test -json -verbose output")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    args = ap.parse_args()
    errors = []
    runs, tasks = check_plans(args.mhp, args.plans, errors)
    services = check_compose(args.mhp, args.root, errors)
    names = check_names(args.mhp, args.root, errors)
    commands = check_doc_commands(args.mhp, args.root, errors)
    for e in errors:
        print("FAIL", e)
    print(f"app-config: {runs} planned flavours, {tasks} MHP containers, {services} compose "
          f"services, {names} MHP_* names in the docs and deployment files, {commands} mhp "
          f"commands in the docs; "
          f"{len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
