"""The one HTTP request helper every provider client uses.

It owns timeouts, the retry rules, JSON decoding and the mapping of network
failures onto the exception hierarchy. Status codes and error envelopes are the
provider's business: a client gets an :class:`ApiResponse` for every answer.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
import ipaddress
import json
import logging
import math
import time
from typing import Any, Final
from urllib.parse import urlsplit
import zlib

import aiohttp

from .errors import (
    CallNotFoundError,
    CallTransferError,
    CannotConnectError,
    ForbiddenError,
    InvalidAuthError,
    InvalidBaseUrlError,
    InvalidCredentialsError,
    InvalidRequestError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitedError,
    UnexpectedResponseError,
)

_LOGGER = logging.getLogger(__name__)

# A request waits at most ``timeout`` (10 s) for a connection, and was never sent when
# it got none; it ends at most DEADLINE_FACTOR x ``timeout`` (20 s) after it started,
# whatever the provider does: its whole answer (headers and body, sent a byte at a time
# or not) has at least ``timeout`` once the request left.
DEFAULT_TIMEOUT: Final = 10.0
DEADLINE_FACTOR: Final = 2
MAX_RATE_LIMIT_RETRIES: Final = 2
MAX_RATE_LIMIT_WAIT: Final = 5.0
DEFAULT_RETRY_AFTER: Final = 1.0
# The longest Retry-After honoured: a longer one (an infinite one, a date in year 9999)
# counts as this long.
MAX_RETRY_AFTER: Final = 600.0
HTTP_TOO_MANY_REQUESTS: Final = 429
# The most a provider's answer may hold once inflated: their JSON is a few hundred bytes.
MAX_BODY_BYTES: Final = 1024 * 1024
# The most text from a provider (a message, an id) passed on: events, entity attributes
# and the recorder stay small whatever a provider sends.
MAX_TEXT_LENGTH: Final = 500
# What the client can inflate itself, within MAX_BODY_BYTES (wbits 47: gzip or zlib).
_ACCEPT_ENCODING: Final = "gzip, deflate"
_INFLATE_WBITS: Final = {"gzip": 47, "x-gzip": 47, "deflate": 47}

_MASK: Final = "***"
_UNSENDABLE: Final = frozenset(chr(code) for code in (*range(32), 127))

type Sleep = Callable[[float], Awaitable[None]]
# Reads a provider's error answer: (response, request id, whether the request acts).
type ErrorReader = Callable[[ApiResponse, str | None, bool], CallTransferError]
# Reads a refusal out of an answer whose status says success, if it is one.
type RefusalReader = Callable[[ApiResponse, str | None], CallTransferError | None]


def basic_auth(username: str, password: str) -> str:
    """Return the ``Authorization`` value of HTTP Basic authentication (RFC 7617)."""
    pair = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {pair}"


def normalize_base_url(url: str) -> str:
    """Validate a provider base URL and return it without a trailing slash.

    It must be absolute ``https``; plain ``http`` is allowed only on a loopback
    host, for local sandboxes and proxies.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError when out of range
    except ValueError:
        raise InvalidBaseUrlError("The base URL cannot be parsed") from None
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidBaseUrlError("The base URL must be an absolute http(s) URL")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InvalidBaseUrlError(
            "The base URL must not carry credentials, a query or a fragment"
        )
    if parts.scheme == "http" and not _is_loopback(host):
        raise InvalidBaseUrlError(
            "The base URL must use https unless its host is loopback"
        )
    return parts._replace(path=parts.path.rstrip("/")).geturl()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_retry_after(
    value: str | None, *, now: datetime | None = None
) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date).

    From 0 (a negative wait, a date past) to ``MAX_RETRY_AFTER`` (a longer wait, ``inf``,
    a date in year 9999); None when the value is neither a number nor a date (``nan``).
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """One answer from a provider, before the provider client interprets it.

    Every text a client reads from it (``json()``, ``header()``) is provider text:
    the credentials in ``secrets`` masked, then capped at ``MAX_TEXT_LENGTH``.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    content_type: str
    secrets: tuple[str, ...] = ()

    def json(self) -> Any:
        """Return the body decoded as JSON, or ``None`` when it is empty or not JSON.

        Every string in it is provider text (credentials masked, length capped).
        """
        if not self.body.strip():
            return None
        try:
            data = json.loads(self.body)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            return None
        return _provider_texts(data, self.secrets)

    def header(self, name: str) -> str | None:
        """Return a header's value as provider text, or ``None`` when it is absent or empty."""
        value = self.headers.get(name)
        return provider_text(value, self.secrets) if value else None

    def describe_body(self) -> str:
        """Say what kind of body this is, for error messages (never its content)."""
        if not self.body.strip():
            return "an empty body"
        if self.json() is None:
            return f"a body that is not JSON ({self.content_type or 'no content type'})"
        return "JSON of an unexpected shape"

    @property
    def retry_after(self) -> float | None:
        """The wait the provider asked for, in seconds, if any."""
        return parse_retry_after(self.headers.get("Retry-After"))


class HttpClient:
    """Sends requests to one provider's base URL with fixed auth headers."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        headers: Mapping[str, str],
        *,
        secrets: Sequence[str] = (),
        timeout: float = DEFAULT_TIMEOUT,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Prepare a client; ``secrets`` are masked out of any text we pass on.

        Raises ``InvalidCredentialsError`` when a header value cannot be sent (a line
        break or another control character: header injection), ``InvalidBaseUrlError``
        for an unusable base URL.
        """
        if any(_UNSENDABLE.intersection(value) for value in headers.values()):
            raise InvalidCredentialsError(
                "The credentials contain line breaks or other control characters"
            )
        self._session = session
        self.base_url = normalize_base_url(base_url)
        self._headers = dict(headers) | {"Accept-Encoding": _ACCEPT_ENCODING}
        self._secrets = tuple(secret for secret in secrets if secret)
        # Waiting for a free connection of the shared session (and connecting) has its
        # own limit and, when it runs out, the request was never sent (aiohttp raises
        # ConnectionTimeoutError). The provider may be silent for as long, and its whole
        # answer must be in by the deadline: at least ``timeout`` after the request left.
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout, sock_read=timeout
        )
        self._timeout_seconds = timeout
        self._deadline = DEADLINE_FACTOR * timeout
        self._sleep = sleep

    def add_secret(self, secret: str) -> None:
        """Also mask ``secret`` (one learnt from the provider, such as Vobiz's auth_secret)."""
        if secret and secret not in self._secrets:
            self._secrets = (*self._secrets, secret)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        form: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        acts: bool = False,
    ) -> ApiResponse:
        """Send one request, applying the retry rules, and return the answer.

        The body is ``json_body`` as JSON or ``form`` form-encoded, if either is given.

        ``acts`` marks a request that changes something at the provider (a
        transfer): a timeout or a broken connection after sending then says the
        outcome is unknown. A 429 is retried after ``Retry-After`` (at most
        twice, at most 5 s of waiting in all); a connection refused before the
        request was sent is retried once. Nothing else is retried.
        """
        waited = 0.0
        rate_limit_retries = 0
        connect_retried = False
        while True:
            try:
                async with asyncio.timeout(self._deadline) as deadline:
                    response = await self._send(
                        method, path, json_body, form, params, headers, acts=acts
                    )
            except aiohttp.ClientConnectorError as err:
                if connect_retried or isinstance(err, aiohttp.ClientSSLError):
                    raise CannotConnectError(
                        f"Cannot connect to {self._host}: {_describe(err)}"
                    ) from err
                connect_retried = True
                _LOGGER.debug("%s %s: connection refused, retrying once", method, path)
                continue
            except aiohttp.ConnectionTimeoutError as err:
                raise ProviderTimeoutError(
                    f"No connection to {self._host} within {self._timeout_seconds:g} s; "
                    "the request was not sent"
                ) from err
            except TimeoutError as err:
                raise ProviderTimeoutError(
                    f"{self._host} did not finish answering within {self._deadline:g} s"
                    if deadline.expired()
                    else f"{self._host} did not answer within {self._timeout_seconds:g} s",
                    outcome_unknown=acts,
                ) from err
            except aiohttp.ClientError as err:
                raise CannotConnectError(
                    f"Connection to {self._host} failed: {_describe(err)}",
                    outcome_unknown=acts,
                ) from err
            except ValueError as err:
                # aiohttp refusing what it was given: not expected after our own checks,
                # so whether anything left is not known.
                raise CannotConnectError(
                    f"Request to {self._host} failed: {type(err).__name__}",
                    outcome_unknown=acts,
                ) from err
            if response.status != HTTP_TOO_MANY_REQUESTS:
                return response
            delay = response.retry_after
            if delay is None:
                delay = DEFAULT_RETRY_AFTER
            if (
                rate_limit_retries >= MAX_RATE_LIMIT_RETRIES
                or waited + delay > MAX_RATE_LIMIT_WAIT
            ):
                return response
            rate_limit_retries += 1
            waited += delay
            _LOGGER.debug(
                "%s %s: rate limited, retrying in %.1f s", method, path, delay
            )
            await self._sleep(delay)

    async def request_object(
        self,
        method: str,
        path: str,
        *,
        provider: str,
        request_id_header: str,
        read_error: ErrorReader,
        read_refusal: RefusalReader | None = None,
        acts: bool = False,
        **body: Any,
    ) -> tuple[dict[str, Any], str | None]:
        """Send one request; return its JSON object and the provider's request id.

        ``body`` is what ``request`` takes besides ``acts`` (JSON, form, query,
        headers). A status outside 2xx raises what ``read_error`` makes of the
        provider's error answer; a 2xx raises what ``read_refusal``, if given, finds
        in it (a provider that refuses some requests with a success status).
        """
        response = await self.request(method, path, acts=acts, **body)
        request_id = response.header(request_id_header)
        if not 200 <= response.status < 300:
            raise read_error(response, request_id, acts)
        if read_refusal is not None and (refusal := read_refusal(response, request_id)):
            raise refusal
        return json_object(
            response, provider, request_id=request_id, acts=acts
        ), request_id

    @property
    def _host(self) -> str:
        return urlsplit(self.base_url).netloc

    async def _send(
        self,
        method: str,
        path: str,
        json_body: Mapping[str, Any] | None,
        form: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        extra_headers: Mapping[str, str] | None,
        *,
        acts: bool,
    ) -> ApiResponse:
        headers = (
            self._headers | dict(extra_headers) if extra_headers else self._headers
        )
        started = time.monotonic()
        async with self._session.request(
            method,
            f"{self.base_url}{path}",
            json=json_body,
            data=form,
            params=params,
            headers=headers,
            timeout=self._timeout,
            allow_redirects=False,
            auto_decompress=False,
        ) as response:
            body = await _read_body(response, acts=acts)
            _LOGGER.debug(
                "%s %s -> %s in %.0f ms",
                method,
                path,
                response.status,
                (time.monotonic() - started) * 1000,
            )
            return ApiResponse(
                status=response.status,
                headers=response.headers,
                body=body,
                content_type=response.content_type,
                secrets=self._secrets,
            )


async def _read_body(response: aiohttp.ClientResponse, *, acts: bool) -> bytes:
    """Read and inflate an answer, refusing it once it exceeds MAX_BODY_BYTES.

    The client inflates gzip and deflate itself (the shared session's automatic
    decompression has no size limit on every version), so a small compressed answer
    can never become a huge one in memory.
    """
    length = response.content_length
    if length is not None and length <= MAX_BODY_BYTES:
        body = await response.read()
    else:
        if length is not None:
            raise _too_large(response, acts=acts)
        chunks: list[bytes] = []
        size = 0
        while chunk := await response.content.read(MAX_BODY_BYTES + 1 - size):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _too_large(response, acts=acts)
        body = b"".join(chunks)
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding == "identity" or not body:
        return body
    if (wbits := _INFLATE_WBITS.get(encoding)) is None:
        raise UnexpectedResponseError(
            f"The provider answered in an encoding this client cannot read ({encoding})",
            status=response.status,
            outcome_unknown=acts,
        )
    inflater = zlib.decompressobj(wbits)
    try:
        inflated = inflater.decompress(body, MAX_BODY_BYTES + 1)
    except zlib.error as err:
        raise UnexpectedResponseError(
            f"The provider's {encoding} answer is corrupt",
            status=response.status,
            outcome_unknown=acts,
        ) from err
    if len(inflated) > MAX_BODY_BYTES or inflater.unconsumed_tail:
        raise _too_large(response, acts=acts)
    return inflated


def _too_large(
    response: aiohttp.ClientResponse, *, acts: bool
) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"The provider's answer is too large (over {MAX_BODY_BYTES // 1024} KiB)",
        status=response.status,
        outcome_unknown=acts,
    )


def _describe(err: aiohttp.ClientError) -> str:
    """Return a short reason without URLs or headers (which may carry credentials)."""
    if isinstance(err, aiohttp.ClientConnectorError):
        return err.strerror or type(err).__name__
    if isinstance(err, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    return type(err).__name__


def provider_text(text: str, secrets: Sequence[str]) -> str:
    """Return text from a provider fit to pass on: ``secrets`` masked, then capped.

    Masked first, so a secret cut by the cap cannot show in part.
    """
    text = _scrub(text, secrets)
    if len(text) > MAX_TEXT_LENGTH:
        text = text[: MAX_TEXT_LENGTH - 1] + "…"
    return text


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, _MASK)
    return text


def _provider_texts(data: Any, secrets: Sequence[str]) -> Any:
    """Make every string of decoded JSON provider text, in place.

    Without recursion: JSON nests as deep as the decoder allows.
    """
    if isinstance(data, str):
        return provider_text(data, secrets)
    pending = [data] if isinstance(data, dict | list) else []
    while pending:
        node = pending.pop()
        for key, value in node.items() if isinstance(node, dict) else enumerate(node):
            if isinstance(value, str):
                node[key] = provider_text(value, secrets)
            elif isinstance(value, dict | list):
                pending.append(value)
    return data


def error_for_response(
    response: ApiResponse,
    *,
    message: str | None,
    request_id: str | None,
    acts: bool,
) -> CallTransferError:
    """Map a non-success HTTP status onto the exception hierarchy."""
    status = response.status
    text = message or f"HTTP {status}"
    kwargs: dict[str, Any] = {"status": status, "request_id": request_id}
    if status == HTTPStatus.BAD_REQUEST:
        return InvalidRequestError(text, **kwargs)
    if status == HTTPStatus.UNAUTHORIZED:
        return InvalidAuthError(f"The credentials were rejected: {text}", **kwargs)
    if status == HTTPStatus.FORBIDDEN:
        return ForbiddenError(text, **kwargs)
    if status == HTTPStatus.NOT_FOUND:
        return CallNotFoundError(text, **kwargs)
    if status == HTTP_TOO_MANY_REQUESTS:
        return RateLimitedError(
            f"Rate limited by the provider: {text}",
            retry_after=response.retry_after,
            **kwargs,
        )
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return ProviderError(f"Provider error: {text}", outcome_unknown=acts, **kwargs)
    return UnexpectedResponseError(
        f"Unexpected HTTP status {status}: {text}", outcome_unknown=acts, **kwargs
    )


def error_for_code[CodeT](
    codes: Mapping[CodeT, type[CallTransferError]],
    code: CodeT | None,
    response: ApiResponse,
    *,
    message: str,
    request_id: str | None,
) -> CallTransferError | None:
    """Return the error a provider's own error code names, or None if it names none.

    ``codes`` are the provider's codes that say more than their HTTP status (a call
    that has ended, credentials refused...); the caller maps the others by status.
    """
    if code is None or (error_class := codes.get(code)) is None:
        return None
    return error_class(message, status=response.status, request_id=request_id)


def json_object(
    response: ApiResponse, provider: str, *, request_id: str | None, acts: bool
) -> dict[str, Any]:
    """Return the JSON object a successful answer carries, or raise UnexpectedResponseError.

    ``acts`` marks a request that changes something: an answer that cannot be read
    then leaves its outcome unknown.
    """
    data = response.json()
    if not isinstance(data, dict):
        raise UnexpectedResponseError(
            f"{provider} answered HTTP {response.status} with {response.describe_body()}",
            status=response.status,
            request_id=request_id,
            outcome_unknown=acts,
        )
    return data
