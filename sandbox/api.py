"""What the provider APIs share: the request they see, routing, and the request rules."""

from __future__ import annotations

from abc import ABC, abstractmethod
import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
import json
import re
from typing import Any, ClassVar, Final
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web

from .state import ProviderName, SandboxState

JSON: Final = "application/json"
FORM: Final = "application/x-www-form-urlencoded"


class BadRequestError(Exception):
    """The request breaks a documented rule; answered 400 in the provider's envelope."""


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """A request as a provider sees it: the path is below the provider's prefix."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # case-insensitive
    content_type: str
    body: bytes
    json: Any  # the decoded body; None when it is empty or not JSON
    json_valid: bool  # False when there is a body and it is not JSON
    form: Mapping[str, str] | None  # a form-encoded body; None when it is not one


def decode_form(body: bytes) -> Mapping[str, str] | None:
    """Decode a form-encoded body (a repeated field keeps its last value), or None."""
    try:
        return dict(
            parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True)
        )
    except ValueError:
        return None


def decode_json(body: bytes) -> tuple[Any, bool]:
    """Decode a JSON body; return it (None if empty or invalid) and whether it is valid."""
    if not body.strip():
        return None, True
    try:
        return json.loads(body), True
    except ValueError:
        return None, False


type Handler[AccountT] = Callable[[ApiRequest, AccountT, dict[str, str]], web.Response]


@dataclass(frozen=True, slots=True)
class Route[AccountT]:
    """One path (a regular expression with named groups) and its handler per method."""

    pattern: re.Pattern[str]
    handlers: Mapping[str, Handler[AccountT]]


class ProviderApi[AccountT](ABC):
    """One provider's API under a path prefix of the sandbox.

    Every request is authenticated first (401), then routed (404, 405), then its
    body checked (400: not labelled ``body_type``, or not readable as it), then handled.
    """

    name: ClassVar[ProviderName]
    prefix: ClassVar[str]
    unauthorized_message: ClassVar[str]
    # The media type a request body must have: JSON, or form-encoded (Twilio).
    body_type: ClassVar[str] = JSON

    def __init__(self, state: SandboxState) -> None:
        """Serve the accounts and calls in ``state``."""
        self.state = state
        self.routes = self.build_routes()

    @abstractmethod
    def build_routes(self) -> Sequence[Route[AccountT]]:
        """Return the API's paths."""

    @abstractmethod
    def authenticate(self, request: ApiRequest) -> AccountT | None:
        """Return the account the request proves it is, or None."""

    @abstractmethod
    def account_key(self, account: AccountT) -> str:
        """Return the key faults filter by: Vobiz auth_id, Bland API key, Twilio SID."""

    @abstractmethod
    def call_id_of(self, request: ApiRequest) -> str | None:
        """Return the call the request is about, if any."""

    @abstractmethod
    def error_body(self, status: int, message: str) -> Any:
        """Return the provider's error envelope."""

    def error(self, status: int, message: str) -> web.Response:
        """Build an error response in the provider's envelope."""
        return self.finish(
            web.json_response(self.error_body(status, message), status=status)
        )

    def ok(self, body: Any, status: int = HTTPStatus.OK) -> web.Response:
        """Build a JSON success response."""
        return self.finish(web.json_response(body, status=status))

    def finish(self, response: web.Response) -> web.Response:
        """Add the headers the provider puts on every response."""
        return response

    def respond(self, request: ApiRequest, account: AccountT | None) -> web.Response:
        """Answer a request: 401 unless authenticated, 404 or 405 unless routed."""
        if account is None:
            return self.error(HTTPStatus.UNAUTHORIZED, self.unauthorized_message)
        route, match = self._route(request.path)
        if route is None or match is None:
            return self.error(HTTPStatus.NOT_FOUND, "resource not found")
        handler = route.handlers.get(request.method)
        if handler is None:
            response = self.error(
                HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed on this path"
            )
            response.headers["Allow"] = ", ".join(route.handlers)
            return response
        try:
            self.check_body(request)
            return handler(request, account, match.groupdict())
        except BadRequestError as err:
            return self.error(HTTPStatus.BAD_REQUEST, str(err))

    def check_body(self, request: ApiRequest) -> None:
        """Refuse a body that is not of the API's media type, or not readable as it."""
        if not request.body.strip():
            return
        if request.content_type != self.body_type:
            raise BadRequestError(f"Content-Type must be {self.body_type}")
        if self.body_type == JSON and not request.json_valid:
            raise BadRequestError("the request body is not valid JSON")
        if self.body_type == FORM and request.form is None:
            raise BadRequestError("the request body is not valid form data")

    def _route(
        self, path: str
    ) -> tuple[Route[AccountT], re.Match[str]] | tuple[None, None]:
        for route in self.routes:
            if match := route.pattern.fullmatch(path):
                return route, match
        return None, None


def require_object(request: ApiRequest) -> dict[str, Any]:
    """Return the body as a JSON object, or refuse the request."""
    if not isinstance(request.json, dict):
        raise BadRequestError("the request body must be a JSON object")
    return request.json


def require_form(request: ApiRequest) -> dict[str, str]:
    """Return the form-encoded body's fields (none for an empty body)."""
    return dict(request.form or {})


def refuse_unknown_fields(body: Mapping[str, Any], known: frozenset[str]) -> None:
    """Refuse parameters the API does not document: a typo must not pass silently."""
    if unknown := sorted(set(body) - known):
        raise BadRequestError(f"unknown parameter(s): {', '.join(unknown)}")


def is_http_url(url: str) -> bool:
    """Say whether ``url`` is an absolute http(s) URL with a host and no white space."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(hostname)
        and not any(char.isspace() for char in url)
    )


def basic_credentials(header: str) -> tuple[str, str] | None:
    """Read HTTP Basic ``Basic base64(username:password)``; None for anything else."""
    scheme, _, encoded = header.partition(" ")
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except ValueError:
        return None
    username, colon, password = decoded.partition(":")
    return (username, password) if scheme == "Basic" and colon else None
