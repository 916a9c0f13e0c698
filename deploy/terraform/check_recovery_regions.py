#!/usr/bin/env python3
"""One map of production regions to recovery regions (scripts/check-deploy.sh, check `architecture`).

The recovery region of each region is written in several places that nothing ties together; a
mismatch sends backups, key replicas or a recovery environment to a region the others do not
use. They must agree:

  - deploy/bin/mhp-env: `recovery_region` (what `mhp-env recovery-region REGION` prints and
    where `mhp-env up` points the template), the regions its error message accepts, and the
    pairs its usage text names (`a -> b`);
  - deploy/terraform/templates/demo: `local.copy_region` (providers.tf, the `copy` provider) and
    the regions variable `region` accepts (variables.tf);
  - deploy/terraform/bootstrap/main.tf: `local.copy_region` (the deploy roles' regions);
  - deploy/terraform/envs/*/providers.tf: the default provider's region and the `copy`
    provider's; every production root's region must be in the map, and every root whose
    region is in the map must copy to that region's recovery region;
  - deploy/README.md "Environments": each root's region and recovery region as the table says.

A recovery environment (MHP_RECOVERY_OF, templates/demo `recovery_of`; runbook
restore-to-new-region.md B) runs in the recovery region of the environment it recovers, which
need be no region of its own (ap-southeast-4), and copies its backups back to that environment's
region: the map inverted. So also:

  - the map is one to one (no region is the recovery region of two);
  - deploy/bin/mhp-env `source_region` is the map inverted and refuses all but the recovery
    regions; templates/demo's and bootstrap's `local.source_region` invert `local.copy_region`;
  - templates/demo's variable `region` accepts, with `recovery_of`, exactly the recovery regions
    (and without it exactly the map's regions), and its `copy` provider goes to
    `local.backup_copy_region`, the source region for a recovery environment;
  - run with a stub `aws` (nothing reaches AWS), `mhp-env plan` gets past its region checks for
    every region of the map without MHP_RECOVERY_OF and every recovery region with it, and
    stops before AWS for every other region; `mhp-env recovery-region` prints the map.

    deploy/terraform/check_recovery_regions.py [--root DIR]   (DIR: the repository, default ../..)

Python 3 standard library only.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_architecture import block  # noqa: E402  (the HCL block reader both checks use)

REGION = r"[a-z]{2}(?:-gov)?-[a-z]+-[0-9]"


def hcl_map(text, name, where, errors):
    body = block(text, r"\b%s\s*=" % re.escape(name))
    if body is None:
        errors.append(f"{where}: no `{name} = {{...}}` found")
        return {}
    pairs = re.findall(r'"(%s)"\s*=\s*"(%s)"' % (REGION, REGION), body)
    if not pairs:
        errors.append(f"{where}: `{name}` maps no region")
    return dict(pairs)


def shell_case(text, fn_name, where, errors):
    """(arms, the regions its refusal names) of a `fn() { case "$1" in REGION) echo REGION ;; ...`."""
    fn = re.search(r"^%s\(\)\s*\{(.*?)^\}" % fn_name, text, re.M | re.S)
    if not fn:
        errors.append(f"{where}: no {fn_name}() function")
        return {}, set()
    arms = dict(re.findall(r"^\s*(%s)\)\s*echo\s+(%s)\s*;;" % (REGION, REGION), fn.group(1), re.M))
    if not arms:
        errors.append(f"{where}: {fn_name}() maps no region")
    refused = re.search(r"^\s*\*\).*?must be ([^\"]*)\"", fn.group(1), re.M)
    accepted = set(re.findall(REGION, refused.group(1).split(":")[-1])) if refused else set()
    return arms, accepted


def mhp_env(root, errors):
    path = root / "deploy/bin/mhp-env"
    text = path.read_text()
    arms, accepted = shell_case(text, "recovery_region", path.relative_to(root), errors)
    usage = " ".join(line.lstrip("#").strip() for line in text.splitlines()
                     if line.startswith("#") and not line.startswith("#!"))
    named = dict(re.findall(r"(%s)\s*->\s*(%s)" % (REGION, REGION), usage))
    return arms, named, accepted


def run_mhp_env(root, args, recovery_of):
    """Runs deploy/bin/mhp-env with a stub `aws` first on PATH: (got past its region checks to
    the first AWS call, stdout, stderr). Nothing reaches AWS or terraform."""
    with tempfile.TemporaryDirectory() as tmp:
        stub = Path(tmp) / "aws"
        stub.write_text("#!/bin/sh\necho mhp-env-reached-aws >&2\nexit 7\n")
        stub.chmod(0o755)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MHP_", "TF_", "AWS_"))}
        env["PATH"] = f"{tmp}:{env.get('PATH', '/usr/bin:/bin')}"
        if recovery_of:
            env["MHP_RECOVERY_OF"] = recovery_of
        p = subprocess.run(["bash", str(root / "deploy/bin/mhp-env"), *args], env=env,
                           capture_output=True, text=True, timeout=60)
        return "mhp-env-reached-aws" in p.stderr, p.stdout.strip(), p.stderr.strip()


def mhp_env_behaviour(root, want, errors):
    """What mhp-env accepts, run: every region of the map as an environment's region, every
    recovery region as a recovery environment's, nothing else."""
    production, recovery = set(want), set(want.values())
    for region in sorted(production | recovery | {"eu-west-1"}):
        for recovery_of in (None, "prod-x"):
            ok = region in (recovery if recovery_of else production)
            reached, _, err = run_mhp_env(root, ["plan", "dr-x", region, "--production"], recovery_of)
            if reached != ok:
                what = f"MHP_RECOVERY_OF={recovery_of} mhp-env plan dr-x {region}" if recovery_of \
                    else f"mhp-env plan dr-x {region}"
                errors.append(f"deploy/bin/mhp-env: `{what}` {'is refused' if ok else 'is accepted'}"
                              f" ({'a recovery environment' if recovery_of else 'an environment'} "
                              f"{'must be' if ok else 'cannot be'} made there; stderr: {err[-200:]!r})")
    for region, copy in sorted(want.items()):
        _, out, err = run_mhp_env(root, ["recovery-region", region], None)
        if out != copy:
            errors.append(f"deploy/bin/mhp-env: `recovery-region {region}` prints {out!r} "
                          f"({err[-200:]!r}), the map says {copy}")


INVERSION = r"\bsource_region\s*=\s*\{\s*for\s+(\w+)\s*,\s*(\w+)\s+in\s+local\.copy_region\s*:\s*\2\s*=>\s*\1\s*\}"


def providers(path):
    """(region of the default provider, region of the `copy` provider) of a root."""
    text = path.read_text()
    default = copy = None
    for m in re.finditer(r'^provider\s+"aws"\s*\{', text, re.M):
        body = block(text[m.start():], r'provider\s+"aws"') or ""
        region = re.search(r'^\s*region\s*=\s*"(%s)"' % REGION, body, re.M)
        alias = re.search(r'^\s*alias\s*=\s*"([^"]+)"', body, re.M)
        if alias is None and region:
            default = region.group(1)
        elif alias and alias.group(1) == "copy" and region:
            copy = region.group(1)
    return default, copy


def readme_environments(root):
    """environment -> (region, recovery region) from deploy/README.md's Environments table."""
    text = (root / "deploy/README.md").read_text()
    section = re.search(r"^## Environments\n(.*?)^## ", text, re.M | re.S)
    rows = {}
    for line in (section.group(1) if section else "").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4:
            continue
        env = re.fullmatch(r"`([a-z0-9-]+)`", cells[0])
        region, copy = re.search(REGION, cells[1]), re.search(REGION, cells[3])
        if env and region and copy:
            rows[env.group(1)] = (region.group(0), copy.group(0))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=str(Path(__file__).resolve().parents[2]))
    root = Path(ap.parse_args().root)
    tf = root / "deploy/terraform"
    errors = []

    script, named, accepted = mhp_env(root, errors)
    sources = {
        "deploy/bin/mhp-env recovery_region()": script,
        "deploy/bin/mhp-env usage (a -> b)": named,
        "templates/demo/providers.tf copy_region": hcl_map(
            (tf / "templates/demo/providers.tf").read_text(), "copy_region",
            "templates/demo/providers.tf", errors),
        "bootstrap/main.tf copy_region": hcl_map(
            (tf / "bootstrap/main.tf").read_text(), "copy_region", "bootstrap/main.tf", errors),
    }
    # The map every other place is compared with: mhp-env's (what operators run).
    want = script
    for name, got in sources.items():
        if got != want:
            missing = {k: v for k, v in want.items() if got.get(k) != v}
            extra = {k: v for k, v in got.items() if want.get(k) != v}
            errors.append(f"{name} maps {dict(sorted(got.items()))}, mhp-env recovery_region() "
                          f"{dict(sorted(want.items()))} (differs: {missing or '-'} vs {extra or '-'})")

    # The regions each place accepts are the map's regions.
    if accepted != set(want):
        errors.append(f"deploy/bin/mhp-env: recovery_region() refuses all but {sorted(accepted)}, "
                      f"its map has {sorted(want)}")
    variables = (tf / "templates/demo/variables.tf").read_text()
    region_var = block(variables, r'variable\s+"region"') or ""
    condition = re.search(r"condition\s*=\s*var\.recovery_of\s*==\s*null\s*\?\s*contains\(\[([^\]]*)\]"
                          r"\s*,\s*var\.region\s*\)\s*:\s*contains\(\[([^\]]*)\]\s*,\s*var\.region\s*\)",
                          region_var)
    allowed = set(re.findall(REGION, condition.group(1))) if condition else set()
    recovery_allowed = set(re.findall(REGION, condition.group(2))) if condition else set()
    if not condition:
        errors.append("templates/demo/variables.tf: variable region's condition is not `var.recovery_of "
                      "== null ? contains([REGIONS], var.region) : contains([RECOVERY REGIONS], var.region)`")
    elif allowed != set(want):
        errors.append(f"templates/demo/variables.tf: variable region accepts {sorted(allowed)}, "
                      f"the map has {sorted(want)}")

    # A recovery environment: in every recovery region, copying back to its source's region.
    inverse = {v: k for k, v in want.items()}
    if len(inverse) != len(want):
        errors.append(f"the map {dict(sorted(want.items()))} is not one to one: a recovery "
                      "environment's source region (the map inverted) would be ambiguous")
    if condition and recovery_allowed != set(inverse):
        errors.append(f"templates/demo/variables.tf: variable region accepts with recovery_of "
                      f"{sorted(recovery_allowed)}, the recovery regions are {sorted(inverse)}: a "
                      "recovery environment must be creatable in the recovery region of every region")
    text = (root / "deploy/bin/mhp-env").read_text()
    source, source_accepted = shell_case(text, "source_region", "deploy/bin/mhp-env", errors)
    if source != inverse:
        errors.append(f"deploy/bin/mhp-env source_region() maps {dict(sorted(source.items()))}, "
                      f"the map inverted is {dict(sorted(inverse.items()))}")
    if source_accepted != set(inverse):
        errors.append(f"deploy/bin/mhp-env: source_region() refuses all but {sorted(source_accepted)}, "
                      f"the recovery regions are {sorted(inverse)}")
    for where in ("templates/demo/providers.tf", "bootstrap/main.tf"):
        if not re.search(INVERSION, (tf / where).read_text()):
            errors.append(f"{where}: no `source_region = {{ for region, recovery in "
                          "local.copy_region : recovery => region }` (the map inverted)")
    demo_providers = (tf / "templates/demo/providers.tf").read_text()
    if not re.search(r"\bbackup_copy_region\s*=\s*var\.recovery_of\s*==\s*null\s*\?\s*"
                     r"local\.copy_region\[var\.region\]\s*:\s*local\.source_region\[var\.region\]",
                     demo_providers):
        errors.append("templates/demo/providers.tf: no `backup_copy_region = var.recovery_of == null ? "
                      "local.copy_region[var.region] : local.source_region[var.region]`")
    copy_provider = re.search(r'provider\s+"aws"\s*\{[^}]*alias\s*=\s*"copy"[^}]*?region\s*=\s*([^\n#]+)',
                              demo_providers)
    if not copy_provider or copy_provider.group(1).strip() != "local.backup_copy_region":
        errors.append("templates/demo/providers.tf: the `copy` provider's region is not "
                      "local.backup_copy_region")
    mhp_env_behaviour(root, want, errors)

    # Every root's own pair.
    table = readme_environments(root)
    roots = sorted(d for d in (tf / "envs").iterdir() if (d / "providers.tf").is_file())
    if not roots:
        errors.append("deploy/terraform/envs: no root with a providers.tf")
    for d in roots:
        env = d.name
        region, copy = providers(d / "providers.tf")
        where = f"envs/{env}/providers.tf"
        main = (d / "main.tf").read_text() if (d / "main.tf").is_file() else ""
        production = env.startswith("prod") or re.search(r'^\s*flavour\s*=\s*"production"', main, re.M)
        if region is None or copy is None:
            errors.append(f"{where}: needs a default aws provider with a literal region and a "
                          "`copy` provider with a literal region")
            continue
        if region in want:
            if copy != want[region]:
                errors.append(f"{where}: {region} copies to {copy}, the map says {want[region]}")
        elif production:
            errors.append(f"{where}: production region {region} is not in the map (mhp-env "
                          "recovery_region, templates/demo, bootstrap)")
        if table.get(env) != (region, copy):
            errors.append(f"deploy/README.md Environments: {env} is {table.get(env)} "
                          f"(region, recovery region), {where} says {(region, copy)}")
        else:
            print(f"{env}: {region} -> {copy}")

    for e in errors:
        print("FAIL " + e)
    if not errors:
        print(f"recovery regions: {dict(sorted(want.items()))} in mhp-env, templates/demo, "
              f"bootstrap, the {len(roots)} roots and deploy/README.md; recovery environments in "
              f"{sorted(set(want.values()))}, copying back to their source's region")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
