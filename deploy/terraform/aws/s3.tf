# Two data buckets and one for their access logs.
#
# notebooks: users' homes (home/<user>/), shared/, and Small Fry's own prefix: smallfry/jobs/
#   (specs the Hub service signs), smallfry/snapshots/ (the notebooks jobs run) and
#   smallfry/runs/ (output.ipynb and run.json). The layout is the IAM examples' own
#   (server-ext/jupyterlab_smallfry/hub/examples/iam/), whose policies are attached as they are.
# lake: raw/ (as landed) and curated/ (cleaned, the Glue database's location).
#
# Checkov findings skipped here, each for a stated reason:
# - CKV_AWS_144 (cross-region replication): a second region doubles the cost and is a
#   disaster-recovery decision of yours, not something a notebook platform needs; versioning
#   already protects against overwrites and deletes.
# - CKV_AWS_145 (KMS customer-managed key): objects are encrypted with SSE-S3 (AES-256). A CMK
#   needs kms:Decrypt/GenerateDataKey on every notebook role, the Hub service and the workers
#   (and a key policy); switch sse_algorithm to "aws:kms" with your key when required.
# - CKV2_AWS_62 (event notifications): nothing in Small Fry consumes S3 events; Airflow syncs
#   the specs on its own timer.

locals {
  buckets = {
    notebooks = "${var.name}-notebooks"
    lake      = "${var.name}-lake"
  }
}

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_18:this is the access-log target itself; logging it into itself would loop
  #checkov:skip=CKV_AWS_144:see the file header (replication is your disaster-recovery choice)
  #checkov:skip=CKV_AWS_145:see the file header (SSE-S3; the S3 log delivery cannot write to a bucket that requires a CMK it has no grant for)
  #checkov:skip=CKV2_AWS_62:see the file header (no consumer of S3 events)
  bucket = "${var.name}-access-logs"
}

resource "aws_s3_bucket" "data" {
  #checkov:skip=CKV_AWS_144:see the file header (replication is your disaster-recovery choice)
  #checkov:skip=CKV_AWS_145:see the file header (SSE-S3 unless you bring a CMK and its grants)
  #checkov:skip=CKV2_AWS_62:see the file header (no consumer of S3 events)
  for_each = local.buckets
  bucket   = each.value
}

locals {
  all_buckets = merge({ logs = aws_s3_bucket.logs }, aws_s3_bucket.data)
}

resource "aws_s3_bucket_ownership_controls" "all" {
  for_each = local.all_buckets
  bucket   = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced" # no ACLs: only IAM decides
  }
}

resource "aws_s3_bucket_public_access_block" "all" {
  for_each                = local.all_buckets
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "all" {
  for_each = local.all_buckets
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# Versioning protects homes, specs, snapshots and the lake from overwrites and deletes;
# old versions expire after noncurrent_version_days (lifecycle below).
resource "aws_s3_bucket_versioning" "all" {
  for_each = local.all_buckets
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_logging" "data" {
  for_each      = aws_s3_bucket.data
  bucket        = each.value.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "${each.key}/"
}

resource "aws_s3_bucket_policy" "tls_only" {
  for_each = local.all_buckets
  bucket   = each.value.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{
        Sid       = "DenyPlainHttp"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [each.value.arn, "${each.value.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      }],
      each.key != "logs" ? [] : [{
        Sid       = "S3ServerAccessLogs"
        Effect    = "Allow"
        Principal = { Service = "logging.s3.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${each.value.arn}/*"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      }],
    )
  })
  depends_on = [aws_s3_bucket_public_access_block.all]
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  for_each = aws_s3_bucket.data
  bucket   = each.value.id
  # Run logs are what piles up: output.ipynb and run.json of every run. Specs and snapshots
  # stay (a job's snapshot is needed as long as the job exists).
  dynamic "rule" {
    for_each = each.key == "notebooks" ? [var.run_log_days] : []
    content {
      id     = "expire-old-run-logs"
      status = "Enabled"
      filter {
        prefix = "smallfry/runs/"
      }
      expiration {
        days = rule.value
      }
    }
  }
  rule {
    id     = "old-versions-and-unfinished-uploads"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
  depends_on = [aws_s3_bucket_versioning.all]
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    id     = "expire-access-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = 365
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
  depends_on = [aws_s3_bucket_versioning.all]
}

# The folders users see first in the S3 browser (S3 has no folders: empty marker objects).
resource "aws_s3_object" "folders" {
  for_each = {
    "notebooks/home/"   = "notebooks"
    "notebooks/shared/" = "notebooks"
    "lake/raw/"         = "lake"
    "lake/curated/"     = "lake"
  }
  bucket     = aws_s3_bucket.data[each.value].id
  key        = trimprefix(each.key, "${each.value}/")
  content    = ""
  depends_on = [aws_s3_bucket_server_side_encryption_configuration.all]
}
