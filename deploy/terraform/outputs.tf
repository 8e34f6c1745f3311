output "warehouse" {
  description = "The --warehouse value for wiredesk."
  value       = "bigquery:${var.project}.${google_bigquery_dataset.wiredesk.dataset_id}"
}

output "bucket" {
  description = "Bucket for temp_location, staging and the template spec."
  value       = google_storage_bucket.dataflow.name
}

output "image_repository" {
  description = "Artifact Registry path for the launcher image."
  value       = "${var.region}-docker.pkg.dev/${var.project}/${google_artifact_registry_repository.launcher.repository_id}"
}

output "service_account" {
  description = "Service account to run the Dataflow job as (--service_account_email)."
  value       = google_service_account.worker.email
}

output "subscription" {
  description = "The --subscription value for --source pubsub, when enabled."
  value       = var.enable_pubsub ? google_pubsub_subscription.entries[0].id : null
}
