"""The errors wiredesk explains to a person, and the reasoned failures stages turn into dead letters."""
from __future__ import annotations


class Failure(Exception):
    """A failure with a machine-readable reason (a dead letter's error_class) and a message for people."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


class ConfigError(ValueError):
    """A configuration mistake, explained for a person rather than as a traceback."""


class RegistryError(ConfigError):
    """The agency registry file is malformed; the message names the entry and the problem."""


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened or written; the message says why and what to do."""


def yaml_problem(err) -> str:
    """A YAML parse error as 'line L, column C: not valid YAML: problem', one line for a person."""
    mark = getattr(err, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    return f"{where}not valid YAML: {problem}"
