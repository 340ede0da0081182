"""Telnyx: a Call Control transfer sends the call to a number or a SIP URI.

Push: the Call Control application's webhooks (``telnyx_callbacks``) report calls
starting, answered and ending; a transfer given a report URL (its ``webhook_url``,
developers.telnyx.com ``api-reference/call-commands/transfer-call``) has its new leg's
events sent there. Registration sets the application's ``webhook_event_url`` (``PATCH
/call_control_applications/{id}``, which requires ``application_name`` and
``webhook_event_url``: ``api-reference/call-control-applications/update-a-call-control-
application``), webhooks in API v2's format, and writes back what was there when undone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Final

import aiohttp

from .base import TransferProvider, accepted_transfer, key_fingerprint
from .callbacks import (
    CallbackRequest,
    PushCapabilities,
    RegisteredCallback,
    ReplayGuard,
    VerifiedCallback,
    configured,
)
from .capabilities import TransferCapabilities
from .ed25519 import decode_public_key
from .errors import (
    CallNotFoundError,
    CallTransferError,
    ForbiddenError,
    InvalidAuthError,
    InvalidOptionError,
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
from .telnyx_callbacks import SIGNATURE_NAME, check_signature, read_events
from .validation import (
    is_sip_uri,
    path_segment,
    require_e164,
    require_http_url,
    require_sip_uri,
    text_or_none,
)

TELNYX_API_URL: Final = "https://api.telnyx.com/v2"
# Telnyx error codes that say more than their HTTP status.
_ERROR_CODES: Final[Mapping[str, type[CallTransferError]]] = {
    "90018": CallNotFoundError,  # Call has already ended
    "10005": CallNotFoundError,  # Resource not found
    "10009": InvalidAuthError,  # Authentication failed
    "10010": ForbiddenError,  # Authorization failed
}
HTTP_UNPROCESSABLE: Final = 422  # Telnyx's status for invalid parameters
_REQUEST_ID_HEADER: Final = "x-request-id"
# Active calls per page, and pages read at most.
LIST_PAGE_SIZE: Final = 100
MAX_LIST_PAGES: Final = 10
# The option naming the Call Control application: its calls are listed, and push
# registration sets its webhook URL.
CONNECTION_ID: Final = "connection_id"
# The option holding the account's public key that verifies webhooks.
PUBLIC_KEY: Final = "webhook_public_key"
# The application fields a push registration sets, and writes back when undone.
_WEBHOOK_FIELDS: Final = ("webhook_event_url", "webhook_api_version")


class TelnyxClient(TransferProvider):
    """Client for Telnyx's Call Control API (v2)."""

    provider_id = "telnyx"
    display_name = "Telnyx"
    default_base_url = TELNYX_API_URL
    credential_fields = (CredentialField(key="api_key", secret=True),)
    option_fields = (
        # The Call Control application (connection) whose active calls are listed.
        OptionField(key=CONNECTION_ID, kind=OptionKind.IDENTIFIER),
        # The transfer's ``from``: the caller id the destination sees.
        OptionField(key="caller_id", kind=OptionKind.PHONE_NUMBER),
        # The transfer's ``timeout_secs``: how long the destination may ring.
        OptionField(
            key="ring_timeout", kind=OptionKind.SECONDS, minimum=5, maximum=600
        ),
        # The account's public key (base64), which verifies its webhooks' signatures.
        OptionField(key=PUBLIC_KEY, kind=OptionKind.PUBLIC_KEY),
    )
    # Webhooks report calls starting, answered and ending, and a transfer's new leg;
    # the application's webhook URL can be set. Accepted ones are answered 200, empty.
    push = PushCapabilities(
        reports_call_starts=True,
        reports_transfer_outcomes=True,
        registration_option=CONNECTION_ID,
        verification_option=PUBLIC_KEY,
    )
    capabilities = TransferCapabilities(
        number_transfer=NumberTransfer.IN_REQUEST, sip_destinations=True
    )
    account_id_is_key_fingerprint = True

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_key: str,
        connection_id: str | None = None,
        caller_id: str | None = None,
        ring_timeout: int | None = None,
        webhook_public_key: str | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Create a client for one API key (``connection_id`` is needed to list calls).

        ``webhook_public_key`` (base64) verifies the webhooks; without a valid one,
        every webhook is refused as not verifiable.
        """
        self.fingerprint = key_fingerprint(self.provider_id, api_key)
        self._connection_id = connection_id
        self._public_key = decode_public_key(webhook_public_key)
        self._dial: dict[str, str | int] = {}
        if caller_id is not None:
            self._dial["from"] = caller_id
        if ring_timeout is not None:
            self._dial["timeout_secs"] = int(ring_timeout)
        self._http = HttpClient(
            session,
            base_url or TELNYX_API_URL,
            {"Authorization": f"Bearer {api_key}"},
            secrets=(api_key,),
            timeout=timeout,
        )
        # Every request: a JSON object back, or the provider's error read by _error.
        self._request_object = partial(
            self._http.request_object,
            provider=self.display_name,
            request_id_header=_REQUEST_ID_HEADER,
            read_error=self._error,
        )

    @property
    def supports_live_calls(self) -> bool:
        """Telnyx lists active calls per connection: only with ``connection_id``."""
        return self._connection_id is not None

    async def async_validate(self) -> AccountInfo:
        """Check the key with ``GET /balance``, the cheapest authenticated read."""
        with forbidden_is_invalid_auth():
            answer, _ = await self._request_object("GET", "/balance")
        balance = answer.get("data")
        if not isinstance(balance, dict):
            raise UnexpectedResponseError(
                "Telnyx sent a balance of an unexpected shape"
            )
        return AccountInfo(
            account_id=self.fingerprint,
            name=f"key …{self.fingerprint[:8]}",
            details={
                key: value
                for key in ("currency",)
                if isinstance(value := balance.get(key), str)
            },
        )

    async def async_validate_options(self) -> None:
        """Check the connection id with the request live calls need."""
        if self._connection_id is None:
            return
        with refusal_names_option(
            "connection_id", CallNotFoundError, ForbiddenError, InvalidRequestError
        ):
            await self.async_live_calls()

    async def async_transfer(self, request: TransferRequest) -> TransferResult:
        """Transfer the call to ``request.to``: an E.164 number or a SIP URI."""
        if request.names_xml_urls:
            raise InvalidRequestError(
                "Telnyx transfers to a number or SIP URI; legs and leg URLs are not supported"
            )
        to = request.to or ""
        body: dict[str, str | int] = {
            "to": require_sip_uri(to, "to")
            if is_sip_uri(to)
            else require_e164(to, "to"),
            **self._dial,
        }
        if request.report_url is not None:
            # The new leg's webhooks go there (its answer, or its hangup and why).
            body |= {
                "webhook_url": require_http_url(request.report_url, "report_url"),
                "webhook_url_method": "POST",
            }
        answer, request_id = await self._request_object(
            "POST",
            f"/calls/{path_segment(request.call_id, 'call control ID')}/actions/transfer",
            json_body=body,
            acts=True,
        )
        data = answer.get("data")
        result = text_or_none(data.get("result")) if isinstance(data, dict) else None
        return accepted_transfer(
            request.call_id,
            f"transfer started, result {result}" if result else None,
            request_id,
            unreadable="Telnyx accepted the transfer but sent no result",
        )

    async def async_live_calls(
        self, known: Mapping[str, LiveCall] | None = None
    ) -> list[LiveCall]:
        """List the connection's active calls, page by page.

        The listing gives ids and durations only: a call seen before keeps its
        details (its start time does not move with each listing).
        """
        if self._connection_id is None:
            raise InvalidRequestError(
                "Telnyx lists active calls per connection: set the connection ID"
            )
        known = known or {}
        path = (
            f"/connections/{path_segment(self._connection_id, 'connection ID')}"
            "/active_calls"
        )
        now = datetime.now(UTC)
        calls: list[LiveCall] = []
        for page_number in range(1, MAX_LIST_PAGES + 1):
            page, _ = await self._request_object(
                "GET",
                path,
                params={
                    "page[number]": str(page_number),
                    "page[size]": str(LIST_PAGE_SIZE),
                },
            )
            items = page.get("data")
            if not isinstance(items, list) or not all(
                isinstance(item, dict) for item in items
            ):
                raise UnexpectedResponseError(
                    "Telnyx sent an active-call list of an unexpected shape"
                )
            calls += [
                known.get(call_id) or _live_call(call_id, item, now)
                for item in items
                if (call_id := text_or_none(item.get("call_control_id")))
            ]
            meta = page.get("meta")
            total_pages = meta.get("total_pages") if isinstance(meta, dict) else None
            if not isinstance(total_pages, int) or page_number >= total_pages:
                break
        return calls

    def verify_callback(
        self, request: CallbackRequest, replay_guard: ReplayGuard
    ) -> VerifiedCallback:
        """Verify the Ed25519 signature and timestamp, then read the event once."""
        check_signature(
            request,
            configured(
                self._public_key, "No Telnyx public key is set to verify webhooks with"
            ),
        )
        return VerifiedCallback(
            events=read_events(request, replay_guard),
            signature=SIGNATURE_NAME,
            body_signed=True,
        )

    async def async_register_callback_url(self, url: str) -> RegisteredCallback:
        """Set the application's webhook URL (API v2 webhooks); return what was there."""
        connection_id = self._require_connection_id()
        path = self._application_path(connection_id)
        with refusal_names_option(
            CONNECTION_ID, CallNotFoundError, ForbiddenError, InvalidRequestError
        ):
            application = await self._application(path)
        previous = {
            name: text_or_none(application.get(name)) or "" for name in _WEBHOOK_FIELDS
        }
        await self._request_object(
            "PATCH",
            path,
            json_body={
                "application_name": text_or_none(application.get("application_name"))
                or connection_id,
                "webhook_event_url": url,
                "webhook_api_version": "2",
            },
        )
        return RegisteredCallback(target=connection_id, url=url, previous=previous)

    async def async_restore_callback_url(self, registered: RegisteredCallback) -> None:
        """Write the application's webhook URL and API version back as they were."""
        path = self._application_path(registered.target)
        application = await self._application(path)
        body: dict[str, str] = {
            "application_name": text_or_none(application.get("application_name"))
            or registered.target,
            "webhook_event_url": registered.previous.get("webhook_event_url", ""),
        }
        if version := registered.previous.get("webhook_api_version"):
            body["webhook_api_version"] = version
        await self._request_object("PATCH", path, json_body=body)

    async def _application(self, path: str) -> Mapping[str, Any]:
        answer, _ = await self._request_object("GET", path)
        application = answer.get("data")
        if not isinstance(application, dict):
            raise UnexpectedResponseError(
                "Telnyx sent a Call Control application of an unexpected shape"
            )
        return application

    def _require_connection_id(self) -> str:
        if self._connection_id is None:
            raise InvalidOptionError(
                "Name the Telnyx Call Control application whose webhook URL to set",
                option=CONNECTION_ID,
            )
        return self._connection_id

    @staticmethod
    def _application_path(connection_id: str) -> str:
        return (
            f"/call_control_applications/{path_segment(connection_id, 'connection ID')}"
        )

    def _error(
        self, response: ApiResponse, request_id: str | None, acts: bool
    ) -> CallTransferError:
        """Map ``{"errors": [{code, title, detail}]}`` by its code, then by status."""
        data = response.json()
        errors = data.get("errors") if isinstance(data, dict) else None
        first = errors[0] if isinstance(errors, list) and errors else None
        error = first if isinstance(first, dict) else {}
        code = text_or_none(error.get("code"))
        text = text_or_none(error.get("detail")) or text_or_none(error.get("title"))
        message = None
        if text is not None or code is not None:
            message = " ".join(
                part
                for part in (text, f"(Telnyx error {code})" if code else None)
                if part
            )
        if mapped := error_for_code(
            _ERROR_CODES,
            code,
            response,
            message=message or str(code),
            request_id=request_id,
        ):
            return mapped
        if response.status == HTTP_UNPROCESSABLE:
            return InvalidRequestError(
                message or "HTTP 422", status=response.status, request_id=request_id
            )
        return error_for_response(
            response, message=message, request_id=request_id, acts=acts
        )


def _live_call(call_id: str, item: Mapping[str, Any], now: datetime) -> LiveCall:
    """Read an active call as listed: it started its duration in seconds ago."""
    duration = item.get("call_duration")
    started = (
        (now - timedelta(seconds=duration)).replace(microsecond=0)
        if isinstance(duration, int) and not isinstance(duration, bool)
        else None
    )
    return LiveCall(call_id=call_id, from_number=None, to_number=None, started=started)
