"""Vobiz: transfers redirect a call leg to a URL that answers Vobiz XML."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import aiohttp

from .base import TransferProvider
from .callxml import dial_xml
from .errors import (
    CallNotFoundError,
    ForbiddenError,
    InvalidAuthError,
    InvalidRequestError,
    UnexpectedResponseError,
)
from .http import DEFAULT_TIMEOUT, ApiResponse, HttpClient, error_for_response
from .models import (
    AccountInfo,
    CredentialField,
    LiveCall,
    NumberTransfer,
    OptionField,
    OptionKind,
    TransferLegs,
    TransferRequest,
    TransferResult,
)
from .validation import path_segment, require_http_url, text_or_none

VOBIZ_API_URL: Final = "https://api.vobiz.ai/api/v1"
# Non-secret facts from GET /auth/me worth showing; never the whole object (it holds auth_secret).
_ACCOUNT_DETAILS: Final = (
    "is_active",
    "enabled",
    "concurrent_calls_limit",
    "cps_limit",
)


class VobizClient(TransferProvider):
    """Client for the Vobiz voice API."""

    provider_id = "vobiz"
    display_name = "Vobiz"
    default_base_url = VOBIZ_API_URL
    credential_fields = (
        CredentialField(key="auth_id", secret=False),
        CredentialField(key="auth_token", secret=True),
    )
    option_fields = (
        OptionField(key="caller_id", kind=OptionKind.PHONE_NUMBER),
        OptionField(key="announcement", kind=OptionKind.TEXT, max_length=500),
        OptionField(
            key="ring_timeout", kind=OptionKind.SECONDS, minimum=5, maximum=120
        ),
    )
    number_transfer = NumberTransfer.DIAL_URL
    supports_xml_urls = True

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        auth_id: str,
        auth_token: str,
        caller_id: str | None = None,
        announcement: str | None = None,
        ring_timeout: int | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Create a client for one Vobiz account, with how its number transfers dial."""
        try:
            self._account_path = f"/Account/{path_segment(auth_id, 'auth ID')}"
        except InvalidRequestError as err:
            raise InvalidAuthError(err.message) from err
        self.auth_id = auth_id
        self._caller_id = caller_id
        self._announcement = announcement
        self._ring_timeout = ring_timeout
        self._http = HttpClient(
            session,
            base_url or VOBIZ_API_URL,
            {"X-Auth-ID": auth_id, "X-Auth-Token": auth_token},
            secrets=(auth_token,),
            timeout=timeout,
        )

    async def async_validate(self) -> AccountInfo:
        """Check the credentials with ``GET /auth/me``."""
        try:
            account = await self._request_object("GET", "/auth/me")
        except ForbiddenError as err:
            raise InvalidAuthError(
                err.message, status=err.status, request_id=err.request_id
            ) from err
        name = account.get("name")
        return AccountInfo(
            account_id=text_or_none(account.get("auth_id")) or self.auth_id,
            name=name if isinstance(name, str) and name else self.auth_id,
            details={
                key: _scalar(account.get(key))
                for key in _ACCOUNT_DETAILS
                if key in account
            },
        )

    async def async_transfer(self, request: TransferRequest) -> TransferResult:
        """Redirect the chosen leg(s) of a live call to their XML URL(s)."""
        call_path = self._call_path(request.call_id)
        body = _transfer_body(request)
        answer = await self._request_object(
            "POST", call_path, json_body=body, acts=True
        )
        message = answer.get("message")
        if not isinstance(message, str):
            raise UnexpectedResponseError(
                "Vobiz accepted the transfer but sent no message",
                request_id=_request_id(answer),
                outcome_unknown=True,
            )
        return TransferResult(
            call_id=request.call_id, message=message, request_id=_request_id(answer)
        )

    async def async_live_calls(
        self, known: Mapping[str, LiveCall] | None = None
    ) -> list[LiveCall]:
        """List live calls: their ids, then the details of each call not ``known``."""
        known = known or {}
        listing = await self._request_object(
            "GET", f"{self._account_path}/Call/", params={"status": "live"}
        )
        call_ids = listing.get("calls")
        if not isinstance(call_ids, list) or not all(
            isinstance(i, str) for i in call_ids
        ):
            raise UnexpectedResponseError(
                "Vobiz sent a live-call list of an unexpected shape",
                request_id=_request_id(listing),
            )
        fetched = await asyncio.gather(
            *(self._live_call(call_id) for call_id in call_ids if call_id not in known)
        )
        new = {call.call_id: call for call in fetched if call is not None}
        return [
            call
            for call_id in call_ids
            if (call := known.get(call_id) or new.get(call_id)) is not None
        ]

    def dial_xml(self, number: str) -> str:
        """Return Vobiz XML that dials ``number`` with this account's dial options."""
        return dial_xml(
            number,
            caller_id=self._caller_id,
            announcement=self._announcement,
            ring_timeout=self._ring_timeout,
        )

    async def _live_call(self, call_id: str) -> LiveCall | None:
        try:
            details = await self._request_object(
                "GET", self._call_path(call_id), params={"status": "live"}
            )
        except CallNotFoundError:
            return None  # it ended between the listing and this request
        return LiveCall(
            call_id=call_id,
            from_number=text_or_none(details.get("from")),
            to_number=text_or_none(details.get("to")),
            started=_parse_session_start(details.get("session_start")),
            status=text_or_none(details.get("call_status")),
            direction=text_or_none(details.get("direction")),
        )

    def _call_path(self, call_id: str) -> str:
        return f"{self._account_path}/Call/{path_segment(call_id, 'call ID')}/"

    async def _request_object(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        acts: bool = False,
    ) -> dict[str, Any]:
        response = await self._http.request(
            method, path, json_body=json_body, params=params, acts=acts
        )
        data = response.json()
        request_id = _request_id(data) or response.headers.get("X-Request-Id")
        if not 200 <= response.status < 300:
            raise error_for_response(
                response,
                message=self._error_message(response, data),
                request_id=request_id,
                acts=acts,
            )
        if not isinstance(data, dict):
            raise UnexpectedResponseError(
                f"Vobiz answered HTTP {response.status} with {response.describe_body()}",
                status=response.status,
                request_id=request_id,
                outcome_unknown=acts,
            )
        return data

    def _error_message(self, response: ApiResponse, data: Any) -> str | None:
        """Return the message from any of Vobiz's documented error envelopes."""
        if not isinstance(data, dict):
            return None
        error = data.get("error")
        if isinstance(error, dict):
            error = error.get("message") or error.get("code")
        message = data.get("message")
        text = next((t for t in (message, error) if isinstance(t, str) and t), None)
        return self._http.scrub(text) if text else None


def _transfer_body(request: TransferRequest) -> dict[str, str]:
    """Build the documented transfer body, validated so a bad request is never sent."""
    if request.to is not None:
        raise InvalidRequestError(
            "Vobiz transfers redirect a call leg to an XML URL; a destination number is not supported"
        )
    body: dict[str, str] = {"legs": request.legs.value}
    legs = request.legs
    for leg, url, method in (
        ("aleg", request.aleg_url, request.aleg_method),
        ("bleg", request.bleg_url, request.bleg_method),
    ):
        needed = legs in (TransferLegs(leg), TransferLegs.BOTH)
        if needed and url is None:
            raise InvalidRequestError(f"Transferring legs={legs.value} needs {leg}_url")
        if url is not None:
            body[f"{leg}_url"] = require_http_url(url, f"{leg}_url")
            body[f"{leg}_method"] = method.value
    return body


def _request_id(data: Any) -> str | None:
    if isinstance(data, dict):
        for key in ("api_id", "requestId", "request_uuid"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def _scalar(value: Any) -> str | int | float | bool | None:
    return value if isinstance(value, str | int | float | bool) else None


def _parse_session_start(value: Any) -> datetime | None:
    """Vobiz gives ``YYYY-MM-DD HH:MM:SS`` without a zone; it is read as UTC."""
    if not isinstance(value, str):
        return None
    try:
        started = datetime.fromisoformat(value)
    except ValueError:
        return None
    return started if started.tzinfo else started.replace(tzinfo=UTC)
