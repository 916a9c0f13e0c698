# Check moto-apply: envs/dev's inputs (given by the deploy workflow in AWS). moto's account is
# 123456789012, so allowed_account_ids also guards this apply as it guards the real one.
allowed_account_ids = ["123456789012"]
image               = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mhp@sha256:0000000000000000000000000000000000000000000000000000000000000000"
public_host         = "dev.mhp.example.org"
certificate_arn     = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
alarm_emails        = ["operators@example.org"]
