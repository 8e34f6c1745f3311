locals {
  bucket = var.bucket_name != "" ? var.bucket_name : "${var.project}-wiredesk"
}

resource "google_storage_bucket" "dataflow" {
  name                        = local.bucket
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  # Load files and staging packages are disposable.
  lifecycle_rule {
    condition {
      age            = 7
      matches_prefix = ["tmp/", "staging/"]
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_artifact_registry_repository" "launcher" {
  location      = var.region
  repository_id = var.repository
  format        = "DOCKER"
  description   = "wiredesk Flex Template launcher images."
}

# The identity of the Dataflow workers and the launcher: nothing beyond what the job does.
resource "google_service_account" "worker" {
  account_id   = "wiredesk-worker"
  display_name = "wiredesk Dataflow worker"
}

resource "google_project_iam_member" "worker_dataflow" {
  project = var.project
  role    = "roles/dataflow.worker"
  member  = "serviceAccount:${google_service_account.worker.email}"
}

# Load, query and MERGE jobs run in the project.
resource "google_project_iam_member" "worker_bigquery_jobs" {
  project = var.project
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.worker.email}"
}

# Read and write the wiredesk dataset only (tables, staging tables, the view).
resource "google_bigquery_dataset_iam_member" "worker_data" {
  dataset_id = google_bigquery_dataset.wiredesk.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.worker.email}"
}

resource "google_storage_bucket_iam_member" "worker_bucket" {
  bucket = google_storage_bucket.dataflow.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.worker.email}"
}

resource "google_artifact_registry_repository_iam_member" "worker_pull" {
  location   = google_artifact_registry_repository.launcher.location
  repository = google_artifact_registry_repository.launcher.name
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${google_service_account.worker.email}"
}

resource "google_pubsub_topic" "entries" {
  count = var.enable_pubsub ? 1 : 0
  name  = "wiredesk-entries"
}

resource "google_pubsub_subscription" "entries" {
  count                      = var.enable_pubsub ? 1 : 0
  name                       = "wiredesk-entries"
  topic                      = google_pubsub_topic.entries[0].id
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
}

resource "google_pubsub_subscription_iam_member" "worker_subscriber" {
  count        = var.enable_pubsub ? 1 : 0
  subscription = google_pubsub_subscription.entries[0].name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${google_service_account.worker.email}"
}

# Dataflow reads subscription metadata (pubsub.viewer) to track the backlog watermark.
resource "google_pubsub_subscription_iam_member" "worker_viewer" {
  count        = var.enable_pubsub ? 1 : 0
  subscription = google_pubsub_subscription.entries[0].name
  role         = "roles/pubsub.viewer"
  member       = "serviceAccount:${google_service_account.worker.email}"
}
