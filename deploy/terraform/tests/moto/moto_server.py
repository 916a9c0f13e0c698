"""moto's server (check moto-apply) with two corrections that bring it closer to AWS.

moto 5.2.6 checks a target bucket's permission for S3 server access logging with a policy
reader that fails on a statement whose Principal is the string "*" (our TLS-only Deny) and
accepts only a Resource equal to "<bucket>/<prefix>*" or "<bucket>/*". AWS accepts any
Allow of s3:PutObject to logging.s3.amazonaws.com whose Resource covers the target prefix.
This reads the policy as AWS does.

moto 5.2.6 keeps composite alarms (its PutMetricAlarm stores an AlarmRule, DescribeAlarms
returns them as CompositeAlarms) but routes no PutCompositeAlarm action to that code: the
action is answered by it here. Everything else is moto unchanged.

    python moto_server.py -H 127.0.0.1 -p PORT
"""

import fnmatch
import json

from moto.cloudwatch.responses import CloudWatchResponse
from moto.s3.models import FakeBucket
from moto.server import main

LOGGING = "logging.s3.amazonaws.com"


def _as_list(value):
    return value if isinstance(value, list) else [value]


def log_permissions_enabled_policy(target_bucket, target_prefix):
    if not target_bucket.policy:
        return False
    policy = json.loads(target_bucket.policy.decode())
    wanted = f"arn:{target_bucket.partition}:s3:::{target_bucket.name}/{target_prefix or ''}x"
    for stmt in _as_list(policy.get("Statement", [])):
        principal = stmt.get("Principal", {})
        if not isinstance(principal, dict) or LOGGING not in _as_list(principal.get("Service", [])):
            continue
        if stmt.get("Effect") != "Allow":
            continue
        if not any(a in ("s3:PutObject", "s3:*", "*") for a in _as_list(stmt.get("Action", []))):
            continue
        if any(fnmatch.fnmatchcase(wanted, r) for r in _as_list(stmt.get("Resource", []))):
            return True
    return False


FakeBucket._log_permissions_enabled_policy = staticmethod(log_permissions_enabled_policy)

# PutCompositeAlarm (AlarmName, AlarmRule, AlarmDescription, actions, tags) through the
# PutMetricAlarm handler, which reads AlarmRule "to re-use this method for composite alarms".
if not hasattr(CloudWatchResponse, "put_composite_alarm"):
    CloudWatchResponse.put_composite_alarm = CloudWatchResponse.put_metric_alarm

if __name__ == "__main__":
    main()
