"""Bland AI: transfers send an active call to a phone number.

Push: the post-call webhooks Bland sends when a call completes (``bland_callbacks``),
signed with the account's webhook signing secret (an option). Bland's API sets a
number's webhook only with the rest of its agent's settings (``POST /v1/inbound/{number}``
requires ``prompt``, and setting a pathway resets others), so the URL is pasted by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any, Final

import aiohttp

from .base import TransferProvider, accepted_transfer, key_fingerprint
from .bland_callbacks import SIGNATURE_NAME, check_signature, read_events
from .callbacks import (
    CallbackRequest,
    PushCapabilities,
    ReplayGuard,
    VerifiedCallback,
    configured,
)
from .capabilities import TransferCapabilities
from .errors import (
    CallNotFoundError,
    CallTransferError,
    ForbiddenError,
    InvalidAuthError,
    InvalidRequestError,
    UnexpectedResponseError,
    forbidden_is_invalid_auth,
    refusal_names_option,
)
from .http import (
    DEFAULT_TIMEOUT,
    ApiResponse,
    HttpClient,
    error_for_code,
    error_for_response,
)
from .models import (
    AccountInfo,
    CredentialField,
    LiveCall,
    NumberTransfer,
    OptionField,
    OptionKind,
    TransferRequest,
    TransferResult,
)
from .validation import require_call_id, require_e164, text_or_none

BLAND_API_URL: Final = "https://api.bland.ai"
# Bland error codes that say more than their HTTP status.
_ERROR_CODES: Final[Mapping[str, type[CallTransferError]]] = {
    "VALIDATION_ERROR": InvalidRequestError,
    "NOT_FOUND": CallNotFoundError,
    "FORBIDDEN": ForbiddenError,
    "UNAUTHORIZED": InvalidAuthError,
}
_REQUEST_ID_HEADER: Final = "x-request-id"
# The option holding the account's webhook signing secret, which verifies webhooks.
SIGNING_SECRET: Final = "webhook_signing_secret"


class BlandClient(TransferProvider):
    """Client for the Bland AI API."""

    provider_id = "bland"
    display_name = "Bland AI"
    default_base_url = BLAND_API_URL
    credential_fields = (CredentialField(key="api_key", secret=True),)
    option_fields = (
        OptionField(key="org_id", kind=OptionKind.IDENTIFIER),
        # The account's webhook signing secret: it verifies the webhooks' signatures.
        OptionField(key=SIGNING_SECRET, kind=OptionKind.SECRET),
    )
    # Post-call webhooks report calls ending (a call never seen starts first); Bland
    # documents none about calls starting, and no API sets only the webhook URL.
    push = PushCapabilities(verification_option=SIGNING_SECRET)
    capabilities = TransferCapabilities(number_transfer=NumberTransfer.IN_REQUEST)
    account_id_is_key_fingerprint = True

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_key: str,
        org_id: str | None = None,
        webhook_signing_secret: str | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Create a client for one Bland API key (``org_id`` is needed to list calls).

        ``webhook_signing_secret`` verifies the webhooks; without it, every webhook is
        refused as not verifiable.
        """
        self.fingerprint = key_fingerprint(self.provider_id, api_key)
        self._org_id = org_id
        self._signing_secret = webhook_signing_secret or None
        self._http = HttpClient(
            session,
            base_url or BLAND_API_URL,
            {"authorization": api_key},
            secrets=(api_key,),
            timeout=timeout,
        )
        # Every request: a JSON object back, or the provider's error in either of its
        # envelopes (Bland refuses some requests with a 200 and an error envelope).
        self._request_object = partial(
            self._http.request_object,
            provider=self.display_name,
            request_id_header=_REQUEST_ID_HEADER,
            read_error=self._error,
            read_refusal=self._refusal,
        )

    async def async_validate(self) -> AccountInfo:
        """Check the key with ``GET /v1/me``."""
        with forbidden_is_invalid_auth():
            account, _ = await self._request_object("GET", "/v1/me")
        if "status" not in account:
            raise UnexpectedResponseError("Bland sent an account without a status")
        details: dict[str, str | int | float | bool | None] = {
            key: value
            for key in ("status", "total_calls")
            if isinstance(value := account.get(key), str | int)
        }
        return AccountInfo(
            account_id=self.fingerprint,
            name=f"key …{self.fingerprint[:8]}",
            details=details,
        )

    @property
    def supports_live_calls(self) -> bool:
        """Bland lists active calls only for a known organization (``org_id``)."""
        return self._org_id is not None

    async def async_validate_options(self) -> None:
        """Check the organization id with the request live calls need."""
        if self._org_id is None:
            return
        with refusal_names_option("org_id", ForbiddenError):
            await self.async_live_calls()

    async def async_transfer(self, request: TransferRequest) -> TransferResult:
        """Transfer an active call to ``request.to`` (E.164)."""
        if request.names_xml_urls:
            raise InvalidRequestError(
                "Bland AI transfers to a phone number; legs and leg URLs are not supported"
            )
        body = {
            "call_id": require_call_id(request.call_id),
            "transfer_number": require_e164(request.to, "to"),
        }
        answer, request_id = await self._request_object(
            "POST", "/v1/calls/active/transfer", json_body=body, acts=True
        )
        data = answer.get("data")
        message = data.get("message") if isinstance(data, dict) else None
        return accepted_transfer(
            request.call_id,
            message if isinstance(message, str) else None,
            request_id,
            unreadable="Bland accepted the transfer but sent no message",
        )

    async def async_live_calls(
        self, known: Mapping[str, LiveCall] | None = None
    ) -> list[LiveCall]:
        """List active calls (``GET /v1/calls/active``); the listing has every detail."""
        headers = {"x-bland-org-id": self._org_id} if self._org_id else None
        answer, _ = await self._request_object(
            "GET", "/v1/calls/active", headers=headers
        )
        calls = answer.get("data")
        if not isinstance(calls, list) or not all(isinstance(c, dict) for c in calls):
            raise UnexpectedResponseError(
                "Bland sent an active-call list of an unexpected shape"
            )
        return [
            LiveCall(
                call_id=str(call.get("call_id")),
                from_number=text_or_none(call.get("from")),
                to_number=text_or_none(call.get("to")),
                started=_parse_time(call.get("start_time")),
                status=text_or_none(call.get("status")),
            )
            for call in calls
            if call.get("call_id")
        ]

    def verify_callback(
        self, request: CallbackRequest, replay_guard: ReplayGuard
    ) -> VerifiedCallback:
        """Verify the webhook's HMAC-SHA256 over its body, then read it (an end, once)."""
        check_signature(
            request,
            configured(
                self._signing_secret,
                "No Bland webhook signing secret is set to verify webhooks with",
            ),
        )
        return VerifiedCallback(
            events=read_events(request, replay_guard),
            signature=SIGNATURE_NAME,
            body_signed=True,
        )

    def _error(
        self, response: ApiResponse, request_id: str | None, acts: bool
    ) -> CallTransferError:
        """Map an error answer by its envelope's code, then by status."""
        if (envelope := _error_envelope(response)) is None:
            return error_for_response(
                response, message=None, request_id=request_id, acts=acts
            )
        code, message = envelope
        return error_for_code(
            _ERROR_CODES, code, response, message=message, request_id=request_id
        ) or error_for_response(
            response, message=message, request_id=request_id, acts=acts
        )

    def _refusal(
        self, response: ApiResponse, request_id: str | None
    ) -> CallTransferError | None:
        """Read a 2xx with an error envelope as its code's error, else as invalid."""
        if (envelope := _error_envelope(response)) is None:
            return None
        code, message = envelope
        return error_for_code(
            _ERROR_CODES, code, response, message=message, request_id=request_id
        ) or InvalidRequestError(message, status=response.status, request_id=request_id)


def _error_envelope(response: ApiResponse) -> tuple[str | None, str] | None:
    """Return the code and message of either Bland error envelope, if the answer is one.

    ``{"errors": [{"error": CODE, "message"}]}``, or ``{"status": "error", "message"}``.
    """
    data = response.json()
    if not isinstance(data, dict):
        return None
    code: str | None = None
    message: str | None = None
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        first = errors[0] if isinstance(errors[0], dict) else {}
        code = text_or_none(first.get("error"))
        message = text_or_none(first.get("message"))
    elif data.get("status") == "error":
        message = text_or_none(data.get("message"))
    else:
        return None
    return code, message or code or f"HTTP {response.status}"


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
