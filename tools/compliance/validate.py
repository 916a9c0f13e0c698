"""Validates MHP's compliance reports with implementations that are not MHP's.

    validate.py oscal FILE   OSCAL 1.1 Assessment Results, read into NIST compliance-trestle's
                             pydantic models (types, required fields, token and UUID patterns);
    validate.py asff FILE    AWS Security Hub findings, checked by botocore against the input
                             shape of BatchImportFindings (types, required members, lengths),
                             then against the enumerations the Security Hub API documents.

Prints a summary line; exits 1 with the findings when the document does not validate.
"""

import json
import sys


def oscal(doc):
    from trestle.oscal.assessment_results import Model

    model = Model.parse_obj(doc)
    result = model.assessment_results.results[0]
    states = {}
    for finding in result.findings or []:
        state = finding.target.status.state
        state = getattr(state, "value", state)
        states[state] = states.get(state, 0) + 1
    return "oscal ok: {} observations, findings by state {}".format(
        len(result.observations or []), dict(sorted(states.items()))
    )


SEVERITY = {"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
COMPLIANCE = {"PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"}
WORKFLOW = {"NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"}
RECORD = {"ACTIVE", "ARCHIVED"}


def asff(doc):
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("securityhub")
    shape = model.operation_model("BatchImportFindings").input_shape
    report = ParamValidator().validate(doc, shape)
    if report.has_errors():
        raise ValueError(report.generate_report())
    problems = []
    for f in doc["Findings"]:
        where = f["Id"]
        if f["Severity"].get("Label") not in SEVERITY:
            problems.append(f"{where}: Severity.Label")
        if f["Compliance"].get("Status") not in COMPLIANCE:
            problems.append(f"{where}: Compliance.Status")
        if f["Workflow"].get("Status") not in WORKFLOW:
            problems.append(f"{where}: Workflow.Status")
        if f.get("RecordState") not in RECORD:
            problems.append(f"{where}: RecordState")
        if not f["ProductArn"].startswith("arn:aws:securityhub:"):
            problems.append(f"{where}: ProductArn")
        if len(f["AwsAccountId"]) != 12 or not f["AwsAccountId"].isdigit():
            problems.append(f"{where}: AwsAccountId")
        if len(f["Title"]) > 256 or len(f["Description"]) > 1024:
            problems.append(f"{where}: Title or Description too long")
        if len(f["Compliance"].get("RelatedRequirements", [])) > 32:
            problems.append(f"{where}: more than 32 RelatedRequirements")
    if len(doc["Findings"]) > 100:
        problems.append("more than 100 findings in one BatchImportFindings call")
    if problems:
        raise ValueError("\n".join(problems))
    statuses = {}
    for f in doc["Findings"]:
        s = f["Compliance"]["Status"]
        statuses[s] = statuses.get(s, 0) + 1
    return "asff ok: {} findings, by status {}".format(
        len(doc["Findings"]), dict(sorted(statuses.items()))
    )


def main():
    kind, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    try:
        print({"oscal": oscal, "asff": asff}[kind](doc))
    except Exception as e:  # the validator's own words are the finding
        print(f"{kind} does not validate:\n{e}")
        sys.exit(1)


if __name__ == "__main__":
    main()
