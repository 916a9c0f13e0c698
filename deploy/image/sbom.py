#!/usr/bin/env python3
"""CycloneDX 1.5 SBOM of the MHP image, without network or extra cargo plugins.

Components:
  - the Rust crates compiled into `mhp` (mhp-cli's normal dependencies for the target platform,
    from `cargo metadata`, with the SHA-256 checksums of Cargo.lock);
  - the Debian packages whose files the image's root file system holds (glibc, libgcc, CA
    certificates), found with `dpkg -S` on the build host.

Usage: sbom.py --rootfs DIR --out FILE [--manifest-path Cargo.toml] [--target TRIPLE]
       [--image-name NAME --image-digest sha256:...]

Chosen over `cargo cyclonedx` because it needs no compile of a cargo plugin (minutes on two
cores) and because it also lists the non-Rust files the image carries.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import tomllib
import uuid


def cargo_components(manifest_path, target, root_package):
    cmd = ["cargo", "metadata", "--format-version", "1", "--locked",
           "--manifest-path", manifest_path, "--filter-platform", target]
    # Offline first (the release build has fetched every source); online if the cache is cold.
    r = subprocess.run(cmd + ["--offline"], capture_output=True, text=True)
    if r.returncode != 0:
        r = subprocess.run(cmd, capture_output=True, text=True, check=True)
    meta = json.loads(r.stdout)
    lock_path = os.path.join(os.path.dirname(os.path.abspath(manifest_path)), "Cargo.lock")
    with open(lock_path, "rb") as f:
        lock = tomllib.load(f)
    checksums = {(p["name"], p["version"]): p.get("checksum") for p in lock.get("package", [])}

    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = next(pid for pid, p in packages.items() if p["name"] == root_package)

    # Walk normal (non-dev, non-build) dependency edges from the binary's package.
    seen, stack, edges = set(), [root], {}
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        deps = []
        for d in nodes[pid]["deps"]:
            if any(k["kind"] is None for k in d["dep_kinds"]):
                deps.append(d["pkg"])
                stack.append(d["pkg"])
        edges[pid] = sorted(set(deps))

    def ref(pid):
        p = packages[pid]
        return f"pkg:cargo/{p['name']}@{p['version']}"

    components = []
    for pid in sorted(seen - {root}, key=lambda i: (packages[i]["name"], packages[i]["version"])):
        p = packages[pid]
        c = {
            "type": "library",
            "bom-ref": ref(pid),
            "name": p["name"],
            "version": p["version"],
            "purl": ref(pid),
            "scope": "required",
        }
        if p.get("license"):
            c["licenses"] = [{"expression": p["license"]}]
        if p.get("description"):
            c["description"] = " ".join(p["description"].split())
        sha = checksums.get((p["name"], p["version"]))
        if sha:
            c["hashes"] = [{"alg": "SHA-256", "content": sha}]
        if p.get("repository"):
            c["externalReferences"] = [{"type": "vcs", "url": p["repository"]}]
        if p.get("source") is None:
            c["properties"] = [{"name": "cdx:cargo:workspace-member", "value": "true"}]
        components.append(c)
    dependencies = [{"ref": ref(pid), "dependsOn": [ref(d) for d in edges[pid]]} for pid in sorted(edges)]
    return packages[root], ref(root), components, dependencies


def os_id(rootfs):
    for path in (os.path.join(rootfs, "etc/os-release"), os.path.join(rootfs, "usr/lib/os-release"), "/etc/os-release"):
        if os.path.exists(path):
            for line in open(path):
                if line.startswith("ID="):
                    return line.split("=", 1)[1].strip().strip('"')
    return "debian"


def status_d_components(rootfs, distro):
    """Packages recorded in the image itself (distroless keeps var/lib/dpkg/status.d/)."""
    comps = []
    d = os.path.join(rootfs, "var/lib/dpkg/status.d")
    for name in sorted(os.listdir(d)):
        if name.endswith(".md5sums"):
            continue
        fields = {}
        for line in open(os.path.join(d, name), errors="replace"):
            if ":" in line and not line.startswith(" "):
                k, v = line.split(":", 1)
                fields[k.strip()] = v.strip()
        if "Package" in fields and "Version" in fields:
            purl = f"pkg:deb/{distro}/{fields['Package']}@{fields['Version']}?arch={fields.get('Architecture', 'all')}"
            comps.append({"type": "library", "bom-ref": purl, "name": fields["Package"],
                          "version": fields["Version"], "purl": purl})
    return comps


def deb_components(rootfs):
    """Debian packages owning the files copied into the root file system (engine-less build:
    the files come from the build host, so the host's dpkg database knows them)."""
    distro = os_id(rootfs)
    if os.path.isdir(os.path.join(rootfs, "var/lib/dpkg/status.d")):
        return status_d_components(rootfs, distro)
    owners = {}
    for dirpath, _, files in os.walk(rootfs):
        for name in files:
            path = os.path.join(dirpath, name)
            rel = "/" + os.path.relpath(path, rootfs)
            if rel.startswith("/usr/local/") or rel.startswith("/etc/passwd") or rel.startswith("/etc/group"):
                continue
            if rel == "/etc/ssl/certs/ca-certificates.crt":
                # Generated by update-ca-certificates from the ca-certificates package.
                owners.setdefault("ca-certificates", set()).add(rel)
                continue
            for candidate in (rel, os.path.realpath(rel)):
                r = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
                if r.returncode == 0:
                    pkg = r.stdout.split(":", 1)[0].strip()
                    owners.setdefault(pkg, set()).add(rel)
                    break
    comps = []
    for pkg in sorted(owners):
        q = subprocess.run(["dpkg-query", "-W", "-f", "${Version}\t${Architecture}", pkg],
                           capture_output=True, text=True, check=True).stdout.split("\t")
        version, arch = q[0], q[1]
        purl = f"pkg:deb/{distro}/{pkg}@{version}?arch={arch}"
        comps.append({
            "type": "library" if pkg != "ca-certificates" else "data",
            "bom-ref": purl,
            "name": pkg,
            "version": version,
            "purl": purl,
            "properties": [{"name": "mhp:image:path", "value": p} for p in sorted(owners[pkg])],
        })
    return comps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rootfs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--manifest-path", default="Cargo.toml")
    ap.add_argument("--target", default="x86_64-unknown-linux-gnu")
    ap.add_argument("--package", default="mhp-cli")
    ap.add_argument("--image-name", default="mhp")
    ap.add_argument("--image-digest")
    args = ap.parse_args()

    root_pkg, root_ref, crates, deps = cargo_components(args.manifest_path, args.target, args.package)
    debs = deb_components(args.rootfs)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch
           else datetime.datetime.now(datetime.timezone.utc))

    main_component = {
        "type": "container",
        "bom-ref": "mhp-image",
        "name": args.image_name,
        "version": root_pkg["version"],
        "components": [{
            "type": "application",
            "bom-ref": root_ref,
            "name": "mhp",
            "version": root_pkg["version"],
            "purl": root_ref,
            "licenses": [{"expression": root_pkg.get("license") or "NOASSERTION"}],
        }],
    }
    if args.image_digest:
        main_component["hashes"] = [{"alg": "SHA-256", "content": args.image_digest.removeprefix("sha256:")}]

    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tools": {"components": [{"type": "application", "name": "mhp deploy/image/sbom.py"}]},
            "component": main_component,
        },
        "components": crates + debs,
        "dependencies": [{"ref": "mhp-image", "dependsOn": [root_ref] + [d["bom-ref"] for d in debs]}] + deps,
    }
    with open(args.out, "w") as f:
        json.dump(bom, f, indent=1, sort_keys=False)
        f.write("\n")
    print(f"sbom: {len(crates)} crates, {len(debs)} Debian packages -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
