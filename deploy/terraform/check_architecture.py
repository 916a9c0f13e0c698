#!/usr/bin/env python3
"""One CPU architecture from the image to the hosts (scripts/check-deploy.sh, check `architecture`).

The image is built for one architecture (scripts/build-image.sh `--architecture amd64`); the
ECS hosts must boot the ECS-optimized AMI of that architecture on an instance type of that
architecture, and the Fargate workers must ask for it. A mock provider sees none of this: an
arm64 (Graviton) host with an amd64 image plans fine and fails only when the tasks start.

Checks, without Terraform (python3 standard library only):
  - scripts/build-image.sh names exactly one --architecture;
  - modules/ecs-app: the default `architecture` is that one, and the default `instance_type` is
    of that architecture;
  - modules/ecs-pipelines: the default `cpu_architecture` is that one (X86_64 / ARM64);
  - modules/platform: every flavour's `ec2_arch` is that one and its `ec2_type` of that
    architecture, and the flavour's `ec2_arch` is what module "app" (architecture) and module
    "pipelines" (cpu_architecture) are given.

Graviton (arm64) instance families have a "g" right after the generation digit (m7g, c6gn,
r7gd, t4g, x2gd, im4gn); a1 is the first Graviton. Everything else is x86_64.

    deploy/terraform/check_architecture.py [--root DIR]   (DIR: the repository, default ../..)
"""

import argparse
import re
import sys
from pathlib import Path

# The image's name of an architecture (OCI / Go) -> EC2's.
IMAGE_TO_EC2 = {"amd64": "x86_64", "arm64": "arm64"}
GRAVITON = re.compile(r"^([a-z]+[0-9]+g[a-z0-9-]*|a1)\.")


def instance_arch(instance_type):
    return "arm64" if GRAVITON.match(instance_type) else "x86_64"


def block(text, header):
    """The body of the first HCL block whose opening line matches `header` (a regex), or None."""
    m = re.search(header + r"\s*\{", text)
    if not m:
        return None
    depth, i = 1, m.end()
    while i < len(text) and depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[m.end() : i - 1]


def default_of(variables_tf, name):
    body = block(variables_tf, r'variable\s+"%s"' % re.escape(name))
    if body is None:
        return None
    m = re.search(r'^\s*default\s*=\s*"([^"]*)"', body, re.M)
    return m.group(1) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=str(Path(__file__).resolve().parents[2]))
    root = Path(ap.parse_args().root)
    modules = root / "deploy/terraform/modules"
    errors = []

    # The image.
    build = (root / "scripts/build-image.sh").read_text()
    archs = sorted(set(re.findall(r"--architecture[= ]+([A-Za-z0-9_]+)", build)))
    if len(archs) != 1:
        print(f"scripts/build-image.sh: expected one --architecture, found {archs or 'none'}")
        return 1
    if archs[0] not in IMAGE_TO_EC2:
        print(f"scripts/build-image.sh: unknown --architecture {archs[0]} (known: {', '.join(IMAGE_TO_EC2)})")
        return 1
    want = IMAGE_TO_EC2[archs[0]]
    print(f"image: --architecture {archs[0]} -> hosts and workers must be {want}")

    # modules/ecs-app defaults.
    app_vars = (modules / "ecs-app/variables.tf").read_text()
    arch = default_of(app_vars, "architecture")
    if arch != want:
        errors.append(f"modules/ecs-app: variable architecture defaults to {arch!r}, the image is {want}")
    itype = default_of(app_vars, "instance_type")
    if itype is None or instance_arch(itype) != want:
        errors.append(f"modules/ecs-app: variable instance_type defaults to {itype!r} ({itype and instance_arch(itype)}), the image is {want}")

    # modules/ecs-pipelines default.
    cpu = default_of((modules / "ecs-pipelines/variables.tf").read_text(), "cpu_architecture")
    if cpu is None or cpu.lower() != want:
        errors.append(f"modules/ecs-pipelines: variable cpu_architecture defaults to {cpu!r}, the image is {want.upper()}")

    # modules/platform: every flavour, and what it hands to the app and the pipelines.
    platform = (modules / "platform/main.tf").read_text()
    sizes = block(platform, r"\bsizes\s*=\s*merge\(")
    if sizes is None:
        errors.append("modules/platform: no `sizes = merge({...` local found")
    else:
        flavours = re.findall(r"^\s*([a-z-]+)\s*=\s*\{(.*?)^\s*\}", sizes, re.M | re.S)
        if not flavours:
            errors.append("modules/platform: no flavour found in the sizes local")
        for name, body in flavours:
            a = re.search(r'\bec2_arch\s*=\s*"([^"]*)"', body)
            t = re.search(r'\bec2_type\s*=\s*"([^"]*)"', body)
            if not a or not t:
                errors.append(f"modules/platform: flavour {name} lacks ec2_arch or ec2_type")
                continue
            if a.group(1) != want:
                errors.append(f"modules/platform: flavour {name} has ec2_arch {a.group(1)!r}, the image is {want}")
            if instance_arch(t.group(1)) != a.group(1):
                errors.append(f"modules/platform: flavour {name} runs {t.group(1)} ({instance_arch(t.group(1))}) with ec2_arch {a.group(1)}")
            else:
                print(f"platform {name}: {t.group(1)} is {a.group(1)}")
    app = block(platform, r'module\s+"app"') or ""
    if not re.search(r"^\s*architecture\s*=\s*local\.sizes\.ec2_arch\b", app, re.M):
        errors.append('modules/platform: module "app" must be given architecture = local.sizes.ec2_arch')
    pipelines = block(platform, r'module\s+"pipelines"') or ""
    if not re.search(r"^\s*cpu_architecture\s*=\s*upper\(local\.sizes\.ec2_arch\)", pipelines, re.M):
        errors.append('modules/platform: module "pipelines" must be given cpu_architecture = upper(local.sizes.ec2_arch)')

    for e in errors:
        print("FAIL " + e)
    if not errors:
        print("architecture: image, AMI, instance types and Fargate workers agree")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
