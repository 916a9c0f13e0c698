#!/usr/bin/env python3
"""One CPU architecture from the image to the hosts (scripts/check-deploy.sh, check `architecture`).

The image is built for one architecture (scripts/build-image.sh `--architecture amd64`); the
ECS hosts must boot the ECS-optimized AMI of that architecture on an instance type of that
architecture, and the Fargate workers must ask for it. A mock provider sees none of this: an
arm64 (Graviton) host with an amd64 image plans fine and fails only when the tasks start.

Checks, without Terraform (python3 standard library only):
  - scripts/build-image.sh names exactly one --architecture;
  - every image build in .github/workflows (`docker build`, `docker buildx build`, `docker image
    build`, `podman build`, `buildah bud|build`, the docker/build-push-action) names exactly that
    platform (`--platform linux/amd64`, `platforms: linux/amd64`): without one, buildx builds
    for the runner's architecture, and an arm64 runner would release an arm64 image; and at
    least one workflow builds the image (release.yml);
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


BUILD_COMMAND = re.compile(
    r"\b(docker\s+(?:buildx\s+|image\s+)?build|podman\s+(?:image\s+)?build|buildah\s+(?:bud|build)"
    r"|docker\s+buildx\s+bake)\b")
PLATFORM_FLAG = re.compile(r"--platform(?:=|\s+)(\S+)")
BUILD_ACTION = re.compile(r"^\s*(?:-\s+)?uses:\s*['\"]?docker/build-push-action@", re.M)


def platforms_of(value):
    return [p.strip() for p in value.strip().strip("'\"").split(",") if p.strip()]


def indent_of(line):
    return len(line) - len(line.lstrip())


def step_lines(lines, at):
    """The lines of the workflow step (a `- ` list item) that holds line `at`."""
    start = at
    while start >= 0 and not (lines[start].lstrip().startswith("- ")
                              and indent_of(lines[start]) < indent_of(lines[at]) + (
                                  2 if lines[at].lstrip().startswith("- ") else 0)):
        start -= 1
    if start < 0:
        return [lines[at]]
    dash = indent_of(lines[start])
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or indent_of(lines[end]) > dash):
        end += 1
    return lines[start:end]


def workflow_builds(root):
    """(where, what, [platforms]) of every image build in the workflows, and the count of calls
    of scripts/build-image.sh (which the --architecture check covers)."""
    builds, script_calls = [], 0
    for wf in sorted((root / ".github/workflows").glob("*.y*ml")):
        text = wf.read_text()
        rel = wf.relative_to(root)
        lines = text.splitlines()
        # Shell commands: continuation lines joined, comments dropped.
        i = 0
        while i < len(lines):
            start, cmd = i + 1, lines[i]
            while cmd.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd = cmd.rstrip()[:-1] + " " + lines[i].strip()
            i += 1
            code = cmd.split(" #", 1)[0]
            if code.lstrip().startswith("#"):
                continue
            if "scripts/build-image.sh" in code:
                script_calls += 1
            m = BUILD_COMMAND.search(code)
            if m:
                found = [p for v in PLATFORM_FLAG.findall(code[m.end():]) for p in platforms_of(v)]
                builds.append((f"{rel}:{start}", m.group(1), found))
        # The build-push action: its `platforms` input, in the step's own lines.
        for m in BUILD_ACTION.finditer(text):
            at = text.count("\n", 0, m.start())
            found = [p for line in step_lines(lines, at)
                     for v in re.findall(r"^\s*-?\s*platforms:\s*(.+)$", line) for p in platforms_of(v)]
            builds.append((f"{rel}:{at + 1}", "docker/build-push-action", found))
    return builds, script_calls


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

    # The images the workflows build (the release): the same platform, said explicitly.
    platform = f"linux/{archs[0]}"
    builds, script_calls = workflow_builds(root)
    if not builds and not script_calls:
        errors.append(".github/workflows: no image build found (release.yml builds the image): "
                      "this check no longer sees it")
    for where, what, found in builds:
        if found != [platform]:
            errors.append(f"{where}: `{what}` builds for {found or 'the runner architecture (no --platform)'}; "
                          f"the image must be built for {platform} only "
                          f"(--platform {platform}; the build-push action: platforms: {platform})")
        else:
            print(f"workflow {where}: {what} --platform {platform}")

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
