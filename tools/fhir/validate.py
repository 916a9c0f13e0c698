"""Validates MHP's FHIR exports with fhir.resources (FHIR R4B models, independent of MHP).

    validate.py BUNDLE.json [BUNDLE.json ...]

Each file is one export of the same subject. Checks, each failure printed and counted:
- the Bundle and every resource in it parse as FHIR R4B (element names, types, cardinalities;
  fhir.resources does not check value sets);
- body weight follows the vital-signs profile: meta.profile names the bodyweight profile, the
  category is vital-signs, the code LOINC 29463-7, the value a UCUM kg quantity;
- MHP's own code systems are https canonical URLs (HL7's and LOINC's are theirs);
- Observation ids and full URLs are the same in every export (another system can update in place).
A file holding an OperationOutcome (an error answer) is validated as one instead: it parses as
FHIR R4B, and every issue's code is of FHIR's IssueType value set (which fhir.resources does not
check) and its details' code systems are https canonical URLs.
Exits 0 when everything holds, 1 otherwise.
"""

import json
import sys

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

BODYWEIGHT = "http://hl7.org/fhir/StructureDefinition/bodyweight"
EXTERNAL = ("http://loinc.org", "http://unitsofmeasure.org", "http://terminology.hl7.org/")


def check(path, problems):
    text = open(path, encoding="utf-8").read()
    Bundle.model_validate_json(text)
    data = json.loads(text)
    observations = {}
    for entry in data.get("entry", []):
        resource = entry["resource"]
        kind = resource["resourceType"]
        get_fhir_model_class(kind).model_validate(resource)
        if kind != "Observation":
            continue
        observations[resource["id"]] = entry["fullUrl"]
        for coding in resource["code"]["coding"] + [
            c for cat in resource.get("category", []) for c in cat["coding"]
        ]:
            system = coding["system"]
            if not system.startswith(EXTERNAL) and not system.startswith("https://"):
                problems.append(f"{path}: code system {system} is not an https canonical URL")
        codes = {(c["system"], c["code"]) for c in resource["code"]["coding"]}
        if ("http://loinc.org", "29463-7") in codes:
            profiles = resource.get("meta", {}).get("profile", [])
            categories = {c["code"] for cat in resource.get("category", []) for c in cat["coding"]}
            quantity = resource.get("valueQuantity", {})
            if BODYWEIGHT not in profiles:
                problems.append(f"{path}: body weight without the bodyweight profile")
            if "vital-signs" not in categories:
                problems.append(f"{path}: body weight not in the vital-signs category")
            if (quantity.get("system"), quantity.get("code")) != ("http://unitsofmeasure.org", "kg"):
                problems.append(f"{path}: body weight not a UCUM kg quantity: {quantity}")
    if not observations:
        problems.append(f"{path}: no Observation")
    return observations


# FHIR R4's IssueType value set (http://hl7.org/fhir/ValueSet/issue-type).
ISSUE_TYPES = {
    "invalid", "structure", "required", "value", "invariant", "security", "login", "unknown",
    "expired", "forbidden", "suppressed", "processing", "not-supported", "duplicate",
    "multiple-matches", "not-found", "deleted", "too-long", "code-invalid", "extension",
    "too-costly", "business-rule", "conflict", "transient", "lock-error", "no-store",
    "exception", "timeout", "incomplete", "throttled", "informational",
}


def check_outcome(path, problems):
    text = open(path, encoding="utf-8").read()
    get_fhir_model_class("OperationOutcome").model_validate_json(text)
    for issue in json.loads(text)["issue"]:
        if issue["code"] not in ISSUE_TYPES:
            problems.append(f"{path}: issue code {issue['code']} is not an IssueType")
        for coding in issue.get("details", {}).get("coding", []):
            if not coding["system"].startswith("https://"):
                problems.append(f"{path}: code system {coding['system']} is not https")


def main(paths):
    problems = []
    outcomes = [p for p in paths if json.load(open(p, encoding="utf-8")).get("resourceType") == "OperationOutcome"]
    for p in outcomes:
        check_outcome(p, problems)
    paths = [p for p in paths if p not in outcomes]
    if not paths:
        for p in problems:
            print("FAIL", p)
        if problems:
            return 1
        print(f"ok: {len(outcomes)} OperationOutcome(s), valid FHIR R4B")
        return 0
    exports = [check(p, problems) for p in paths]
    for other, path in zip(exports[1:], paths[1:]):
        if other != exports[0]:
            problems.append(f"{path}: Observation ids differ from {paths[0]}'s")
    for p in problems:
        print("FAIL", p)
    if problems:
        return 1
    print(f"ok: {len(paths)} export(s), {len(exports[0])} Observation(s) each, valid FHIR R4B")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
