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

    deploy/terraform/check_recovery_regions.py [--root DIR]   (DIR: the repository, default ../..)

Python 3 standard library only.
"""

import argparse
import re
import sys
from pathlib import Path

REGION = r"[a-z]{2}(?:-gov)?-[a-z]+-[0-9]"


def block(text, header):
    """The body of the first HCL block whose opening matches `header` (a regex), or None."""
    m = re.search(header + r"\s*\{", text)
    if not m:
        return None
    depth, i = 1, m.end()
    while i < len(text) and depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[m.end():i - 1]


def hcl_map(text, name, where, errors):
    body = block(text, r"\b%s\s*=" % re.escape(name))
    if body is None:
        errors.append(f"{where}: no `{name} = {{...}}` found")
        return {}
    pairs = re.findall(r'"(%s)"\s*=\s*"(%s)"' % (REGION, REGION), body)
    if not pairs:
        errors.append(f"{where}: `{name}` maps no region")
    return dict(pairs)


def mhp_env(root, errors):
    path = root / "deploy/bin/mhp-env"
    text = path.read_text()
    fn = re.search(r"^recovery_region\(\)\s*\{(.*?)^\}", text, re.M | re.S)
    if not fn:
        errors.append(f"{path.relative_to(root)}: no recovery_region() function")
        return {}, {}, set()
    arms = dict(re.findall(r"^\s*(%s)\)\s*echo\s+(%s)\s*;;" % (REGION, REGION), fn.group(1), re.M))
    if not arms:
        errors.append(f"{path.relative_to(root)}: recovery_region() maps no region")
    refused = re.search(r"^\s*\*\).*?must be ([^\"]*)\"", fn.group(1), re.M)
    accepted = set(re.findall(REGION, refused.group(1))) if refused else set()
    usage = " ".join(line.lstrip("#").strip() for line in text.splitlines()
                     if line.startswith("#") and not line.startswith("#!"))
    named = dict(re.findall(r"(%s)\s*->\s*(%s)" % (REGION, REGION), usage))
    return arms, named, accepted


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
    condition = re.search(r"condition\s*=\s*contains\(\[([^\]]*)\]", region_var)
    allowed = set(re.findall(REGION, condition.group(1))) if condition else set()
    if allowed != set(want):
        errors.append(f"templates/demo/variables.tf: variable region accepts {sorted(allowed)}, "
                      f"the map has {sorted(want)}")

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
              f"bootstrap, the {len(roots)} roots and deploy/README.md")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
