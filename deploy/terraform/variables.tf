variable "project" {
  description = "Google Cloud project id that runs wiredesk."
  type        = string
}

variable "region" {
  description = "Region for Dataflow, the bucket, Artifact Registry and the dataset location."
  type        = string
  default     = "us-central1"
}

variable "dataset" {
  description = "BigQuery dataset that holds articles, dead_letters, feed_state and the stories view."
  type        = string
  default     = "wiredesk"
}

variable "bucket_name" {
  description = "GCS bucket for Dataflow temp/staging files, load files and the Flex Template spec. Default: PROJECT-wiredesk."
  type        = string
  default     = ""
}

variable "repository" {
  description = "Artifact Registry Docker repository for the Flex Template launcher image."
  type        = string
  default     = "wiredesk"
}

variable "enable_pubsub" {
  description = "Create the Pub/Sub topic and subscription for --source pubsub (wiredesk poll --publish)."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Protect the BigQuery tables from terraform destroy."
  type        = bool
  default     = true
}
