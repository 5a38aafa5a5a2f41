# What the Helm values need (deploy/helm/*/values.yaml name each place).
output "notebooks_bucket" {
  value = local.buckets.notebooks
}

output "lake_bucket" {
  value = local.buckets.lake
}

output "glue_database" {
  value = aws_glue_catalog_database.lake.name
}

output "jobs_uri" {
  description = "SmallFryService.jobs_uri, and what Airflow syncs."
  value       = "s3://${local.buckets.notebooks}/smallfry/jobs/"
}

output "runs_uri" {
  description = "SmallFryService.runs_uri (snapshots go beside it, in smallfry/snapshots/)."
  value       = "s3://${local.buckets.notebooks}/smallfry/runs/"
}

output "service_role_arn" {
  description = "eks.amazonaws.com/role-arn of the Small Fry Hub service's ServiceAccount."
  value       = aws_iam_role.service.arn
}

output "worker_role_arn" {
  description = "eks.amazonaws.com/role-arn of Airflow's worker and DAG-processor ServiceAccounts."
  value       = aws_iam_role.worker.arn
}

output "role_map" {
  description = "SmallFryService.role_map: IdP group -> notebook role."
  value       = { for group, role in aws_iam_role.notebook : group => role.arn }
}
