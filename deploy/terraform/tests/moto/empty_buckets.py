"""Empties the buckets the dev root made in moto, before `terraform destroy` (check moto-apply).

envs/dev keeps `force_destroy` off on its buckets (only the demo flavour turns it on), so that
Terraform never deletes data; moto, like S3, then refuses to delete a bucket that holds objects,
and the log bucket holds the access logs moto delivered during the check. As an operator would
before tearing an environment down, this deletes every object version and delete marker of the
buckets named in `terraform output -json applied` (argv[1]) at the moto endpoint (argv[2]).
Objects under object lock (none are written) would need the GOVERNANCE bypass, asked for here.

moto is reached over plain HTTP and enforces the buckets' TLS-only Deny (aws:SecureTransport
false) on DeleteObject, so the policy of a bucket that holds objects is deleted first (the
destroy deletes it anyway; deleting an absent policy succeeds, as in S3). And moto delivers
access logs at once: every request of the destroy to a logged bucket would add objects to the
log bucket, which goes last. Access logging is therefore turned off on every bucket first (the
destroy deletes the logging configurations anyway).
"""

import json
import sys

import boto3

applied = json.load(open(sys.argv[1]))
s3 = boto3.client("s3", endpoint_url=sys.argv[2], region_name="us-east-1")
names = list(applied["buckets"].values()) + [a.split(":::")[1] for a in applied["backup_bucket_arns"]]
for name in names:
    s3.put_bucket_logging(Bucket=name, BucketLoggingStatus={})
for name in names:
    count = 0
    if s3.list_object_versions(Bucket=name, MaxKeys=1).get("Versions") or \
            s3.list_object_versions(Bucket=name, MaxKeys=1).get("DeleteMarkers"):
        s3.delete_bucket_policy(Bucket=name)
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"], BypassGovernanceRetention=True)
            count += 1
    print(f"s3 {name}: {count} object versions deleted")
