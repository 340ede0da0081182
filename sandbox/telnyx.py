"""The Telnyx API v2 (``https://api.telnyx.com/v2``), as documented: Call Control.

Call Control applications: ``GET /call_control_applications/{id}`` and ``PATCH`` of it
(``application_name`` and ``webhook_event_url`` required, as documented), both answering
``{"data": application}``; a transfer's ``webhook_url`` gets the new leg's webhooks
(``telnyx_webhooks``).

``Authorization: Bearer <API key>``; JSON bodies; errors are
``{"errors": [{"code", "title", "detail", "meta": {"url"}}]}`` with Telnyx's codes
(10009 authentication failed, 10010 authorization failed, 10005 resource not found,
10011 too many requests, 90018 call has already ended). Beyond the docs (the sandbox's
choices): a transfer of a call that has ended answers 422 with 90018, of an unknown call
404 with 10005; invalid transfer parameters answer 422 (10004 missing, 10016 not
+E.164, 10015 otherwise), and parameters the client has no use for are refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
import re
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from .api import (
    ApiRequest,
    BadRequestError,
    ProviderApi,
    Route,
    refuse_unknown_fields,
    require_object,
)
from .state import SandboxCall, SandboxState, TelnyxAccount, TelnyxApplication

if TYPE_CHECKING:
    from collections.abc import Callable

# The documented transfer parameters the sandbox accepts (Telnyx documents many more).
TRANSFER_FIELDS: Final = frozenset(
    {
        "to",
        "from",
        "from_display_name",
        "timeout_secs",
        "command_id",
        "client_state",
        "webhook_url",
        "webhook_url_method",
    }
)
# The application fields a PATCH may set (Telnyx documents more), the required ones.
APPLICATION_FIELDS: Final = frozenset(
    {
        "application_name",
        "webhook_event_url",
        "webhook_api_version",
        "webhook_event_failover_url",
        "webhook_timeout_secs",
    }
)
APPLICATION_REQUIRED: Final = ("application_name", "webhook_event_url")
E164: Final = re.compile(r"\+[1-9]\d{6,14}")
SIP_URI: Final = re.compile(r"sips?:[^@\s]+@[^@\s]+", re.IGNORECASE)
# Telnyx's code and title for each HTTP status the sandbox answers with.
_ERRORS: Final[Mapping[int, tuple[str, str]]] = {
    400: ("10015", "Bad Request"),
    401: ("10009", "Authentication failed"),
    403: ("10010", "Authorization failed"),
    404: ("10005", "Resource not found"),
    405: ("10015", "Bad Request"),
    422: ("10015", "Bad Request"),
    429: ("10011", "Too many requests"),
}
UNEXPECTED: Final = ("10007", "Unexpected error")
CALL_ENDED: Final = ("90018", "Call has already ended")
MISSING_PARAMETER: Final = ("10004", "Missing required parameter")
NOT_E164: Final = ("10016", "Phone number must be in +E.164 format")
_CALL_IN_PATH: Final = re.compile(r"/calls/(?P<call_control_id>[^/]+)/")


class TelnyxApi(ProviderApi[TelnyxAccount]):
    """Telnyx: a Bearer API key, JSON bodies, ``{"data": …}`` answers."""

    name = "telnyx"
    prefix = "/telnyx/v2"
    unauthorized_message = (
        "The required authentication headers were either invalid or not included "
        "in the request."
    )

    def __init__(
        self,
        state: SandboxState,
        on_transfer: Callable[[SandboxCall, dict[str, Any]], None] | None = None,
    ) -> None:
        """Serve ``state``; ``on_transfer`` is told of each accepted transfer."""
        super().__init__(state)
        self.on_transfer = on_transfer

    def build_routes(self) -> Sequence[Route[TelnyxAccount]]:
        """Return the documented paths the clients use."""
        return (
            Route(re.compile(r"/balance"), {"GET": self._balance}),
            Route(
                re.compile(r"/call_control_applications/(?P<app_id>[^/]+)"),
                {"GET": self._application, "PATCH": self._application},
            ),
            Route(
                re.compile(r"/calls/(?P<call_control_id>[^/]+)/actions/transfer"),
                {"POST": self._transfer},
            ),
            Route(
                re.compile(r"/connections/(?P<connection_id>[^/]+)/active_calls"),
                {"GET": self._active_calls},
            ),
        )

    def authenticate(self, request: ApiRequest) -> TelnyxAccount | None:
        """Accept exactly ``Bearer <a known API key>``."""
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        return self.state.telnyx_accounts.get(key) if scheme == "Bearer" else None

    def account_key(self, account: TelnyxAccount) -> str:
        """Faults name a Telnyx account by its API key."""
        return account.api_key

    def call_id_of(self, request: ApiRequest) -> str | None:
        """Return the call control id in the path."""
        named = _CALL_IN_PATH.match(request.path)
        return named["call_control_id"] if named else None

    def error_body(self, status: int, message: str) -> Any:
        """Telnyx's ``{"errors": [...]}`` with the code it uses for the status."""
        return _errors(_ERRORS.get(status, UNEXPECTED), message)

    def _balance(
        self, request: ApiRequest, account: TelnyxAccount, params: dict[str, str]
    ) -> web.Response:
        balance = account.balance
        return self.ok(
            {
                "data": {
                    "record_type": "balance",
                    "balance": balance,
                    "credit_limit": "0.00",
                    "available_credit": balance,
                    "pending": "0.00",
                    "currency": account.currency,
                }
            }
        )

    def _transfer(
        self, request: ApiRequest, account: TelnyxAccount, params: dict[str, str]
    ) -> web.Response:
        """Send an active call to a number or SIP URI; a call that has ended is 90018."""
        body = require_object(request)
        refuse_unknown_fields(body, TRANSFER_FIELDS)
        if problem := transfer_problem(body):
            return self._refuse(HTTPStatus.UNPROCESSABLE_ENTITY, *problem)
        call = self.state.account_call(
            "telnyx", account.api_key, params["call_control_id"]
        )
        if call is None:
            return self.error(
                HTTPStatus.NOT_FOUND,
                "The requested resource or URL could not be found.",
            )
        if not call.live:
            return self._refuse(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                CALL_ENDED,
                "This call is no longer active and can't receive commands.",
            )
        call.transfers.append(body)
        call.transferred_to = body["to"]
        if self.on_transfer is not None:
            self.on_transfer(call, body)
        return self.ok({"data": {"result": "ok"}})

    def _application(
        self, request: ApiRequest, account: TelnyxAccount, params: dict[str, str]
    ) -> web.Response:
        """Read (GET) or change (PATCH) a Call Control application (404 10005 for another).

        A change needs the name and the URL; it sets the webhook settings.
        """
        app = account.applications.get(params["app_id"])
        if app is None:
            return self.error(
                HTTPStatus.NOT_FOUND,
                "The requested resource or URL could not be found.",
            )
        if request.method == "GET":
            return self.ok({"data": _application_json(app)})
        body = require_object(request)
        refuse_unknown_fields(body, APPLICATION_FIELDS)
        for name in APPLICATION_REQUIRED:
            if not isinstance(body.get(name), str) or not body[name]:
                return self._refuse(
                    HTTPStatus.UNPROCESSABLE_ENTITY,
                    MISSING_PARAMETER,
                    f"The '{name}' parameter is required.",
                )
        version = body.get("webhook_api_version", app.webhook_api_version)
        if version not in ("1", "2"):
            return self._refuse(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                _ERRORS[422],
                "'webhook_api_version' must be '1' or '2'.",
            )
        app.application_name = body["application_name"]
        app.webhook_event_url = body["webhook_event_url"]
        app.webhook_api_version = version
        if isinstance(failover := body.get("webhook_event_failover_url"), str):
            app.webhook_event_failover_url = failover
        return self.ok({"data": _application_json(app)})

    def _active_calls(
        self, request: ApiRequest, account: TelnyxAccount, params: dict[str, str]
    ) -> web.Response:
        """One page of a connection's active calls (page[number], page[size])."""
        connection = params["connection_id"]
        if connection not in account.connections:
            return self.error(
                HTTPStatus.NOT_FOUND,
                "The requested resource or URL could not be found.",
            )
        number = _page_parameter(request.query, "page[number]", 1)
        size = min(_page_parameter(request.query, "page[size]", 20), 250)
        size = min(size, account.page_size_limit)
        calls = self.state.listed(
            [
                call
                for call in self.state.account_calls("telnyx", account.api_key)
                if call.live and call.connection == connection
            ]
        )
        page = calls[(number - 1) * size : number * size]
        return self.ok(
            {
                "data": [_active_call(call) for call in page],
                "meta": {
                    "page_number": number,
                    "page_size": size,
                    "total_pages": max(1, -(-len(calls) // size)),
                    "total_results": len(calls),
                },
            }
        )

    def _refuse(self, status: int, error: tuple[str, str], detail: str) -> web.Response:
        return self.finish(web.json_response(_errors(error, detail), status=status))


def transfer_problem(body: Mapping[str, Any]) -> tuple[tuple[str, str], str] | None:
    """Return the error and detail a transfer's parameters deserve, or None."""
    to = body.get("to")
    if to is None or to == "":
        return MISSING_PARAMETER, "The 'to' parameter is required."
    if not isinstance(to, str) or not (E164.fullmatch(to) or SIP_URI.fullmatch(to)):
        return NOT_E164, "'to' must be a +E.164 number or a SIP URI."
    caller = body.get("from")
    if caller is not None and not (isinstance(caller, str) and E164.fullmatch(caller)):
        return NOT_E164, "'from' must be a +E.164 number."
    hook = body.get("webhook_url")
    if hook is not None and not (
        isinstance(hook, str) and hook.startswith(("http://", "https://"))
    ):
        return _ERRORS[422], "'webhook_url' must be an http(s) URL."
    if body.get("webhook_url_method", "POST") != "POST":
        return _ERRORS[422], "The sandbox sends webhooks with POST only."
    timeout = body.get("timeout_secs")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int)
        or not 5 <= timeout <= 600
    ):
        return _ERRORS[422], "'timeout_secs' must be a whole number from 5 to 600."
    return None


def _page_parameter(query: Mapping[str, str], name: str, default: int) -> int:
    value = query.get(name)
    if value is None:
        return default
    if not value.isdigit() or int(value) < 1:
        raise BadRequestError(f"{name} must be a positive whole number")
    return int(value)


def _errors(error: tuple[str, str], detail: str) -> dict[str, Any]:
    code, title = error
    return {
        "errors": [
            {
                "code": code,
                "title": title,
                "detail": detail,
                "meta": {
                    "url": f"https://developers.telnyx.com/docs/overview/errors/{code}"
                },
            }
        ]
    }


def _active_call(call: SandboxCall) -> dict[str, Any]:
    """Describe an active call as the connection's listing does."""
    return {
        "record_type": "call",
        "call_control_id": call.call_id,
        "call_leg_id": f"leg-{call.call_id.removeprefix('v3:')}",
        "call_session_id": f"session-{call.call_id.removeprefix('v3:')}",
        "client_state": "",
        "call_duration": int((datetime.now(UTC) - call.started).total_seconds()),
    }


def _application_json(app: TelnyxApplication) -> dict[str, Any]:
    """Describe a Call Control application as Telnyx does (the fields the sandbox has)."""
    return {
        "record_type": "call_control_application",
        "id": app.app_id,
        "application_name": app.application_name,
        "active": True,
        "webhook_event_url": app.webhook_event_url,
        "webhook_event_failover_url": app.webhook_event_failover_url,
        "webhook_api_version": app.webhook_api_version,
        "webhook_timeout_secs": app.webhook_timeout_secs,
    }
