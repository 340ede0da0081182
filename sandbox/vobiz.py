"""The Vobiz voice API (``https://api.vobiz.ai/api/v1``), as documented.

Every response body carries a fresh ``api_id``. Errors use the ``{"api_id", "error"}``
envelope, one of the three shapes Vobiz's docs show; a STATUS fault with a body sends
the others. Beyond the docs, and on purpose strict: the call listing and retrieval
answer 400 without ``?status=live`` (the sandbox has no records of finished calls),
and a transfer with a parameter Vobiz does not document answers 400. After the 202 of
a transfer, each transferred leg's URL is fetched in the background (``legfetch``).
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
import re
from typing import Any, Final
from urllib.parse import urlsplit
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
from .legfetch import LegFetcher
from .state import SandboxState, VobizAccount

# Which legs each ``legs`` value transfers.
TRANSFER_LEGS: Final = {
    "aleg": ("aleg",),
    "bleg": ("bleg",),
    "both": ("aleg", "bleg"),
}
TRANSFER_FIELDS: Final = frozenset(
    {"legs", "aleg_url", "aleg_method", "bleg_url", "bleg_method"}
)
TRANSFER_METHODS: Final = ("GET", "POST")
# Path segments Vobiz spells in PascalCase; another spelling is answered 401.
_PASCAL_CASE: Final = frozenset({"Account", "Call"})
_ACCOUNT_IN_PATH: Final = re.compile(r"/Account/(?P<auth_id>[^/]+)/")
_CALL_IN_PATH: Final = re.compile(r"/Call/(?P<call_uuid>[^/]+)/")


class VobizApi(ProviderApi[VobizAccount]):
    """Vobiz: ``X-Auth-ID`` + ``X-Auth-Token`` headers, PascalCase paths."""

    prefix = "/vobiz/api/v1"
    unauthorized_message = "authentication failed"

    def __init__(self, state: SandboxState, leg_fetcher: LegFetcher) -> None:
        """Serve ``state``; after a transfer, ``leg_fetcher`` fetches the legs' URLs."""
        super().__init__(state)
        self.leg_fetcher = leg_fetcher

    def build_routes(self) -> Sequence[Route[VobizAccount]]:
        """Return the documented paths, trailing slashes included."""
        return (
            Route(re.compile(r"/auth/me"), {"GET": self._me}),
            Route(re.compile(r"/Account/[^/]+/Call/"), {"GET": self._live_calls}),
            Route(
                re.compile(r"/Account/[^/]+/Call/(?P<call_uuid>[^/]+)/"),
                {
                    "GET": self._live_call,
                    "POST": self._transfer,
                    "DELETE": self._hang_up,
                },
            ),
        )

    def authenticate(self, request: ApiRequest) -> VobizAccount | None:
        """Both headers must match one account, which the path (if it names one) is."""
        account = self.state.vobiz_accounts.get(request.headers.get("X-Auth-ID", ""))
        if account is None or request.headers.get("X-Auth-Token") != account.auth_token:
            return None
        if _misspelled(request.path):
            return None
        named = _ACCOUNT_IN_PATH.match(request.path)
        if named is not None and named["auth_id"] != account.auth_id:
            return None
        return account

    def account_key(self, account: VobizAccount) -> str:
        """Faults name a Vobiz account by its auth_id."""
        return account.auth_id

    def call_id_of(self, request: ApiRequest) -> str | None:
        """Return the call UUID in the path."""
        named = _CALL_IN_PATH.search(request.path)
        return named["call_uuid"] if named else None

    def error_body(self, status: int, message: str) -> Any:
        """Vobiz's ``{"api_id", "error"}`` envelope."""
        return _with_api_id({"error": message})

    def _me(
        self, request: ApiRequest, account: VobizAccount, params: dict[str, str]
    ) -> web.Response:
        return self.ok(
            _with_api_id(
                {
                    "auth_id": account.auth_id,
                    "name": account.name,
                    "is_active": account.is_active,
                    "enabled": account.enabled,
                    "concurrent_calls_limit": account.concurrent_calls_limit,
                    "cps_limit": account.cps_limit,
                    "auth_secret": account.auth_secret,
                }
            )
        )

    def _live_calls(
        self, request: ApiRequest, account: VobizAccount, params: dict[str, str]
    ) -> web.Response:
        _require_live_filter(request)
        calls = self.state.account_calls("vobiz", account.auth_id)
        return self.ok(
            _with_api_id({"calls": [call.call_id for call in calls if call.live]})
        )

    def _live_call(
        self, request: ApiRequest, account: VobizAccount, params: dict[str, str]
    ) -> web.Response:
        _require_live_filter(request)
        call = self.state.live_call("vobiz", account.auth_id, params["call_uuid"])
        if call is None:
            return self._call_not_found()
        return self.ok(
            _with_api_id(
                {
                    "call_uuid": call.call_id,
                    "call_status": call.status.value,
                    "direction": call.direction,
                    "from": call.from_number,
                    "to": call.to_number,
                    "caller_name": call.caller_name,
                    "session_start": call.started.strftime("%Y-%m-%d %H:%M:%S"),
                    "request_uuid": call.request_uuid,
                }
            )
        )

    def _transfer(
        self, request: ApiRequest, account: VobizAccount, params: dict[str, str]
    ) -> web.Response:
        order = parse_transfer(require_object(request))
        call = self.state.live_call("vobiz", account.auth_id, params["call_uuid"])
        if call is None:
            return self._call_not_found()
        call.transfers.append(order)
        call.transferred_to = ", ".join(
            order[f"{leg}_url"] for leg in TRANSFER_LEGS[order["legs"]]
        )
        self.leg_fetcher.plan(call, order)
        return self.ok(
            _with_api_id({"message": "call transferred", "call_uuid": call.call_id}),
            HTTPStatus.ACCEPTED,
        )

    def _hang_up(
        self, request: ApiRequest, account: VobizAccount, params: dict[str, str]
    ) -> web.Response:
        call = self.state.live_call("vobiz", account.auth_id, params["call_uuid"])
        if call is None:
            return self._call_not_found()
        self.state.end_call(call.call_id)
        return web.Response(status=HTTPStatus.NO_CONTENT)

    def _call_not_found(self) -> web.Response:
        return self.error(HTTPStatus.NOT_FOUND, "call not found or not in progress")


def parse_transfer(body: dict[str, Any]) -> dict[str, str]:
    """Check a transfer body; return ``legs`` and each transferred leg's URL and method."""
    refuse_unknown_fields(body, TRANSFER_FIELDS)
    if not all(isinstance(value, str) for value in body.values()):
        raise BadRequestError("every transfer parameter must be a string")
    legs = body.get("legs", "aleg")
    if legs not in TRANSFER_LEGS:
        raise BadRequestError("legs must be aleg, bleg or both")
    order = {"legs": legs}
    for leg in ("aleg", "bleg"):
        url: str | None = body.get(f"{leg}_url")
        method = body.get(f"{leg}_method", "POST")
        if method not in TRANSFER_METHODS:
            raise BadRequestError(f"{leg}_method must be GET or POST")
        if url is not None and not _is_http_url(url):
            raise BadRequestError(f"{leg}_url is not an absolute http(s) URL")
        if leg in TRANSFER_LEGS[legs]:
            if url is None:
                raise BadRequestError(f"{leg}_url is required when legs is {legs}")
            order |= {f"{leg}_url": url, f"{leg}_method": method}
    return order


def _is_http_url(url: str) -> bool:
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


def _misspelled(path: str) -> bool:
    return any(
        segment.lower() in ("account", "call") and segment not in _PASCAL_CASE
        for segment in path.split("/")
    )


def _require_live_filter(request: ApiRequest) -> None:
    if request.query.get("status") != "live":
        raise BadRequestError("add status=live: the sandbox serves live calls only")


def _with_api_id(body: dict[str, Any]) -> dict[str, Any]:
    return {"api_id": str(uuid.uuid4())} | body
