# Multi-Region keys without replacing a key (deploy/README.md "Multi-Region keys: the
# migration"): an environment applied with single-Region keys, then planned with replication on
# (production since issue 21), keeps every key it has: the app key still unwraps the organisation
# keys, the data key still opens the database and the buckets. The multi-Region keys the
# recovery region needs come beside them. Runs share one state: the first applies (mocked), the
# next plan against it, as `terraform plan` would against an environment's state.

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  # A valid ARN for every key (the provider checks the replicas' primary_key_arn), but no fixed
  # key_id: every key made gets its own, so a replaced key shows as a new key_id.
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:us-east-1:123456789012:key/mrk-mock" }
  }
}

mock_provider "aws" {
  alias = "replica"
}

# The same, with values made up at plan time, for the run that plans: a key the plan would
# replace gets a new key id there (instead of an unknown one).
mock_provider "aws" {
  alias           = "at_plan"
  override_during = plan
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:us-east-1:123456789012:key/mrk-mock" }
  }
}

mock_provider "aws" {
  alias           = "replica_at_plan"
  override_during = plan
}

variables {
  name = "mhp-test"
}

run "an_environment_applied_with_single_region_keys" {
  command = apply

  variables {
    replicated_purposes = []
  }

  assert {
    condition     = !anytrue([for k in aws_kms_key.this : k.multi_region]) && length(aws_kms_key.multi_region) == 0
    error_message = "before replication every key is single-Region, with nothing beside it"
  }
}

run "replication_keeps_every_existing_key" {
  command = plan
  providers = {
    aws         = aws.at_plan
    aws.replica = aws.replica_at_plan
  }

  variables {
    replicated_purposes = ["data", "app"]
  }

  # Nothing replaced. AWS replaces a key whose multi_region changes (the one attribute set here
  # that forces a new key); a mock provider only updates it, so the guard is the planned value:
  # every applied key keeps the type it was made with.
  assert {
    condition     = !anytrue([for k in aws_kms_key.this : k.multi_region])
    error_message = "turning replication on must not change multi_region of an existing key: AWS would replace the key (the app key wraps the organisation keys, the data key encrypts the database and buckets)"
  }
  # And no key made anew under another address (a rename without a moved block).
  assert {
    condition     = alltrue([for p, id in run.an_environment_applied_with_single_region_keys.key_ids : aws_kms_key.this[p].key_id == id])
    error_message = "every key the environment uses is the one applied (same key id)"
  }
  # The multi-Region keys beside them.
  assert {
    condition     = toset(keys(aws_kms_key.multi_region)) == toset(["data", "app"]) && alltrue([for k in aws_kms_key.multi_region : k.multi_region && k.enable_key_rotation])
    error_message = "a rotating multi-Region key beside each existing single-Region key of a replicated purpose"
  }
  assert {
    condition     = output.single_region_in_use == tolist(["app", "data"])
    error_message = "the environment is told which keys in use do not open in the recovery region"
  }
}

# The same change applied (mocked): the replicas in the recovery region are of the keys beside.
run "replicas_are_of_the_keys_beside" {
  command = apply

  variables {
    replicated_purposes = ["data", "app"]
  }

  assert {
    condition     = output.key_ids == run.an_environment_applied_with_single_region_keys.key_ids
    error_message = "applying replication keeps every key the environment uses (key_arns: Aurora, buckets, keys.kms_key_id)"
  }
  assert {
    condition     = alltrue([for p in ["data", "app"] : aws_kms_replica_key.this[p].tags["mhp:replica-of"] == aws_kms_key.multi_region[p].key_id])
    error_message = "the replicas are of the multi-Region keys beside the existing ones"
  }
  assert {
    condition     = aws_kms_alias.replica["app"].name == "alias/mhp-test-app" && aws_kms_alias.multi_region["app"].name == "alias/mhp-test-app-multi-region"
    error_message = "the recovery region's replica has the purpose's alias; the key beside has its own in the primary region"
  }
}
