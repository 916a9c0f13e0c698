#!/usr/bin/env python3
"""Checks that the Prometheus rules and the Grafana dashboard use only what MHP exports.

The exporter's code is the truth (crates/server/src/metrics.rs and crates/app/src/metrics.rs): every `# TYPE mhp_… kind` it
writes (a histogram also as _bucket, _count and _sum), the names it gives its `counter`, `gauge` and `series` helpers,
and the bucket bounds of its histograms. Every mhp_* and process_* name in deploy/prometheus/mhp-rules.yml and in the dashboard's queries
must be one of them, every le="…" one of the bounds, and every mhp:* name a recording of the
rules. Exit 1 naming what is unknown.

    python3 deploy/prometheus/check_metrics.py
"""
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXPORTERS = [ROOT / "crates/server/src/metrics.rs", ROOT / "crates/app/src/metrics.rs"]
RULES = ROOT / "deploy/prometheus/mhp-rules.yml"
DASHBOARD = ROOT / "deploy/grafana/mhp-dashboard.json"


def exported():
    code = "\n".join(e.read_text() for e in EXPORTERS)
    names = set()
    for name, kind in re.findall(r"# TYPE ((?:mhp|process)_[a-z0-9_]+) ([a-z]+)", code):
        names.add(name)
        if kind == "histogram":
            names.update({name + "_bucket", name + "_count", name + "_sum"})
    # Series written through the exporter's `counter`, `gauge` and `series` helpers.
    names.update(re.findall(r'(?:counter|gauge|series)\(\s*out,\s*"((?:mhp|process)_[a-z0-9_]+)"', code))
    bounds = re.findall(r"const [A-Z_]*BUCKETS: \[f64; \d+\] = \[([^\]]*)\]", code)
    if not bounds:
        sys.exit("check_metrics: the exporter's BUCKETS were not found")
    les = {float(b) for group in bounds for b in group.replace("\n", " ").split(",") if b.strip()}
    return names, les


def exprs_of_rules(text):
    """The rules' expressions and the names they record (a small reader: the file is ours)."""
    records = set(re.findall(r"^\s*- record: (\S+)", text, re.M))
    return text, records


def check(source, text, names, les, records):
    problems = []
    for name in sorted(set(re.findall(r"\b(?:mhp|process)_[a-z0-9_]+", text))):
        if name not in names:
            problems.append(f"{source}: {name} is not exported")
    for le in sorted(set(re.findall(r'le="([0-9.]+)"', text))):
        if float(le) not in les:
            problems.append(f"{source}: le=\"{le}\" is not a bucket bound of the exporter")
    for name in sorted(set(re.findall(r"\bmhp:[a-z0-9_]+[a-z0-9_:]*", text))):
        if name not in records:
            problems.append(f"{source}: {name} is not recorded by mhp-rules.yml")
    return problems


def main():
    names, les = exported()
    rules_text, records = exprs_of_rules(RULES.read_text())
    dash = json.loads(DASHBOARD.read_text())
    queries = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    if not queries:
        sys.exit("check_metrics: the dashboard has no query")
    problems = check("mhp-rules.yml", rules_text, names, les, records)
    problems += check("mhp-dashboard.json", "\n".join(queries), names, les, records)
    unused = sorted(n for n in names if not n.endswith(("_bucket", "_count", "_sum"))
                    and n not in rules_text and not any(n in q for q in queries))
    for p in problems:
        print(p)
    print(f"check_metrics: {len(queries)} dashboard queries and {len(records)} recordings over "
          f"{len(names)} exported series; not shown anywhere: {', '.join(unused) or 'none'}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
