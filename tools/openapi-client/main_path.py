"""The main path through a client generated from the served OpenAPI document.

scripts/check-openapi-client.sh generates the client with openapi-python-client, installs it
and runs this against a live `mhp serve`: who am I, create a subject, upload a jump recording,
read its metrics, record an injury and read it back, list the roster. Every call goes through
the generated functions and models (nothing hand-written speaks HTTP), and every answer is
parsed into the generated models, so a document that disagrees with the server fails here.

    python main_path.py BASE_URL ORG API_KEY JUMP_CSV
"""

import datetime
import sys

from mhp_client import AuthenticatedClient
from mhp_client.api.default import (
    get_me,
    get_orgs_org_assessments_assessment,
    get_orgs_org_subjects,
    get_orgs_org_subjects_subject_injuries,
    post_orgs_org_subjects,
    post_orgs_org_subjects_subject_assessments,
    post_orgs_org_subjects_subject_injuries,
)
from mhp_client.models import (
    AssessmentOut,
    InjuryOut,
    NewInjury,
    NewInjuryMechanism,
    NewInjurySide,
    NewSubjectIn,
    SubjectOut,
)
from mhp_client.types import File


def expect(response, status, model):
    """The parsed answer, after checking its status and its type."""
    if response.status_code != status:
        sys.exit(f"expected {status}, got {response.status_code}: {response.content[:300]!r}")
    if not isinstance(response.parsed, model):
        sys.exit(f"expected a {model.__name__}, got {type(response.parsed).__name__}")
    return response.parsed


def main() -> None:
    base, org, key, jump = sys.argv[1:5]
    client = AuthenticatedClient(base_url=base, token=key, raise_on_unexpected_status=True)

    me = get_me.sync_detailed(client=client)
    if me.status_code != 200 or me.parsed is None:
        sys.exit(f"GET /api/v1/me: {me.status_code}")
    print(f"me: {type(me.parsed).__name__}")

    subject = expect(
        post_orgs_org_subjects.sync_detailed(
            org,
            client=client,
            body=NewSubjectIn(name="Client Athlete", external_id="GEN-1",
                              birth_date=datetime.date(2001, 5, 4)),
        ),
        201,
        SubjectOut,
    )
    assert subject.name == "Client Athlete", subject
    print(f"subject: {subject.id}")

    with open(jump, "rb") as f:
        recording = File(payload=f, file_name="jump.csv", mime_type="application/octet-stream")
        created = post_orgs_org_subjects_subject_assessments.sync_detailed(
            org, subject.id, client=client, body=recording
        )
    uploaded = expect(created, 201, AssessmentOut)
    print(f"assessment: {uploaded.id} ({uploaded.kind}, {uploaded.trials} trial(s))")

    read = expect(
        get_orgs_org_assessments_assessment.sync_detailed(org, uploaded.id, client=client),
        200,
        AssessmentOut,
    )
    metrics = read.summary.additional_properties
    height = metrics.get("jump_height_impulse_m")
    if height is None or not 0.0 < height < 1.0:
        sys.exit(f"no plausible jump height among the metrics: {metrics}")
    print(f"jump height: {height:.3f} m ({len(metrics)} metrics)")

    injury = expect(
        post_orgs_org_subjects_subject_injuries.sync_detailed(
            org,
            subject.id,
            client=client,
            body=NewInjury(
                body_region="knee",
                injury_type="ligament_sprain",
                mechanism=NewInjuryMechanism.CONTACT,
                occurred_on=datetime.date(2026, 1, 5),
                side=NewInjurySide.LEFT,
                time_loss_days=10,
            ),
        ),
        201,
        InjuryOut,
    )
    listed = get_orgs_org_subjects_subject_injuries.sync_detailed(org, subject.id, client=client)
    if listed.status_code != 200 or not any(i.id == injury.id for i in listed.parsed or []):
        sys.exit(f"the injury is not listed: {listed.status_code}")
    print(f"injury: {injury.id} ({injury.stage}, {injury.availability})")

    roster = get_orgs_org_subjects.sync_detailed(org, client=client)
    if roster.status_code != 200 or not any(s.id == subject.id for s in roster.parsed.items):
        sys.exit(f"the subject is not on the roster: {roster.status_code}")
    print("main path through the generated client: ok")


if __name__ == "__main__":
    main()
