"""Domain errors. Every user-facing failure is one of these; the server maps them to 4xx
in one place (lakelab_server.handlers.base), the magics print them without a traceback."""

from __future__ import annotations


class LakelabError(Exception):
    """Base class: a problem the user can fix. `code` is stable and machine-readable."""

    code = "error"
    http_status = 400

    def __init__(self, message: str, *, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message} ({hint})")


class InvalidInput(LakelabError):
    """Bad input: a malformed name, value, option, file or SQL text."""

    code = "invalid_input"
    http_status = 400


class NotFound(LakelabError):
    code = "not_found"
    http_status = 404


class Conflict(LakelabError):
    """The request is valid but clashes with the current state (exists, concurrent commit)."""

    code = "conflict"
    http_status = 409


class Unsupported(LakelabError):
    """Valid SQL or request that this engine/backend cannot answer correctly."""

    code = "unsupported"
    http_status = 422


class EngineError(LakelabError):
    """A query failed inside an engine (syntax, semantics, runtime)."""

    code = "query_failed"
    http_status = 400


class Unavailable(LakelabError):
    """A configured service (Trino, catalog, Ray) cannot be reached."""

    code = "unavailable"
    http_status = 503
