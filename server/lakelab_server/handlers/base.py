"""The base of every lakelab handler: THE one place where lakelab's domain errors become
HTTP errors (`JSONErrors`, shared by the REST handlers and the dashboard proxy), the
Lakehouse from settings, JSON in and out, and blocking calls in a thread."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable
from typing import Any

from jupyter_server.base.handlers import APIHandler, JupyterHandler
from tornado import web

from lakelab.catalog.access import catalog_failure
from lakelab.errors import InvalidInput, LakelabError, Unavailable

from ..serialize import to_json

HTTP_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


def domain_error(exc: BaseException | None) -> BaseException | None:
    """`exc`, or the domain error it stands for: a REST catalog's error answer that reached a
    handler unwrapped is the catalog's failure (503), not the server's (500)."""
    return (catalog_failure(exc) or exc) if exc is not None and not isinstance(exc, LakelabError) else exc


class JSONErrors(JupyterHandler):
    """Every error as JSON `{"error": {"code", "message"}}`: a domain error with its own
    status (LakelabError.http_status: 4xx for a user's mistake, 503 for an unreachable
    service), Tornado's HTTP errors with theirs, anything else a 500 showing no internals."""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = domain_error(kwargs.get("exc_info", (None, None, None))[1])
        if isinstance(exc, LakelabError):
            code, message = exc.code, str(exc)
        elif isinstance(exc, web.HTTPError) or (exc is None and status_code < 500):
            code = HTTP_CODES.get(status_code, "http_error")
            message = (exc.log_message if exc is not None else None) or self._reason
        else:
            # the traceback is in the server log (tornado logs it); the client gets no internals
            code, message = "internal_error", "internal server error: see the Jupyter server log"
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": {"code": code, "message": message}}))

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        exc = domain_error(kwargs.get("exc_info", (None, None, None))[1])
        if isinstance(exc, LakelabError):
            status_code = exc.http_status  # the one mapping: domain error -> its HTTP status
        super().send_error(status_code, **kwargs)

    def log_exception(self, typ, value, tb) -> None:
        domain = domain_error(value)
        if isinstance(domain, LakelabError):
            self.log.info("lakelab %s: %s", domain.code, domain)  # a user's mistake, not a server fault
            return
        super().log_exception(typ, value, tb)

    def get_login_url(self) -> str:
        # not logged in: a JSON 403, never a redirect to the login page (as APIHandler does)
        raise web.HTTPError(403)

    async def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a blocking library call in the extension's thread pool, keeping the server responsive."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.settings["lakelab_executor"], functools.partial(fn, *args, **kwargs))


class LakelabHandler(JSONErrors, APIHandler):
    """The REST endpoints' base: the Lakehouse and settings, query and body parsing, replies."""

    @property
    def lakehouse(self):
        lh = self.settings.get("lakelab")
        if lh is None:
            err = self.settings.get("lakelab_error")
            raise Unavailable(
                f"the lakehouse could not be opened: {err.message if err else 'not configured'}",
                hint="run `lakelab doctor` and restart the server",
            )
        return lh

    @property
    def lakelab_settings(self):
        return self.settings["lakelab_settings"]

    # -- input --------------------------------------------------------------------------
    def int_arg(self, name: str, default: int, lo: int, hi: int) -> int:
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise InvalidInput(f"{name} must be a whole number, got {raw[:40]!r}") from None
        if not lo <= value <= hi:
            raise InvalidInput(f"{name} must be from {lo} to {hi}, got {value}")
        return value

    def str_arg(self, name: str, max_len: int = 500) -> str | None:
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return None
        if len(raw) > max_len:
            raise InvalidInput(f"{name} is longer than {max_len} characters")
        return raw

    def json_body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput("request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise InvalidInput("request body must be a JSON object")
        return body

    # -- output -------------------------------------------------------------------------
    def reply(self, data: Any, status: int = 200) -> None:
        """Answer with a library value, serialised here and only here (serialize.to_json)."""
        self.set_status(status)
        self.finish(json.dumps(to_json(data), allow_nan=False, default=str))


class UnknownRouteHandler(LakelabHandler):
    """Anything else under the API prefix: a JSON 404 (not Jupyter's HTML page)."""

    def _missing(self, *args: str) -> None:
        raise web.HTTPError(404, f"no such lakelab API route: {self.request.path}")

    get = post = put = patch = delete = web.authenticated(_missing)
