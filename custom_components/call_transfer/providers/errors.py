"""Typed exceptions for every way a provider request can fail.

Messages are written for people and never contain credentials: callers may show
them in the UI, put them in events or log them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar


class CallTransferError(Exception):
    """Base class of every provider or network failure."""

    code: ClassVar[str] = "unknown"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        """Store the human message, the HTTP status and the provider's request id."""
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id


class InvalidBaseUrlError(CallTransferError, ValueError):
    """The configured base URL is not an absolute https URL (or http on loopback)."""

    code = "invalid_base_url"


class InvalidAuthError(CallTransferError):
    """The provider rejected the credentials (HTTP 401)."""

    code = "invalid_auth"


class InvalidCredentialsError(InvalidAuthError):
    """The credentials cannot be sent at all (line breaks, control characters): never sent."""


class ForbiddenError(CallTransferError):
    """The credentials are valid but may not do this (HTTP 403, Bland FORBIDDEN)."""

    code = "forbidden"


class CallNotFoundError(CallTransferError):
    """The call does not exist or is no longer in progress (HTTP 404, Bland NOT_FOUND)."""

    code = "call_not_found"


class InvalidRequestError(CallTransferError):
    """The request was refused as invalid, by the provider (HTTP 400) or before sending."""

    code = "invalid_request"

    @property
    def refused_before_sending(self) -> bool:
        """Whether the client refused it itself (no HTTP status): nothing was sent."""
        return self.status is None


class InvalidOptionError(CallTransferError):
    """The provider refused the value of one of the account's options (``option``)."""

    code = "invalid_option"

    def __init__(
        self,
        message: str,
        *,
        option: str,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        """Also name the option the provider refused."""
        super().__init__(message, status=status, request_id=request_id)
        self.option = option


class RateLimitedError(CallTransferError):
    """The provider asked us to slow down (HTTP 429) and retrying did not help."""

    code = "rate_limited"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Also keep how long the provider asked us to wait, in seconds."""
        super().__init__(message, status=status, request_id=request_id)
        self.retry_after = retry_after


class AfterSendingError(CallTransferError):
    """A failure after the request may have reached the provider.

    For a transfer this means the call may have been transferred: such a request
    is never retried automatically.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        """Record whether the provider may have acted on the request."""
        if outcome_unknown:
            message = f"{message}; the transfer may have happened, check the call before retrying"
        super().__init__(message, status=status, request_id=request_id)
        self.outcome_unknown = outcome_unknown


class ProviderError(AfterSendingError):
    """The provider failed (HTTP 5xx or another unexpected status)."""

    code = "provider_error"


class ProviderTimeoutError(AfterSendingError):
    """The provider did not answer in time."""

    code = "timeout"


class CannotConnectError(AfterSendingError):
    """The provider could not be reached, or the connection broke."""

    code = "cannot_connect"


class UnexpectedResponseError(AfterSendingError):
    """The provider answered something we cannot read (not JSON, HTML, empty, wrong shape)."""

    code = "unexpected_response"


class TransferCancelledError(AfterSendingError):
    """The transfer was cancelled (Home Assistant stopping) before the provider answered."""

    code = "cancelled"


@contextmanager
def refusal_names_option(
    option: str, *refusals: type[CallTransferError]
) -> Iterator[None]:
    """Read the given refusals of a request that checks ``option`` as refusing it."""
    try:
        yield
    except refusals as err:
        raise InvalidOptionError(
            err.message, option=option, status=err.status, request_id=err.request_id
        ) from err


@contextmanager
def forbidden_is_invalid_auth() -> Iterator[None]:
    """Read a refusal (HTTP 403) of a credential check as unusable credentials."""
    try:
        yield
    except ForbiddenError as err:
        raise InvalidAuthError(
            err.message, status=err.status, request_id=err.request_id
        ) from err
