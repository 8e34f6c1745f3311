"""The tiny vocabulary in which every wiredesk row type is declared once."""
from __future__ import annotations

import typing
from dataclasses import dataclass

# kind -> (python type, BigQuery type, DuckDB type)
KINDS = {
    "string": (str, "STRING", "VARCHAR"),
    "int": (int, "INT64", "BIGINT"),
    "float": (float, "FLOAT64", "DOUBLE"),
    "bool": (bool, "BOOL", "BOOLEAN"),
    # Instants travel through Beam as ISO-8601 UTC strings: they survive every coder,
    # JSON and both warehouses without a logical-type round trip.
    "timestamp": (str, "TIMESTAMP", "TIMESTAMPTZ"),
    "bytes": (bytes, "BYTES", "BLOB"),
}


@dataclass(frozen=True)
class Field:
    """One column: its name, kind, meaning and shape."""

    name: str
    kind: str
    description: str
    repeated: bool = False
    required: bool = False
    record: "RowType | None" = None

    def __post_init__(self):
        if self.record is None and self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r} for field {self.name!r}")


@dataclass(frozen=True)
class RowType:
    """A named list of fields; the source of the Beam, BigQuery and DuckDB schemas."""

    name: str
    description: str
    fields: tuple

    @property
    def names(self) -> list:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def record(name: str, description: str, row_type: RowType, repeated: bool = False) -> Field:
    """A nested RECORD field."""
    return Field(name, "record", description, repeated=repeated, record=row_type)


_BEAM_TYPES: dict = {}


def beam_type(row_type: RowType):
    """The typing.NamedTuple class for a row type, built once and registered with RowCoder."""
    if row_type.name in _BEAM_TYPES:
        return _BEAM_TYPES[row_type.name]
    annotations = []
    for f in row_type.fields:
        py = beam_type(f.record) if f.record is not None else KINDS[f.kind][0]
        if f.repeated:
            py = typing.Sequence[py]
        elif not f.required:
            py = typing.Optional[py]
        annotations.append((f.name, py))
    cls = typing.NamedTuple(row_type.name, annotations)
    cls.__doc__ = row_type.description
    # Defaults let producers name only what they know; lists default to empty.
    cls.__new__.__defaults__ = tuple(() if f.repeated else None for f in row_type.fields)
    # Pickled classes must be importable by name on workers.
    cls.__module__ = "schemas.types"
    import apache_beam as beam

    beam.coders.registry.register_coder(cls, beam.coders.RowCoder)
    _BEAM_TYPES[row_type.name] = cls
    return cls


def bigquery_fields(row_type: RowType) -> list:
    """BigQuery JSON schema (the format of `bq mk --schema`) for a row type."""
    out = []
    for f in row_type.fields:
        mode = "REPEATED" if f.repeated else ("REQUIRED" if f.required else "NULLABLE")
        entry = {"name": f.name, "type": "RECORD" if f.record else KINDS[f.kind][1],
                 "mode": mode, "description": f.description}
        if f.record is not None:
            entry["fields"] = bigquery_fields(f.record)
        out.append(entry)
    return out


def duckdb_type(f: Field) -> str:
    if f.record is not None:
        inner = ", ".join(f'"{g.name}" {duckdb_type(g)}' for g in f.record.fields)
        base = f"STRUCT({inner})"
    else:
        base = KINDS[f.kind][2]
    return base + "[]" if f.repeated else base


def duckdb_ddl(table: str, row_type: RowType, primary_key: str) -> str:
    """CREATE TABLE statement for DuckDB, with comments carried over."""
    cols = []
    for f in row_type.fields:
        null = " NOT NULL" if f.required else ""
        cols.append(f'  "{f.name}" {duckdb_type(f)}{null}')
    cols.append(f'  PRIMARY KEY ("{primary_key}")')
    return f"CREATE TABLE IF NOT EXISTS {table} (\n" + ",\n".join(cols) + "\n)"


def duckdb_comments(table: str, row_type: RowType) -> list:
    """COMMENT ON statements so `duckdb_columns()` shows the same descriptions as BigQuery."""
    stmts = [f"COMMENT ON TABLE {table} IS '{_sql_str(row_type.description)}'"]
    for f in row_type.fields:
        stmts.append(f"COMMENT ON COLUMN {table}.\"{f.name}\" IS '{_sql_str(f.description)}'")
    return stmts


def _sql_str(s: str) -> str:
    return s.replace("'", "''")
