"""Row types of wiredesk, declared once, with their Beam, BigQuery and DuckDB forms."""
