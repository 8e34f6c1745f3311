# Tables are created from the SAME schema files the pipeline uses (schemas/bigquery/*.json,
# generated from schemas/types.py); tests/deploy checks these references and the layout.
locals {
  schema_dir = "${path.module}/../../schemas/bigquery"
}

resource "google_bigquery_dataset" "wiredesk" {
  dataset_id  = var.dataset
  location    = var.region
  description = "wiredesk: deduplicated, agency-tagged news articles."
}

resource "google_bigquery_table" "articles" {
  dataset_id          = google_bigquery_dataset.wiredesk.dataset_id
  table_id            = "articles"
  description         = "One distinct article (canonical URL) with its text, tags and story."
  schema              = file("${local.schema_dir}/articles.json")
  clustering          = ["agency", "outlet"]
  deletion_protection = var.deletion_protection

  time_partitioning {
    type  = "DAY"
    field = "published_at"
  }
}

resource "google_bigquery_table" "dead_letters" {
  dataset_id          = google_bigquery_dataset.wiredesk.dataset_id
  table_id            = "dead_letters"
  description         = "A feed, entry or page that failed a stage, and why."
  schema              = file("${local.schema_dir}/dead_letters.json")
  clustering          = ["stage", "error_class"]
  deletion_protection = var.deletion_protection

  time_partitioning {
    type  = "DAY"
    field = "failed_at"
  }
}

resource "google_bigquery_table" "feed_state" {
  dataset_id          = google_bigquery_dataset.wiredesk.dataset_id
  table_id            = "feed_state"
  description         = "What wiredesk knows about polling one feed."
  schema              = file("${local.schema_dir}/feed_state.json")
  deletion_protection = var.deletion_protection
}

resource "google_bigquery_table" "story_index" {
  dataset_id          = google_bigquery_dataset.wiredesk.dataset_id
  table_id            = "story_index"
  description         = "What story matching needs of one stored article, computed once when it is written."
  schema              = file("${local.schema_dir}/story_index.json")
  clustering          = ["story_id"]
  deletion_protection = var.deletion_protection

  time_partitioning {
    type  = "DAY"
    field = "published_at"
  }
}

resource "google_bigquery_table" "warehouse_meta" {
  dataset_id          = google_bigquery_dataset.wiredesk.dataset_id
  table_id            = "warehouse_meta"
  description         = "Settings of this warehouse, such as its schema_version."
  schema              = file("${local.schema_dir}/warehouse_meta.json")
  deletion_protection = var.deletion_protection
}

resource "google_bigquery_table" "stories" {
  dataset_id          = google_bigquery_dataset.wiredesk.dataset_id
  table_id            = "stories"
  description         = "The deduplicated news: one row per story, shown through its first-published copy."
  deletion_protection = var.deletion_protection

  view {
    query          = templatefile("${path.module}/stories_view.sql.tftpl", { project = var.project, dataset = var.dataset })
    use_legacy_sql = false
  }

  depends_on = [google_bigquery_table.articles]
}
