"""Bland AI: transfers send an active call to a phone number."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import aiohttp

from .base import TransferProvider, key_fingerprint as _key_fingerprint
from .errors import (
    CallNotFoundError,
    CallTransferError,
    ForbiddenError,
    InvalidAuthError,
    InvalidOptionError,
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
from .validation import require_call_id, require_e164, text_or_none

BLAND_API_URL: Final = "https://api.bland.ai"
_ERROR_CODES: Final[Mapping[str, type[CallTransferError]]] = {
    "VALIDATION_ERROR": InvalidRequestError,
    "NOT_FOUND": CallNotFoundError,
    "FORBIDDEN": ForbiddenError,
    "UNAUTHORIZED": InvalidAuthError,
}


def key_fingerprint(api_key: str) -> str:
    """Return a stable, non-reversible id for an API key (Bland's API gives no account id)."""
    return _key_fingerprint(BlandClient.provider_id, api_key)


class BlandClient(TransferProvider):
    """Client for the Bland AI API."""

    provider_id = "bland"
    display_name = "Bland AI"
    default_base_url = BLAND_API_URL
    credential_fields = (CredentialField(key="api_key", secret=True),)
    option_fields = (OptionField(key="org_id", kind=OptionKind.IDENTIFIER),)
    number_transfer = NumberTransfer.IN_REQUEST
    supports_xml_urls = False
    account_id_is_key_fingerprint = True

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_key: str,
        org_id: str | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Create a client for one Bland API key (``org_id`` is needed to list calls)."""
        self.fingerprint = key_fingerprint(api_key)
        self._org_id = org_id
        self._http = HttpClient(
            session,
            base_url or BLAND_API_URL,
            {"authorization": api_key},
            secrets=(api_key,),
            timeout=timeout,
        )

    async def async_validate(self) -> AccountInfo:
        """Check the key with ``GET /v1/me``."""
        try:
            account, _ = await self._request_object("GET", "/v1/me")
        except ForbiddenError as err:
            raise InvalidAuthError(
                err.message, status=err.status, request_id=err.request_id
            ) from err
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
        try:
            await self.async_live_calls()
        except ForbiddenError as err:
            raise InvalidOptionError(
                err.message,
                option="org_id",
                status=err.status,
                request_id=err.request_id,
            ) from err

    async def async_transfer(self, request: TransferRequest) -> TransferResult:
        """Transfer an active call to ``request.to`` (E.164)."""
        if (
            request.aleg_url
            or request.bleg_url
            or request.legs is not TransferLegs.ALEG
        ):
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
        if not isinstance(message, str):
            raise UnexpectedResponseError(
                "Bland accepted the transfer but sent no message",
                request_id=request_id,
                outcome_unknown=True,
            )
        return TransferResult(
            call_id=request.call_id, message=message, request_id=request_id
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

    async def _request_object(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        acts: bool = False,
    ) -> tuple[dict[str, Any], str | None]:
        response = await self._http.request(
            method, path, json_body=json_body, headers=headers, acts=acts
        )
        data = response.json()
        request_id = response.header("x-request-id")
        if error := self._envelope_error(response, data, request_id, acts=acts):
            raise error
        if not 200 <= response.status < 300:
            raise error_for_response(
                response, message=None, request_id=request_id, acts=acts
            )
        if not isinstance(data, dict):
            raise UnexpectedResponseError(
                f"Bland answered HTTP {response.status} with {response.describe_body()}",
                status=response.status,
                request_id=request_id,
                outcome_unknown=acts,
            )
        return data, request_id

    def _envelope_error(
        self, response: ApiResponse, data: Any, request_id: str | None, *, acts: bool
    ) -> CallTransferError | None:
        """Return the error in either Bland envelope, mapped by its code, then by status."""
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
        message = message or code or f"HTTP {response.status}"
        if code is not None and (error_class := _ERROR_CODES.get(code)):
            return error_class(message, status=response.status, request_id=request_id)
        if 200 <= response.status < 300:
            return InvalidRequestError(
                message, status=response.status, request_id=request_id
            )
        return error_for_response(
            response, message=message, request_id=request_id, acts=acts
        )


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
