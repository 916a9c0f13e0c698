#!/usr/bin/env python3
"""CI/CD least privilege, checked offline and applied to GitHub (deploy/README.md, "CI/CD: least
privilege").

  ci_policy.py check            what scripts/check-deploy.sh runs (check "ci-policy"):
      - .github/environments.yml describes every GitHub environment the workflows use (the
        `environment:` of every job, `${{ inputs.X }}` resolved through the workflows that call
        it), and nothing else;
      - every environment deploys only from protected refs (main, v* tags), the same refs the AWS
        roles trust (deploy/terraform/modules/github-oidc, variable protected_refs);
      - every production environment (flavour "production" in deploy/terraform/envs/<env>, or a
        name starting with prod-) requires reviewers, prevents self-review, and admins cannot
        bypass it;
      - the rulesets protect main (no deletion, no force push, reviewed pull requests, the ci
        jobs as required checks) and the v* tags (only admins create, move or delete them);
      - every aws_iam_role in deploy/terraform/modules (the CI roles of github-oidc aside) sets
        permissions_boundary = var.permissions_boundary_arn, its module declares that variable,
        modules/platform passes it to every such module, and every environment root passes it
        to modules/platform;
      - the supply chain (deploy/README.md "Supply-chain gates"): every FROM of every Dockerfile
        under deploy/ (and every one a workflow builds with --file) is pinned by @sha256 (or
        names an earlier stage, or scratch); the job of release.yml that builds the image
        pushes it, runs the vulnerability gate (ECR scan findings, failing the step) after the
        push and before anything signs or attests it, signs it and attests its CycloneDX SBOM
        and its SLSA provenance, none of these steps conditional or allowed to fail, and the
        job that promotes it (deploy.yml) needs that job; deploy-env.yml verifies the
        signature and both attestations before any AWS credentials or terraform, and every job
        that plans or applies is that job or needs it.
  ci_policy.py apply [--dry-run] [--repo OWNER/NAME]
      makes the repository's environments and rulesets match the file, with `gh api` (a token of
      a repository admin: `gh auth login`). Deployment branch policies not in the file are
      deleted; rulesets are matched by name. Environment variables (AWS_DEPLOY_ROLE_ARN, ...) are
      not touched (docs/runbooks/first-deployment.md, step 2).

Python 3 standard library and PyYAML (scripts/check-deploy.sh runs it from its tools venv).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / ".github" / "environments.yml"
WORKFLOWS = ROOT / ".github" / "workflows"
TF = ROOT / "deploy" / "terraform"

PROTECTED_BRANCHES = {"main"}
PROTECTED_TAG_PATTERNS = {"v*"}
EXPR = re.compile(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}")


class Errors(list):
    def add(self, msg: str) -> None:
        self.append(msg)


def load_yaml(path: Path):
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def workflow_triggers(wf: dict) -> dict:
    # YAML 1.1 reads the key `on` as the boolean True.
    on = wf.get("on", wf.get(True)) or {}
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {k: None for k in on}
    return on


# --- Environments the workflows use ---------------------------------------------------------------

def used_environments(errors: Errors) -> dict[str, set[str]]:
    """environment name -> {"workflow.yml:job", ...}"""
    workflows = {p.name: load_yaml(p) for p in sorted(WORKFLOWS.glob("*.yml"))}
    # Callers of each reusable workflow: file -> [(caller file, job, with-mapping)]
    callers: dict[str, list[tuple[str, str, dict]]] = {}
    for name, wf in workflows.items():
        for job_id, job in (wf.get("jobs") or {}).items():
            uses = job.get("uses", "")
            if uses.startswith("./.github/workflows/"):
                callers.setdefault(uses.rsplit("/", 1)[1], []).append((name, job_id, job.get("with") or {}))

    def resolve(text: str, wf_name: str, depth: int = 0) -> set[str]:
        """Every value an expression made of literals and ${{ inputs.X }} can take."""
        match = EXPR.search(text)
        if not match:
            if "${{" in text:
                errors.add(f"{wf_name}: environment expression {text!r} is not one this check can follow "
                           "(use literals and ${{{{ inputs.NAME }}}} only)")
                return set()
            return {text}
        if depth > 5:
            errors.add(f"{wf_name}: inputs nested too deep in {text!r}")
            return set()
        var = match.group(1)
        triggers = workflow_triggers(workflows[wf_name])
        if "workflow_dispatch" in triggers and var in ((triggers.get("workflow_dispatch") or {}).get("inputs") or {}):
            errors.add(f"{wf_name}: the environment comes from the free workflow_dispatch input {var!r}")
            return set()
        values: set[str] = set()
        found = False
        for caller, job_id, with_ in callers.get(wf_name, []):
            if var not in with_:
                continue
            found = True
            for v in resolve(str(with_[var]), caller, depth + 1):
                values |= resolve(text[: match.start()] + v + text[match.end():], wf_name, depth + 1)
        if not found:
            default = (((triggers.get("workflow_call") or {}).get("inputs") or {}).get(var) or {}).get("default")
            if default is None:
                errors.add(f"{wf_name}: no caller gives input {var!r} used in an environment name")
                return set()
            values |= resolve(text[: match.start()] + str(default) + text[match.end():], wf_name, depth + 1)
        return values

    used: dict[str, set[str]] = {}
    for name, wf in workflows.items():
        for job_id, job in (wf.get("jobs") or {}).items():
            env = job.get("environment")
            if env is None:
                continue
            expr = env.get("name") if isinstance(env, dict) else env
            for value in resolve(str(expr), name):
                used.setdefault(value, set()).add(f"{name}:{job_id}")
    return used


# --- Terraform facts ------------------------------------------------------------------------------

def production_roots() -> set[str]:
    roots = set()
    for main in sorted((TF / "envs").glob("*/main.tf")):
        if re.search(r'^\s*flavour\s*=\s*"production"', main.read_text(encoding="utf-8"), re.M):
            roots.add(main.parent.name)
    return roots


def oidc_protected_refs() -> list[str]:
    text = (TF / "modules" / "github-oidc" / "variables.tf").read_text(encoding="utf-8")
    block = re.search(r'variable "protected_refs" \{(.*?)\n\}', text, re.S)
    if not block:
        return []
    default = re.search(r"default\s*=\s*\[([^\]]*)\]", block.group(1))
    return re.findall(r'"([^"]+)"', default.group(1)) if default else []


def hcl_blocks(text: str, kind: str) -> list[tuple[str, str]]:
    """(label, body) of every `kind "label" {...}` (resource "aws_iam_role" "x", module "x")."""
    out = []
    for m in re.finditer(rf'^{kind}\s+"([^"]+)"(?:\s+"([^"]+)")?\s*\{{', text, re.M):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        out.append((m.group(2) or m.group(1) if kind == "resource" else m.group(1), text[m.start():i]))
    return out


def check_boundaries(errors: Errors) -> None:
    modules_with_roles = set()
    for main in sorted((TF / "modules").glob("*/main.tf")):
        module = main.parent.name
        if module == "github-oidc":
            continue  # the CI roles themselves: made by an administrator in the bootstrap
        # Every file of the module (object-store's replication role is in replication.tf).
        text = "\n".join(f.read_text(encoding="utf-8") for f in sorted(main.parent.glob("*.tf")))
        roles = [(n, b) for n, b in hcl_blocks(text, "resource") if b.startswith('resource "aws_iam_role" ')]
        if not roles:
            continue
        modules_with_roles.add(module)
        for name, body in roles:
            if not re.search(r"^\s*permissions_boundary\s*=\s*var\.permissions_boundary_arn\s*$", body, re.M):
                errors.add(f"modules/{module}: aws_iam_role.{name} does not set "
                           "permissions_boundary = var.permissions_boundary_arn")
        variables = (main.parent / "variables.tf").read_text(encoding="utf-8")
        if 'variable "permissions_boundary_arn"' not in variables:
            errors.add(f"modules/{module}: no variable permissions_boundary_arn")
    # Every module call of the platform (recovery.tf's recovery network has a role too).
    platform = "\n".join(f.read_text(encoding="utf-8") for f in sorted((TF / "modules" / "platform").glob("*.tf")))
    for name, body in hcl_blocks(platform, "module"):
        source = re.search(r'source\s*=\s*"\.\./([^"]+)"', body)
        if source and source.group(1) in modules_with_roles and not re.search(
                r"^\s*permissions_boundary_arn\s*=\s*var\.permissions_boundary_arn\s*$", body, re.M):
            errors.add(f"modules/platform: module.{name} ({source.group(1)}) is not given "
                       "permissions_boundary_arn = var.permissions_boundary_arn")
    for main in sorted(list((TF / "envs").glob("*/main.tf")) + list((TF / "templates").glob("*/main.tf"))):
        for name, body in hcl_blocks(main.read_text(encoding="utf-8"), "module"):
            if name == "platform" and not re.search(r"^\s*permissions_boundary_arn\s*=", body, re.M):
                errors.add(f"{main.relative_to(TF)}: module.platform is not given permissions_boundary_arn")


# --- The settings file ------------------------------------------------------------------------------

def check_settings(settings: dict, errors: Errors) -> None:
    envs = settings.get("environments") or {}
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", str(settings.get("repository", ""))):
        errors.add("environments.yml: repository must be owner/name")

    used = used_environments(errors)
    for env, jobs in sorted(used.items()):
        if env not in envs:
            errors.add(f"environment {env!r} (used by {', '.join(sorted(jobs))}) is not described in .github/environments.yml")
    for env in sorted(set(envs) - set(used)):
        errors.add(f"environment {env!r} is described in .github/environments.yml but no workflow uses it")

    prod_roots = production_roots()
    refs = set(oidc_protected_refs())
    for env, spec in sorted(envs.items()):
        spec = spec or {}
        base = env[: -len("-plan")] if env.endswith("-plan") else env
        production = bool(spec.get("production"))
        if not env.endswith("-plan") and (base in prod_roots or base.startswith("prod")) and not production:
            errors.add(f"{env}: deploy/terraform/envs/{base} is production: mark it `production: true`")
        dref = spec.get("deployment_refs") or {}
        branches, tags = set(dref.get("branches") or []), set(dref.get("tags") or [])
        if not branches and not tags:
            errors.add(f"{env}: deployment_refs must name the refs that may deploy (none: every branch could)")
        if branches - PROTECTED_BRANCHES:
            errors.add(f"{env}: deploys from unprotected branches {sorted(branches - PROTECTED_BRANCHES)}")
        if tags - PROTECTED_TAG_PATTERNS:
            errors.add(f"{env}: deploys from unprotected tags {sorted(tags - PROTECTED_TAG_PATTERNS)}")
        wanted = {f"refs/heads/{b}" for b in branches} | {f"refs/tags/{t}" for t in tags}
        if refs and not wanted <= refs:
            errors.add(f"{env}: refs {sorted(wanted - refs)} are not trusted by the AWS roles "
                       "(modules/github-oidc protected_refs): the deployment would fail at role assumption")
        reviewers = spec.get("reviewers") or []
        for r in reviewers:
            if not isinstance(r, dict) or set(r) - {"team", "user"} or len(r) != 1:
                errors.add(f"{env}: reviewer {r!r} must be {{team: slug}} or {{user: login}}")
        if len(reviewers) > 6:
            errors.add(f"{env}: GitHub takes at most 6 required reviewers")
        if production:
            if env.endswith("-plan"):
                errors.add(f"{env}: a plan environment is read-only; production belongs to {base}")
            if not reviewers:
                errors.add(f"{env}: a production environment requires reviewers")
            if spec.get("prevent_self_review") is not True:
                errors.add(f"{env}: a production environment sets prevent_self_review: true")
            if spec.get("can_admins_bypass") is not False:
                errors.add(f"{env}: a production environment sets can_admins_bypass: false")

    check_rulesets(settings.get("rulesets") or [], errors)


def check_rulesets(rulesets: list, errors: Errors) -> None:
    def covering(target: str, ref: str):
        return [r for r in rulesets if r.get("target") == target and r.get("enforcement") == "active"
                and ref in ((r.get("conditions") or {}).get("ref_name") or {}).get("include", [])]

    def rule_types(r: dict) -> set[str]:
        return {x.get("type") for x in r.get("rules") or []}

    main = covering("branch", "refs/heads/main") + covering("branch", "~DEFAULT_BRANCH")
    if not any({"deletion", "non_fast_forward", "pull_request"} <= rule_types(r) for r in main):
        errors.add("rulesets: main needs an active branch ruleset with deletion, non_fast_forward and pull_request")
    ci = load_yaml(WORKFLOWS / "ci.yml")
    ci_jobs = {j.get("name", k) for k, j in (ci.get("jobs") or {}).items()}
    for r in main:
        for rule in r.get("rules") or []:
            if rule.get("type") == "required_status_checks":
                for check in (rule.get("parameters") or {}).get("required_status_checks", []):
                    if check.get("context") not in ci_jobs:
                        errors.add(f"rulesets: required check {check.get('context')!r} is not a job of ci.yml ({sorted(ci_jobs)})")
    tags = covering("tag", "refs/tags/v*")
    if not any({"creation", "update", "deletion"} <= rule_types(r) for r in tags):
        errors.add("rulesets: v* tags need an active tag ruleset with creation, update and deletion")
    for r in main + tags:
        for actor in r.get("bypass_actors") or []:
            if actor.get("actor_type") == "RepositoryRole" and actor.get("actor_id") != 5:
                errors.add(f"rulesets: {r.get('name')!r} lets repository role {actor.get('actor_id')} bypass "
                           "(only 5, admin; 4 is write, 2 maintain)")
            if actor.get("actor_type") in {"Integration", "DeployKey"}:
                errors.add(f"rulesets: {r.get('name')!r} lets an app or deploy key bypass")


# --- Supply chain: pinned bases, the release's gate before signing, deploy's verification ----------

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
IMAGE_BUILD = re.compile(r"\b(docker\s+(?:buildx\s+|image\s+)?build|podman\s+(?:image\s+)?build|buildah\s+(?:bud|build))\b")


def dockerfiles() -> list[Path]:
    files = {p for p in (ROOT / "deploy").rglob("Dockerfile*")
             if p.is_file() and not p.name.endswith(".dockerignore")}
    for wf in sorted(WORKFLOWS.glob("*.yml")):
        for m in re.finditer(r"(?:--file|-f)[= ]+\"?([^\s\"]+)", wf.read_text(encoding="utf-8")):
            if "Dockerfile" in m.group(1):
                files.add(ROOT / m.group(1))
    return sorted(files)


def check_dockerfile_pins(errors: Errors) -> int:
    files = dockerfiles()
    if not files:
        errors.add("supply chain: no Dockerfile found under deploy/")
    for path in files:
        rel = path.relative_to(ROOT)
        if not path.is_file():
            errors.add(f"supply chain: a workflow builds {rel}, which does not exist")
            continue
        stages: set[str] = set()
        text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
        for n, line in enumerate(text.splitlines(), 1):
            m = re.match(r"^\s*FROM\s+(.*)$", line, re.I)
            if not m:
                continue
            words = [w for w in m.group(1).split() if not w.startswith("--")]
            if not words:
                errors.add(f"{rel}:{n}: FROM without an image")
                continue
            image = words[0]
            if len(words) >= 3 and words[1].lower() == "as":
                stages.add(words[2].lower())
            if image.lower() in stages or image == "scratch":
                continue
            if not DIGEST.search(image):
                errors.add(f"{rel}:{n}: FROM {image} is not pinned by digest (image@sha256:<64 hex>)")
    return len(files)


def step_text(step: dict) -> str:
    return str(step.get("run") or step.get("uses") or "")


def unconditional(step: dict) -> bool:
    return "if" not in step and not step.get("continue-on-error")


def check_release(errors: Errors) -> None:
    wf = load_yaml(WORKFLOWS / "release.yml")
    jobs = wf.get("jobs") or {}
    builders = [j for j, job in jobs.items()
                if any(IMAGE_BUILD.search(step_text(s)) for s in job.get("steps") or [])]
    if len(builders) != 1:
        errors.add(f"release.yml: expected one job that builds the image, found {builders}")
        return
    job_id = builders[0]
    steps = jobs[job_id].get("steps") or []

    def where(pred) -> list[int]:
        return [i for i, s in enumerate(steps) if pred(step_text(s))]

    found = {
        "build": where(lambda t: bool(IMAGE_BUILD.search(t))),
        "push": where(lambda t: bool(re.search(r"\bdocker\s+(?:image\s+)?push\b", t))),
        "vulnerability gate": where(lambda t: "describe-image-scan-findings" in t and "exit 1" in t),
        "sign": where(lambda t: bool(re.search(r"\bcosign\s+sign\b", t))),
        "SBOM attestation": where(lambda t: bool(re.search(r"\bcosign\s+attest\b[^\n]*--type\s+cyclonedx\b", t))),
        "provenance attestation": where(lambda t: bool(re.search(r"\bcosign\s+attest\b[^\n]*--type\s+slsaprovenance", t))),
    }
    for name, idx in found.items():
        if not idx:
            errors.add(f"release.yml job {job_id}: no {name} step")
        for i in idx:
            if name != "build" and not unconditional(steps[i]):
                errors.add(f"release.yml job {job_id}: the {name} step ({steps[i].get('name', i)}) is "
                           "conditional or may fail (if / continue-on-error)")
    if not all(found.values()):
        return
    gate = min(found["vulnerability gate"])
    if not min(found["build"]) < min(found["push"]) < gate:
        errors.add(f"release.yml job {job_id}: the vulnerability gate must follow the build and the push "
                   "(it reads the registry's scan of the pushed digest)")
    for name in ("sign", "SBOM attestation", "provenance attestation"):
        if min(found[name]) < gate:
            errors.add(f"release.yml job {job_id}: {name} comes before the vulnerability gate: an image "
                       "that fails the gate must never be signed or attested")
    # Signing anything anywhere else in the job before the gate.
    for i, s in enumerate(steps[:gate]):
        if re.search(r"\bcosign\s+(sign|attest)\b", step_text(s)):
            errors.add(f"release.yml job {job_id}: step {s.get('name', i)} signs before the vulnerability gate")
    # Promotion: only after the job that gates.
    promoters = [j for j, job in jobs.items() if str(job.get("uses", "")).endswith("/deploy.yml")]
    if not promoters:
        errors.add("release.yml: no job promotes the image (uses ./.github/workflows/deploy.yml)")
    for j in promoters:
        needs = jobs[j].get("needs") or []
        needs = [needs] if isinstance(needs, str) else needs
        if job_id not in needs:
            errors.add(f"release.yml: job {j} promotes the image without needing {job_id} (its gate and signature)")
    for name, other in ((p.name, load_yaml(p)) for p in sorted(WORKFLOWS.glob("*.yml")) if p.name != "release.yml"):
        for j, job in (other.get("jobs") or {}).items():
            if any(re.search(r"\bcosign\s+(sign|attest)\b", step_text(s)) for s in job.get("steps") or []):
                errors.add(f"{name} job {j}: signs or attests images; only release.yml's gated job may")


def check_deploy_verifies(errors: Errors) -> None:
    wf = load_yaml(WORKFLOWS / "deploy-env.yml")
    jobs = wf.get("jobs") or {}

    def verifies(t: str) -> bool:
        return ("cosign" in t and bool(re.search(r"(?:cosign|verify)\s+verify(?:\s|$)", t, re.M))
                and bool(re.search(r"verify-attestation\s+--type\s+cyclonedx\b", t))
                and bool(re.search(r"verify-attestation\s+--type\s+slsaprovenance", t)))

    def uses_aws_or_terraform(step: dict) -> bool:
        t = step_text(step)
        return "configure-aws-credentials" in t or bool(re.search(r"\bterraform\b[^\n]*\b(plan|apply|init)\b", t)) \
            or bool(re.search(r"^\s*aws\s", t, re.M))

    verifiers = []
    for j, job in jobs.items():
        steps = job.get("steps") or []
        idx = [i for i, s in enumerate(steps) if verifies(step_text(s))]
        if not idx:
            continue
        verifiers.append(j)
        if not unconditional(steps[idx[0]]):
            errors.add(f"deploy-env.yml job {j}: the verification step is conditional or may fail")
        first_aws = next((i for i, s in enumerate(steps) if uses_aws_or_terraform(s)), len(steps))
        if idx[0] > first_aws:
            errors.add(f"deploy-env.yml job {j}: the image is verified after AWS credentials or terraform "
                       f"(step {steps[first_aws].get('name') or steps[first_aws].get('uses')})")
    if not verifiers:
        errors.add("deploy-env.yml: no step verifies the image's signature, SBOM (cyclonedx) and provenance "
                   "(slsaprovenance1) attestations")
        return

    def ancestors(j: str, seen=None) -> set[str]:
        seen = set() if seen is None else seen
        needs = jobs.get(j, {}).get("needs") or []
        for n in [needs] if isinstance(needs, str) else needs:
            if n not in seen:
                seen.add(n)
                ancestors(n, seen)
        return seen

    for j, job in jobs.items():
        if any(re.search(r"\bterraform\b[^\n]*\b(plan|apply)\b", step_text(s)) for s in job.get("steps") or []):
            if j not in verifiers and not (ancestors(j) & set(verifiers)):
                errors.add(f"deploy-env.yml job {j} plans or applies without verifying the image "
                           f"(neither verifies nor needs {verifiers})")


def check_supply_chain(errors: Errors) -> int:
    n = check_dockerfile_pins(errors)
    check_release(errors)
    check_deploy_verifies(errors)
    return n


def cmd_check(_args) -> int:
    errors = Errors()
    check_settings(load_yaml(SETTINGS), errors)
    check_boundaries(errors)
    dockerfiles_checked = check_supply_chain(errors)
    for e in errors:
        print(f"ci-policy: {e}")
    if errors:
        return 1
    envs = load_yaml(SETTINGS)["environments"]
    print(f"ci-policy: {len(envs)} environments described and used "
          f"({sum(1 for s in envs.values() if (s or {}).get('production'))} production, with reviewers); "
          "rulesets protect main and v* tags; every module IAM role takes the permissions boundary; "
          f"{dockerfiles_checked} Dockerfile(s) pinned by digest, release.yml gates on vulnerabilities "
          "before signing and attesting (SBOM, provenance) and promoting, deploy-env.yml verifies first")
    return 0


# --- apply ----------------------------------------------------------------------------------------

class Gh:
    def __init__(self, dry_run: bool):
        self.dry_run = dry_run

    def __call__(self, method: str, path: str, body=None, read: bool = False):
        cmd = ["gh", "api", "--method", method, "-H", "Accept: application/vnd.github+json", path]
        if body is not None:
            cmd += ["--input", "-"]
        if self.dry_run and not read:
            print(f"DRY-RUN {method} {path}" + (f" {json.dumps(body, sort_keys=True)}" if body is not None else ""))
            return {}
        out = subprocess.run(cmd, input=json.dumps(body) if body is not None else None, text=True,
                             capture_output=True, check=False)
        if out.returncode != 0:
            raise SystemExit(f"gh api {method} {path} failed: {out.stderr.strip() or out.stdout.strip()}")
        return json.loads(out.stdout) if out.stdout.strip() else {}


def cmd_apply(args) -> int:
    if cmd_check(args) != 0:
        print("ci-policy: fix the check first; nothing applied")
        return 1
    settings = load_yaml(SETTINGS)
    repo = args.repo or settings["repository"]
    owner = repo.split("/")[0]
    gh = Gh(args.dry_run)
    if not (args.dry_run and not args.read_existing) and shutil.which("gh") is None:
        print("ci-policy: the GitHub CLI `gh` is needed (https://cli.github.com), logged in as a repository admin")
        return 1

    ids: dict[tuple[str, str], int] = {}

    def reviewer(r: dict) -> dict:
        kind, name = next(iter(r.items()))
        if args.dry_run and not args.read_existing:
            return {"type": "Team" if kind == "team" else "User", "id": f"<id of {kind} {name}>"}
        if (kind, name) not in ids:
            path = f"/orgs/{owner}/teams/{name}" if kind == "team" else f"/users/{name}"
            ids[(kind, name)] = gh("GET", path, read=True)["id"]
        return {"type": "Team" if kind == "team" else "User", "id": ids[(kind, name)]}

    for env, spec in settings["environments"].items():
        spec = spec or {}
        body = {
            "wait_timer": int(spec.get("wait_timer", 0)),
            "prevent_self_review": bool(spec.get("prevent_self_review", False)),
            "can_admins_bypass": bool(spec.get("can_admins_bypass", True)),
            "reviewers": [reviewer(r) for r in spec.get("reviewers") or []],
            "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
        }
        gh("PUT", f"/repos/{repo}/environments/{env}", body)
        dref = spec.get("deployment_refs") or {}
        wanted = {(b, "branch") for b in dref.get("branches") or []} | {(t, "tag") for t in dref.get("tags") or []}
        existing = {} if args.dry_run and not args.read_existing else {
            (p["name"], p.get("type", "branch")): p["id"]
            for p in gh("GET", f"/repos/{repo}/environments/{env}/deployment-branch-policies?per_page=100",
                        read=True).get("branch_policies", [])}
        for key, pid in existing.items():
            if key not in wanted:
                gh("DELETE", f"/repos/{repo}/environments/{env}/deployment-branch-policies/{pid}")
        for name, kind in sorted(wanted - set(existing)):
            gh("POST", f"/repos/{repo}/environments/{env}/deployment-branch-policies", {"name": name, "type": kind})
        print(f"ci-policy: environment {env}: {len(body['reviewers'])} reviewer(s), refs {sorted(n for n, _ in wanted)}")

    existing = {} if args.dry_run and not args.read_existing else {
        r["name"]: r["id"] for r in gh("GET", f"/repos/{repo}/rulesets?per_page=100", read=True) or []}
    for ruleset in settings.get("rulesets") or []:
        if ruleset["name"] in existing:
            gh("PUT", f"/repos/{repo}/rulesets/{existing[ruleset['name']]}", ruleset)
        else:
            gh("POST", f"/repos/{repo}/rulesets", ruleset)
        print(f"ci-policy: ruleset {ruleset['name']!r}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check", help="offline checks (scripts/check-deploy.sh)").set_defaults(fn=cmd_check)
    apply = sub.add_parser("apply", help="make GitHub match .github/environments.yml (gh api)")
    apply.add_argument("--repo", help="owner/name (default: repository in the file)")
    apply.add_argument("--dry-run", action="store_true", help="print the changes, change nothing")
    apply.add_argument("--read-existing", action="store_true",
                       help="with --dry-run: read the current policies and rulesets (needs gh auth)")
    apply.set_defaults(fn=cmd_apply)
    args = parser.parse_args()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
