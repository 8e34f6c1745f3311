"""Logging for the wiredesk command: one line per event, as text or JSON lines, on stderr.

Text:  2026-11-28T03:08:04.339Z INFO wiredesk.run run_finished elapsed_s=2.4 articles=14
JSON:  {"ts": "2026-11-28T03:08:04.339Z", "level": "INFO", "logger": "wiredesk.run", "event": "run_finished", ...}

Structured events are logged with `event(logger, level, name, **fields)`. Plain records from
anywhere else keep their message (as `msg` in JSON). Newlines are escaped so that a record is
always one line. Below DEBUG, Apache Beam's internals and other libraries are held to WARNING,
and Beam's known harmless warnings (e.g. 'Tags ... requested in with_outputs() but not declared in
type hints', logged on the root logger) are dropped; `--log-level DEBUG` shows everything.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
FORMATS = ("text", "json")
DEFAULT_LEVEL = "INFO"
DEFAULT_FORMAT = "text"

# Loggers (and source trees) that are wiredesk's own; everything else is a library.
OWN_PREFIXES = ("wiredesk", "pipeline", "transforms", "schemas", "__main__")
_OWN_DIRS = tuple(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), d) + os.sep
                  for d in ("pipeline", "transforms", "schemas"))
# Harmless Beam warnings a user can do nothing about.
BEAM_NOISE = (
    re.compile(r"requested in with_outputs\(\) but not declared in type hints"),
    re.compile(r"^Converting string literal type hint to Any"),
    # Each local worker process (multi_processing) says so once as it starts.
    re.compile(r"No semi_persistent_directory found"),
)
LIBRARY_LOGGERS = ("apache_beam", "urllib3", "trafilatura", "htmldate", "charset_normalizer", "courlan",
                   "justext", "filelock", "google", "tldextract")
_HANDLER_NAME = "wiredesk"
_BARE = re.compile(r"^[A-Za-z0-9_.:/@+\-]+$")


def event(logger: logging.Logger, level: int, name: str, **fields) -> None:
    """Log one structured event: `name key=value ...`."""
    if logger.isEnabledFor(level):
        text = " ".join([name] + [f"{k}={_text_value(v)}" for k, v in fields.items()])
        logger.log(level, "%s", text, extra={"wd_event": name, "wd_fields": fields})


def _text_value(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value == value else "nan"
    s = str(value)
    return s if s and _BARE.match(s) else json.dumps(s, ensure_ascii=False)


def _ts(record: logging.LogRecord) -> str:
    moment = dt.datetime.fromtimestamp(record.created, dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _one_line(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body = record.getMessage()
        if not getattr(record, "wd_event", None):
            body = _one_line(body)
        line = f"{_ts(record)} {record.levelname} {record.name} {body}"
        if record.exc_info:
            line += " exc=" + json.dumps(self.formatException(record.exc_info), ensure_ascii=False)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": _ts(record), "level": record.levelname, "logger": record.name}
        name = getattr(record, "wd_event", None)
        if name:
            out["event"] = name
            for k, v in (getattr(record, "wd_fields", None) or {}).items():
                out.setdefault(k, v if isinstance(v, (int, float, bool, type(None))) else str(v))
        else:
            out["event"] = "log"
            out["msg"] = record.getMessage()
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def is_own(record: logging.LogRecord) -> bool:
    name = record.name or ""
    if name != "root":
        return name.split(".", 1)[0] in OWN_PREFIXES
    return (record.pathname or "").startswith(_OWN_DIRS)


class LibraryFilter(logging.Filter):
    """Lets wiredesk's records through at the chosen level; libraries only from WARNING, minus noise."""

    def __init__(self, level: int):
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self.level:
            return False
        if self.level <= logging.DEBUG or is_own(record):
            return True
        if record.levelno < logging.WARNING:
            return False
        if "apache_beam" in (record.pathname or "") or record.name.startswith("apache_beam"):
            message = record.getMessage()
            return not any(p.search(message) for p in BEAM_NOISE)
        return True


class _Handler(logging.StreamHandler):
    def emit(self, record):
        from pipeline import progress

        progress.clear_live_line()
        super().emit(record)


def configure(level: str = DEFAULT_LEVEL, fmt: str = DEFAULT_FORMAT, stream=None) -> logging.Handler:
    """Install wiredesk's one stderr handler on the root logger (replacing an earlier one)."""
    level_no = logging.getLevelName(level.upper()) if isinstance(level, str) else int(level)
    if not isinstance(level_no, int):
        raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LEVELS)}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown log format {fmt!r}; use one of {', '.join(FORMATS)}")
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "name", None) == _HANDLER_NAME:
            root.removeHandler(h)
    handler = _Handler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(LibraryFilter(level_no))
    root.addHandler(handler)
    root.setLevel(level_no)
    # Spare the cost of building records nobody will see: libraries below WARNING are dropped anyway.
    library_level = level_no if level_no <= logging.DEBUG else max(level_no, logging.WARNING)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(library_level)
    return handler
