"""The warehouse stage: the builder composes one writer under the label 'Write Warehouse'."""
from transforms.warehouse.beam_bigquery import WriteBigQuery  # noqa: F401
from transforms.warehouse.beam_duckdb import WriteDuckDB  # noqa: F401
