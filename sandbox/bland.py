"""The Bland AI API (``https://api.bland.ai``), as documented.

Errors use the ``{"data": null, "errors": [{"error", "message"}]}`` envelope with the
documented codes (400 VALIDATION_ERROR, 401 UNAUTHORIZED, 403 FORBIDDEN, 404 NOT_FOUND),
and every response generated here carries an ``x-request-id`` header. Beyond the docs,
and on purpose strict: a transfer with a parameter Bland does not document answers 400.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from http import HTTPStatus
import re
from typing import Any, Final
import uuid

from aiohttp import web

from .api import (
    ApiRequest,
    BadRequestError,
    ProviderApi,
    Route,
    refuse_unknown_fields,
    require_object,
)
from .state import BlandAccount, CallStatus, SandboxCall

TRANSFER_FIELDS: Final = frozenset({"call_id", "transfer_number"})
E164: Final = re.compile(r"\+[1-9]\d{6,14}")
# Bland parses numbers against the US region: ten digits are a US number (NANP: the
# area code does not start with 0 or 1).
US_NATIONAL: Final = re.compile(r"[2-9]\d{9}")
FORBIDDEN_MESSAGE: Final = (
    "Transfer blocked by international restrictions for your account type."
)
_CALL_IN_PATH: Final = re.compile(r"/v1/calls/(?P<call_id>[^/]+)")
_ACTIVE_STATUS: Final[Mapping[CallStatus, str]] = {
    CallStatus.QUEUED: "QUEUED",
    CallStatus.IN_PROGRESS: "IN_PROGRESS",
}
_QUEUE_STATUS: Final[Mapping[CallStatus, str]] = {
    CallStatus.QUEUED: "queued",
    CallStatus.IN_PROGRESS: "started",
    CallStatus.COMPLETED: "complete",
}


class BlandApi(ProviderApi[BlandAccount]):
    """Bland AI: the raw API key in the ``authorization`` header."""

    name = "bland"
    prefix = "/bland"
    unauthorized_message = "Missing or invalid API key in the authorization header"

    def build_routes(self) -> Sequence[Route[BlandAccount]]:
        """Return the documented paths; the fixed ``active`` ones before the call id one."""
        return (
            Route(re.compile(r"/v1/me"), {"GET": self._me}),
            Route(re.compile(r"/v1/calls/active"), {"GET": self._active_calls}),
            Route(re.compile(r"/v1/calls/active/transfer"), {"POST": self._transfer}),
            Route(re.compile(r"/v1/calls/(?P<call_id>[^/]+)"), {"GET": self._call}),
        )

    def authenticate(self, request: ApiRequest) -> BlandAccount | None:
        """Accept the header only when it is exactly a known key (no ``Bearer`` prefix)."""
        return self.state.bland_accounts.get(request.headers.get("authorization", ""))

    def account_key(self, account: BlandAccount) -> str:
        """Faults name a Bland account by its API key."""
        return account.api_key

    def call_id_of(self, request: ApiRequest) -> str | None:
        """Return the call id in the path, or in a transfer's body."""
        named = _CALL_IN_PATH.fullmatch(request.path)
        if named is not None and named["call_id"] != "active":
            return named["call_id"]
        body = request.json
        call_id = body.get("call_id") if isinstance(body, dict) else None
        return call_id if isinstance(call_id, str) else None

    def error_body(self, status: int, message: str) -> Any:
        """Bland's ``{"data": null, "errors": [...]}`` envelope."""
        if status == HTTPStatus.BAD_REQUEST:
            code = "VALIDATION_ERROR"
        else:  # a status Python does not name (520, 599) as a generic error
            code = HTTPStatus(status).name if status in HTTPStatus else "ERROR"
        return {"data": None, "errors": [{"error": code, "message": message}]}

    def finish(self, response: web.Response) -> web.Response:
        """Every Bland response names its request."""
        response.headers["x-request-id"] = str(uuid.uuid4())
        return response

    def _me(
        self, request: ApiRequest, account: BlandAccount, params: dict[str, str]
    ) -> web.Response:
        return self.ok(
            {
                "status": account.status,
                "billing": account.billing,
                "total_calls": account.total_calls,
            }
        )

    def _transfer(
        self, request: ApiRequest, account: BlandAccount, params: dict[str, str]
    ) -> web.Response:
        body = require_object(request)
        refuse_unknown_fields(body, TRANSFER_FIELDS)
        call_id = body.get("call_id")
        if not isinstance(call_id, str) or not call_id:
            raise BadRequestError("Call ID is required")
        number = parse_transfer_number(body.get("transfer_number"))
        call = self.state.live_call("bland", account.api_key, call_id)
        if call is None:
            return self.error(
                HTTPStatus.NOT_FOUND,
                f"Call with id {call_id} not found or has already been completed.",
            )
        if any(number.startswith(prefix) for prefix in account.blocked_prefixes):
            return self.error(HTTPStatus.FORBIDDEN, FORBIDDEN_MESSAGE)
        call.transfers.append({"transfer_number": number})
        call.transferred_to = number
        message = f"Call {call_id} transferred to {number} successfully"
        return self.ok({"data": {"message": message}, "errors": None})

    def _active_calls(
        self, request: ApiRequest, account: BlandAccount, params: dict[str, str]
    ) -> web.Response:
        if request.headers.get("x-bland-org-id") != account.org_id:
            return self.error(
                HTTPStatus.FORBIDDEN,
                "The x-bland-org-id header is missing or names another organization",
            )
        calls = self.state.account_calls("bland", account.api_key)
        return self.ok(
            {
                "data": [
                    _active_call(call)
                    for call in self.state.listed(
                        [c for c in calls if c.status is not CallStatus.COMPLETED]
                    )
                ],
                "errors": None,
            }
        )

    def _call(
        self, request: ApiRequest, account: BlandAccount, params: dict[str, str]
    ) -> web.Response:
        call_id = params["call_id"]
        call = self.state.account_call("bland", account.api_key, call_id)
        if call is None:
            return self.error(
                HTTPStatus.NOT_FOUND, f"Call with id {call_id} not found."
            )
        return self.ok(
            {
                "call_id": call.call_id,
                "queue_status": _QUEUE_STATUS[call.status],
                "status": call.status.value,
                "completed": call.status is CallStatus.COMPLETED,
                "transferred_to": call.transferred_to,
                "from": call.from_number,
                "to": call.to_number,
            }
        )


def parse_transfer_number(value: Any) -> str:
    """Return the destination in E.164, reading ten digits as a US number."""
    if value is None or value == "":
        raise BadRequestError("Transfer number is required")
    if isinstance(value, str):
        if E164.fullmatch(value):
            return value
        if US_NATIONAL.fullmatch(value):
            return f"+1{value}"
    raise BadRequestError(
        "Transfer number is invalid: use E.164, for example +12223334444"
    )


def _active_call(call: SandboxCall) -> dict[str, Any]:
    return {
        "call_id": call.call_id,
        "from": call.from_number,
        "to": call.to_number,
        "status": _ACTIVE_STATUS[call.status],
        "start_time": _iso(call.started),
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
