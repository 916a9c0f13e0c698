#!/usr/bin/env python3
"""The deploy role's actions are derived from the roots (scripts/check-deploy.sh, check `deploy-actions`).

modules/github-oidc/deploy_actions.json maps every AWS resource type the environment roots manage
to the write actions Terraform needs for it; modules/github-oidc/main.tf builds the deploy role's
service statements from it (tests/deploy_actions.tftest.hcl asserts that the rendered statements
are exactly the file's actions). This check keeps the file in step with the roots, without
Terraform (python3 standard library; HCL blocks read with check_architecture's reader):

  (a) every resource type (resource "aws_...") that deploy/terraform/envs/* manage, through every
      module they call (local sources, followed recursively), has an entry in resource_types;
  (b) no allow of the deploy role names a service-wide wildcard (`service:*`, or any action whose
      name starts with `*`): neither an action of the file nor a literal action of the deploy
      role's policy documents in main.tf (deploy_services, deploy_regional, deploy_iam; Deny
      statements aside), unless wildcard_allow lists it with its reason; an entry of
      wildcard_allow that nothing uses fails too;
  (c) nothing stale: an entry for a resource type (or data source, or backend) that no root uses;
      an action of a service that is no managed resource type's own service (the service of the
      first action of its entry) nor a companion_services entry of a managed type; a scope for a
      service or action that no entry names;
  and: every action has a scope; the escalating actions (IAM, kms:PutKeyPolicy / CreateGrant /
  ReplicateKey / CreateKey) never sit in a regional (unconditioned) scope; no STS, Organizations
  or account action at all; each regional managed policy stays under IAM's 6,144 characters.

    deploy/terraform/check_deploy_actions.py [--root DIR]   (DIR: the repository, default ../..)
"""

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_architecture import block  # noqa: E402  (the one HCL block reader)

MAPPING = "deploy/terraform/modules/github-oidc/deploy_actions.json"
MAIN_TF = "deploy/terraform/modules/github-oidc/main.tf"
DEPLOY_DOCUMENTS = ("deploy_services", "deploy_regional", "deploy_iam")
ESCALATING = {"kms:putkeypolicy", "kms:creategrant", "kms:replicatekey", "kms:createkey"}
FORBIDDEN_SERVICES = {"sts", "organizations", "account"}
SERVICE_WIDE = re.compile(r"^[a-z0-9-]+:\*")
MANAGED_POLICY_LIMIT = 6144


def blocks(text, header):
    """(name, body) of every HCL block whose opening line matches `header` (a regex with one
    group, the name)."""
    for m in re.finditer(header + r"\s*\{", text):
        yield m.group(1), block(text[m.start():], header)


def strip_comments(text):
    return "\n".join(re.sub(r"(^|\s)(#|//).*$", "", line) for line in text.splitlines())


def module_files(directory):
    return sorted(p for p in directory.glob("*.tf") if not p.name.endswith("_override.tf"))


def walk(directory, seen, found):
    """Adds to `found` (resource types, data source types, backends -> where) what `directory`
    and every module it calls with a local source hold."""
    directory = directory.resolve()
    if directory in seen:
        return
    seen.add(directory)
    for tf in module_files(directory):
        text = strip_comments(tf.read_text())
        where = str(tf)
        for kind, key in (("resource", "resources"), ("data", "data")):
            for t in re.findall(r'^\s*%s\s+"(aws_[a-z0-9_]+)"\s+"' % kind, text, re.M):
                found[key].setdefault(t, where)
        for b in re.findall(r'^\s*backend\s+"([a-z0-9_]+)"', text, re.M):
            found["backends"].setdefault(b, where)
        for _name, body in blocks(text, r'\bmodule\s+"([^"]+)"'):
            m = re.search(r'^\s*source\s*=\s*"(\.{1,2}/[^"]+)"', body or "", re.M)
            if m:
                walk(directory / m.group(1), seen, found)


def managed(root):
    found = {"resources": {}, "data": {}, "backends": {}}
    roots = sorted(d for d in (root / "deploy/terraform/envs").iterdir() if (d / "main.tf").is_file())
    seen = set()
    for d in roots:
        walk(d, seen, found)
    return roots, found


def policy_literals(main_tf):
    """(document, sid, action) of every literal action of an allow in the deploy role's policy
    documents; local lists (local.x) are resolved from the module's locals."""
    text = strip_comments(main_tf)
    local_lists = {}
    for _, body in blocks(text, r"\b(locals)"):
        for m in re.finditer(r"^\s*([a-z_]+)\s*=\s*\[(.*?)\]", body or "", re.M | re.S):
            local_lists[m.group(1)] = re.findall(r'"([^"]+)"', m.group(2))
    out = []
    for name in DEPLOY_DOCUMENTS:
        doc = block(text, r'data\s+"aws_iam_policy_document"\s+"%s"' % name)
        if doc is None:
            continue
        for _, st in blocks(doc, r"\b(statement|content)"):
            st = st or ""
            if re.search(r'^\s*effect\s*=\s*"Deny"', st, re.M):
                continue
            sid = (re.search(r'^\s*sid\s*=\s*"([^"]*)"', st, re.M) or [None, "?"])[1]
            m = re.search(r"^\s*actions\s*=\s*(.+?)$", st, re.M)
            if not m:
                continue
            expr = m.group(1)
            if expr.lstrip().startswith("["):
                expr = st[m.start(1):st.index("]", m.start(1)) + 1]
            actions = re.findall(r'"([a-z0-9-]+:[^"]+)"', expr)
            for ref in re.findall(r"\blocal\.([a-z_]+)\b", expr):
                actions += local_lists.get(ref, [])
            out += [(name, sid, a) for a in actions]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=str(Path(__file__).resolve().parents[2]))
    root = Path(ap.parse_args().root)
    errors = []
    try:
        mapping = json.loads((root / MAPPING).read_text())
    except (OSError, ValueError) as e:
        print(f"FAIL {MAPPING}: {e}")
        return 1
    types = mapping.get("resource_types", {})
    data_sources = mapping.get("data_sources", {})
    backends = mapping.get("backend", {})
    scopes = mapping.get("scopes", {})
    companions = mapping.get("companion_services", {})
    allow = mapping.get("wildcard_allow", {})

    roots, found = managed(root)
    print(f"roots: {', '.join(d.name for d in roots)}: {len(found['resources'])} AWS resource types, "
          f"{len(found['data'])} data source types, backends {sorted(found['backends'])}")
    if not roots or not found["resources"]:
        errors.append("deploy/terraform/envs: no root or no aws_* resource found: this check no longer sees them")

    # (a) every managed resource type has an entry.
    for t, where in sorted(found["resources"].items()):
        if t not in types:
            errors.append(f"(a) {t} (first in {Path(where).relative_to(root)}) has no entry in {MAPPING} "
                          "resource_types: name the actions Terraform needs to create, update, delete and tag it")
        elif not types[t]:
            errors.append(f"(a) {MAPPING}: resource_types.{t} is empty")

    # (c) stale entries.
    for t in sorted(set(types) - set(found["resources"])):
        errors.append(f"(c) {MAPPING}: resource_types.{t}: no root manages an {t} any more (stale grant)")
    for t in sorted(set(data_sources) - set(found["data"])):
        errors.append(f"(c) {MAPPING}: data_sources.{t}: no root reads an {t} any more (stale grant)")
    for b in sorted(set(backends) - set(found["backends"])):
        errors.append(f"(c) {MAPPING}: backend.{b}: no root uses the {b} backend any more (stale grant)")
    live = {t: a for t, a in types.items() if t in found["resources"]}
    own = {a[0].split(":")[0] for a in live.values() if a}
    own |= {a[0].split(":")[0] for t, a in data_sources.items() if a and t in found["data"]}
    for svc, anchor in sorted(companions.items()):
        if anchor in found["resources"]:
            own.add(svc)
        else:
            errors.append(f"(c) {MAPPING}: companion_services.{svc}: {anchor} is managed by no root (stale grant)")
    entries = {**{f"resource_types.{t}": a for t, a in types.items()},
               **{f"data_sources.{t}": a for t, a in data_sources.items()},
               **{f"backend.{b}": a for b, a in backends.items()}}
    actions = sorted({a for acts in entries.values() for a in acts})
    services = {a.split(":")[0] for a in actions}
    for where, acts in sorted(entries.items()):
        for a in acts:
            if not re.match(r"^[a-z0-9-]+:[A-Za-z*]+$", a):
                errors.append(f"{MAPPING}: {where}: {a!r} is not service:Action")
            svc = a.split(":")[0]
            if svc in FORBIDDEN_SERVICES:
                errors.append(f"{MAPPING}: {where}: {a}: the deploy role never gets STS, Organizations or account actions")
            elif svc not in own:
                errors.append(f"(c) {MAPPING}: {where}: {a}: no root manages a resource of {svc} "
                              "(no managed type's own service, no companion_services entry): stale grant")
    for key in sorted(scopes):
        if ":" in key and key not in actions:
            errors.append(f"(c) {MAPPING}: scopes.{key}: no entry names that action (stale scope)")
        elif ":" not in key and key not in services:
            errors.append(f"(c) {MAPPING}: scopes.{key}: no entry names an action of {key} (stale scope)")

    # Scopes: every action has one; escalating actions never in a regional one.
    scope_of = {a: scopes.get(a, scopes.get(a.split(":")[0])) for a in actions}
    for a, sc in sorted(scope_of.items()):
        if not sc:
            errors.append(f"{MAPPING}: {a} has no scope (scopes.{a.split(':')[0]} or scopes.{a}): it would be granted nowhere")
            continue
        if (a.lower() in ESCALATING or a.startswith("iam:")) and any(s.startswith("regional") for s in sc):
            errors.append(f"{MAPPING}: {a} may hand out access: it needs a conditioned scope, not {sc}")
        if a.startswith("iam:") and sc != ["iam"]:
            errors.append(f"{MAPPING}: {a}: IAM actions take scope iam (deploy_iam's conditioned statements)")

    # (b) no service-wide wildcard, in the file or in main.tf's allows.
    used_allow = set()
    for where, acts in sorted(entries.items()):
        for a in acts:
            if SERVICE_WIDE.match(a) or ":*" in a:
                if a in allow:
                    used_allow.add(a)
                else:
                    errors.append(f"(b) {MAPPING}: {where}: {a} is a service-wide wildcard: name the actions "
                                  "(or list it in wildcard_allow with the reason no narrower form exists)")
    main_tf = (root / MAIN_TF).read_text()
    literals = policy_literals(main_tf)
    if not any(d == "deploy_iam" for d, _, _ in literals):
        errors.append(f"{MAIN_TF}: no allow found in deploy_iam: this check no longer reads the policy documents")
    for doc, sid, a in literals:
        if SERVICE_WIDE.match(a) or a == "*":
            if a in allow:
                used_allow.add(a)
            else:
                errors.append(f"(b) {MAIN_TF}: {doc} statement {sid}: {a} is a service-wide wildcard "
                              f"(not in {MAPPING} wildcard_allow)")
    for a, why in sorted(allow.items()):
        if a not in used_allow:
            errors.append(f"(b) {MAPPING}: wildcard_allow.{a}: no allow uses it any more (stale)")
        if len(str(why).strip()) < 20:
            errors.append(f"(b) {MAPPING}: wildcard_allow.{a}: say why no narrower form exists")

    # IAM's size limit of a managed policy, estimated (main.tf checks it exactly at plan).
    for sc in sorted({s for v in scope_of.values() if v for s in v if s.startswith("regional")}):
        size = sum(len(a) + 3 for a, v in scope_of.items() if v and sc in v) + 300
        if size > MANAGED_POLICY_LIMIT:
            errors.append(f"{MAPPING}: scope {sc} comes to about {size} characters, over IAM's "
                          f"{MANAGED_POLICY_LIMIT} for a managed policy: move services to another regional scope")
        else:
            print(f"scope {sc}: about {size} of {MANAGED_POLICY_LIMIT} characters")

    for e in errors:
        print("FAIL " + e)
    if not errors:
        print(f"deploy-actions: {len(live)} resource types, {len(actions)} actions of {len(services)} services, "
              f"each derived from the roots; no service-wide wildcard"
              + (f" beyond {len(allow)} allowed" if allow else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
