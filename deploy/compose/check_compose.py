#!/usr/bin/env python3
"""Static policy checks of deploy/compose/compose.yaml (no engine needed), beyond the compose
specification's JSON schema (checked by check-jsonschema in scripts/check-deploy.sh):

- the production shape is there: two mhp serve instances, a proxy in front of both, a worker,
  PostgreSQL, OpenSearch and an OIDC provider;
- every MHP container runs as 10001:10001 with a read-only root, no capabilities,
  no-new-privileges, and the binary's own health check;
- no container is privileged or uses the host network; published ports bind to 127.0.0.1;
- images carry an explicit tag (never latest);
- secrets come from the environment (${VAR:?...}), each listed in .env.example;
- files mounted from the repository exist.
"""

import os
import re
import sys

import yaml  # PyYAML, installed with checkov


def main(path):
    base = os.path.dirname(os.path.abspath(path))
    text = open(path).read()
    doc = yaml.safe_load(text)
    services = doc["services"]
    errors = []

    def err(msg):
        errors.append(msg)

    for name in ("mhp-1", "mhp-2", "worker", "proxy", "postgres", "opensearch", "dex"):
        if name not in services:
            err(f"service {name} missing")

    mhp = [n for n, s in services.items() if s.get("image") == "mhp:local"]
    if sorted(mhp) != ["mhp-1", "mhp-2", "worker"]:
        err(f"MHP services are {mhp}")
    serving = [n for n in mhp if not services[n].get("command") and not services[n].get("profiles")]
    if len(serving) < 2:
        err("at least two mhp serve instances")
    nginx = open(os.path.join(base, "nginx.conf")).read()
    for n in serving:
        if f"server {n}:8080" not in nginx:
            err(f"the proxy does not balance over {n}")

    for n in mhp:
        s = services[n]
        if s.get("user") != "10001:10001":
            err(f"{n}: user must be 10001:10001")
        if s.get("read_only") is not True:
            err(f"{n}: read_only root file system")
        if s.get("cap_drop") != ["ALL"] or s.get("cap_add"):
            err(f"{n}: drop every capability")
        if n in serving and s.get("healthcheck", {}).get("test") != ["CMD", "/usr/local/bin/mhp", "healthcheck"]:
            err(f"{n}: health check must be `mhp healthcheck`")
        env = s.get("environment", {})
        if env.get("MHP_LISTEN") != "0.0.0.0:8080":
            err(f"{n}: MHP_LISTEN")
        if "mhp_app:" not in env.get("DATABASE_URL", ""):
            err(f"{n}: the app must connect as mhp_app (NOSUPERUSER NOBYPASSRLS)")

    for n, s in services.items():
        if "no-new-privileges:true" not in s.get("security_opt", []):
            err(f"{n}: security_opt no-new-privileges:true")
        if s.get("privileged") or s.get("network_mode") == "host" or s.get("pid") == "host":
            err(f"{n}: privileged, host network or host pid")
        for p in s.get("ports", []):
            if not str(p).startswith("127.0.0.1:"):
                err(f"{n}: port {p} must bind to 127.0.0.1")
        img = s.get("image", "")
        if img != "mhp:local" and (":" not in img.split("/")[-1] or img.endswith(":latest")):
            err(f"{n}: image {img} needs an explicit tag")
        for v in s.get("volumes", []):
            src = v.split(":", 1)[0]
            if src.startswith("./") and not os.path.exists(os.path.join(base, src)) and src != "./certs":
                err(f"{n}: mounted file {src} missing")

    init = open(os.path.join(base, "postgres-init", "01-mhp-app-role.sh")).read()
    if "NOSUPERUSER NOBYPASSRLS" not in init:
        err("postgres-init must create mhp_app NOSUPERUSER NOBYPASSRLS")

    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    example = set(re.findall(r"^([A-Z0-9_]+)=", open(os.path.join(base, ".env.example")).read(), re.M))
    if required - example:
        err(f".env.example lacks {sorted(required - example)}")
    if re.search(r"^\s+[A-Z_]*(PASSWORD|SECRET|TOKEN)[A-Z_]*:\s+[^$\s{]", text, re.M):
        err("a password or secret is written in compose.yaml instead of ${VAR:?...}")

    for e in errors:
        print(f"compose: {e}")
    print(f"compose: {len(services)} services checked, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
