"""Rows as BigQuery takes them: declared NamedTuples to JSON, and why BigQuery would reject one (no Beam)."""
from __future__ import annotations

import base64
import datetime as dt

from schemas.types import TABLES

# insertAll accepts rows up to 10 MB; a load job's JSON line up to 100 MB. Keep well below both.
MAX_ROW_BYTES = 9 * 1024 * 1024


def to_json_row(row) -> dict:
    """A declared NamedTuple as a BigQuery JSON row: records as objects, lists, bytes as base64."""
    out = {}
    for name, value in zip(row._fields, row):
        out[name] = _json_value(value)
    return out


def _json_value(value):
    if hasattr(value, "_asdict"):
        return to_json_row(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def check_row(table: str, row: dict) -> str | None:
    """Why BigQuery would reject this row of `table`, or None if it fits the declared schema."""
    problem = _check_fields(TABLES[table][0], row, "")
    if problem is None:
        import json

        size = len(json.dumps(row, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        if size > MAX_ROW_BYTES:
            problem = f"row is {size} bytes, over the {MAX_ROW_BYTES}-byte limit"
    return problem


def _check_fields(row_type, row: dict, prefix: str) -> str | None:
    for f in row_type.fields:
        name = prefix + f.name
        value = row.get(f.name)
        if value is None:
            if f.required:
                return f"{name}: required field is NULL"
            continue
        values = value if f.repeated else [value]
        if f.repeated and not isinstance(value, (list, tuple)):
            return f"{name}: repeated field is not a list"
        for v in values:
            if v is None:
                return f"{name}: NULL inside a repeated field"
            problem = (_check_fields(f.record, v, name + ".") if f.record is not None and isinstance(v, dict)
                       else f"{name}: expected a record" if f.record is not None
                       else _check_scalar(f.kind, v, name))
            if problem:
                return problem
    return None


def _check_scalar(kind: str, v, name: str) -> str | None:
    if kind == "string":
        if not isinstance(v, str):
            return f"{name}: expected a string, got {type(v).__name__}"
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:
            return f"{name}: not valid UTF-8"
    elif kind == "int":
        if isinstance(v, bool) or not isinstance(v, int) or not -2**63 <= v < 2**63:
            return f"{name}: expected an INT64, got {v!r:.40}"
    elif kind == "float":
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return f"{name}: expected a FLOAT64"
    elif kind == "bool":
        if not isinstance(v, bool):
            return f"{name}: expected a BOOL"
    elif kind == "timestamp":
        try:
            moment = dt.datetime.fromisoformat(v) if isinstance(v, str) else None
        except ValueError:
            moment = None
        if moment is None or not 1 <= moment.year <= 9999:
            return f"{name}: not an ISO-8601 timestamp: {v!r:.40}"
    elif kind == "bytes":
        if not isinstance(v, str):
            return f"{name}: expected base64 bytes"
    return None
