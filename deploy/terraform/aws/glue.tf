# The catalog of the lake's curated/ tables (sf.table reads it). Glue database names take no
# hyphens. Catalog encryption (aws_glue_data_catalog_encryption_settings) is one setting for
# the whole account and region, so it is not made here: set it where your account is managed.
resource "aws_glue_catalog_database" "lake" {
  name         = local.glue_database
  description  = "Small Fry lake: curated tables in s3://${local.buckets.lake}/curated/"
  location_uri = "s3://${local.buckets.lake}/curated/"
}
