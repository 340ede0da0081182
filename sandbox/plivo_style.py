"""The call API Plivo defined and Vobiz copied, as the sandbox serves it for both.

Under ``/Account/{auth_id}/``: the live calls as ids (``GET …/Call/?status=live``), one
live call (``GET …/Call/{uuid}/?status=live``, 404 unless live), a transfer (``POST
…/Call/{uuid}/`` with ``legs`` and each transferred leg's URL and method, 202) and a
hang-up (``DELETE …/Call/{uuid}/``, 204). Every body carries a fresh ``api_id``; errors
are ``{"api_id", "error"}``. A call read without ``status`` is its call
detail record (``call_record``: each provider's own form), 404 where the provider
keeps none. Beyond the docs, and on purpose strict: a ``status`` other than ``live``
answers 400, and a transfer with a parameter the provider does not document answers
400. After the 202 of
a transfer each transferred leg's URL is fetched in the background (``legfetch``) and
its answer checked against the provider's XML dialect. A provider of this family says
how requests authenticate and serves its own account resource.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from http import HTTPStatus
import re
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol
import uuid

from aiohttp import web

from .api import (
    BadRequestError,
    ProviderApi,
    Route,
    is_http_url,
    refuse_unknown_fields,
    require_object,
)
from .callxml import XmlDialect
from .legfetch import LegFetcher
from .state import SandboxApplication, SandboxCall, SandboxState

if TYPE_CHECKING:
    from .api import ApiRequest

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
# The fields of an application its update takes (Plivo's "Modify an application", the
# ones Vobiz documents too): a partial update, fields not given stay as they are.
APPLICATION_FIELDS: Final = frozenset(
    {
        "app_name",
        "answer_url",
        "answer_method",
        "hangup_url",
        "hangup_method",
        "fallback_answer_url",
        "fallback_method",
    }
)
ACCOUNT_IN_PATH: Final = re.compile(r"/Account/(?P<auth_id>[^/]+)/")
_CALL_IN_PATH: Final = re.compile(r"/Call/(?P<call_uuid>[^/]+)/")


class AuthIdAccount(Protocol):
    """An account of this family: named by its Auth ID, proven by its Auth Token."""

    auth_id: str
    auth_token: str


class PlivoStyleApi[AccountT: AuthIdAccount](ProviderApi[AccountT]):
    """The calls of a Plivo-style API; a subclass adds authentication and its account."""

    # The call XML the provider's transferred legs read.
    dialect: ClassVar[XmlDialect]
    # The most live-call ids one listing answers (``limit``, its default, and
    # ``offset``), where the API pages them; None lists every live call at once.
    live_call_page_size: ClassVar[int | None] = None
    # How a live call's start (UTC, no zone) is written.
    session_start_format: ClassVar[str] = "%Y-%m-%d %H:%M:%S"
    # The status an application update is answered with (Plivo documents 202; Vobiz
    # shows no status, the sandbox answers 200).
    application_update_status: ClassVar[int] = HTTPStatus.OK

    def __init__(self, state: SandboxState, leg_fetcher: LegFetcher) -> None:
        """Serve ``state``; after a transfer, ``leg_fetcher`` fetches the legs' URLs."""
        super().__init__(state)
        self.leg_fetcher = leg_fetcher

    @abstractmethod
    def account_routes(self) -> Sequence[Route[AccountT]]:
        """Return the paths that describe the account."""

    @abstractmethod
    def credentials(self, request: ApiRequest) -> tuple[str, str] | None:
        """Return the Auth ID and Auth Token the request carries, if it carries them."""

    @abstractmethod
    def account(self, auth_id: str) -> AccountT | None:
        """Return the account with this Auth ID, if there is one."""

    def build_routes(self) -> Sequence[Route[AccountT]]:
        """Return the documented paths, trailing slashes included."""
        return (
            *self.account_routes(),
            Route(re.compile(r"/Account/[^/]+/Call/"), {"GET": self._live_calls}),
            Route(
                re.compile(r"/Account/[^/]+/Application/(?P<app_id>[^/]+)/"),
                {"GET": self._application, "POST": self._update_application},
            ),
            Route(
                re.compile(r"/Account/[^/]+/Call/(?P<call_uuid>[^/]+)/"),
                {
                    "GET": self._live_call,
                    "POST": self._transfer,
                    "DELETE": self._hang_up,
                },
            ),
        )

    def authenticate(self, request: ApiRequest) -> AccountT | None:
        """Accept credentials of one account, which the path (if it names one) must be."""
        credentials = self.credentials(request)
        if credentials is None:
            return None
        auth_id, auth_token = credentials
        account = self.account(auth_id)
        if account is None or auth_token != account.auth_token:
            return None
        named = ACCOUNT_IN_PATH.match(request.path)
        if named is not None and named["auth_id"] != account.auth_id:
            return None
        return account

    def account_key(self, account: AccountT) -> str:
        """Faults name an account of this family by its Auth ID."""
        return account.auth_id

    def error_body(self, status: int, message: str) -> Any:
        """Answer errors as ``{"api_id", "error"}``."""
        return with_api_id({"error": message})

    def call_id_of(self, request: ApiRequest) -> str | None:
        """Return the call UUID in the path."""
        named = _CALL_IN_PATH.search(request.path)
        return named["call_uuid"] if named else None

    def _live_calls(
        self, request: ApiRequest, account: AccountT, params: dict[str, str]
    ) -> web.Response:
        _require_live_filter(request)
        calls = self.state.account_calls(self.name, account.auth_id)
        live = [
            call.call_id for call in self.state.listed([c for c in calls if c.live])
        ]
        if self.live_call_page_size is not None:
            live = live[_page(request, self.live_call_page_size)]
        return self.ok(with_api_id({"calls": live}))

    def _live_call(
        self, request: ApiRequest, account: AccountT, params: dict[str, str]
    ) -> web.Response:
        if "status" not in request.query:
            return self._call_record(account, params["call_uuid"])
        _require_live_filter(request)
        call = self.state.live_call(self.name, account.auth_id, params["call_uuid"])
        if call is None:
            return self._call_not_found()
        return self.ok(
            with_api_id(
                {
                    "call_uuid": call.call_id,
                    "call_status": call.status.value,
                    "direction": call.direction,
                    "from": call.from_number,
                    "to": call.to_number,
                    "caller_name": call.caller_name,
                    "session_start": call.started.strftime(self.session_start_format),
                    "request_uuid": call.request_uuid,
                }
            )
        )

    def _call_record(self, account: AccountT, call_uuid: str) -> web.Response:
        call = self.state.account_call(self.name, account.auth_id, call_uuid)
        record = None if call is None else self.call_record(call)
        if record is None:
            return self._call_not_found()
        return self.ok(with_api_id(record))

    @abstractmethod
    def call_record(self, call: SandboxCall) -> dict[str, Any] | None:
        """Return the call detail record of a call (``GET …/Call/{uuid}/``); None: 404."""

    def _transfer(
        self, request: ApiRequest, account: AccountT, params: dict[str, str]
    ) -> web.Response:
        order = parse_transfer(require_object(request))
        call = self.state.live_call(self.name, account.auth_id, params["call_uuid"])
        if call is None:
            return self._call_not_found()
        call.transfers.append(order)
        call.transferred_to = ", ".join(
            order[f"{leg}_url"] for leg in TRANSFER_LEGS[order["legs"]]
        )
        self.leg_fetcher.plan(call, order, self.dialect)
        return self.ok(
            with_api_id(self.transfer_answer(call.call_id)), HTTPStatus.ACCEPTED
        )

    def transfer_answer(self, call_uuid: str) -> dict[str, Any]:
        """Return the body of an accepted transfer, besides its ``api_id``."""
        return {"message": "call transferred"}

    def _hang_up(
        self, request: ApiRequest, account: AccountT, params: dict[str, str]
    ) -> web.Response:
        call = self.state.live_call(self.name, account.auth_id, params["call_uuid"])
        if call is None:
            return self._call_not_found()
        self.state.end_call(call.call_id)
        return web.Response(status=HTTPStatus.NO_CONTENT)

    def _application(
        self, request: ApiRequest, account: AccountT, params: dict[str, str]
    ) -> web.Response:
        app = self.state.application(self.name, account.auth_id, params["app_id"])
        if app is None:
            return self.error(HTTPStatus.NOT_FOUND, "application not found")
        return self.ok(with_api_id(application_json(app, account.auth_id)))

    def _update_application(
        self, request: ApiRequest, account: AccountT, params: dict[str, str]
    ) -> web.Response:
        body = require_object(request)
        refuse_unknown_fields(body, APPLICATION_FIELDS)
        for name, value in body.items():
            if not isinstance(value, str):
                raise BadRequestError(f"{name} must be a string")
            if name.endswith("_method") and value not in TRANSFER_METHODS:
                raise BadRequestError(f"{name} must be GET or POST")
            if name.endswith("_url") and value and not is_http_url(value):
                raise BadRequestError(f"{name} is not an absolute http(s) URL")
        app = self.state.application(self.name, account.auth_id, params["app_id"])
        if app is None:
            return self.error(HTTPStatus.NOT_FOUND, "application not found")
        for name, value in body.items():
            setattr(app, name, value)
        return self.ok(
            with_api_id({"message": "changed"}), self.application_update_status
        )

    def _call_not_found(self) -> web.Response:
        return self.error(HTTPStatus.NOT_FOUND, "call not found or not in progress")


def parse_transfer(body: Mapping[str, Any]) -> dict[str, str]:
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
        if url is not None and not is_http_url(url):
            raise BadRequestError(f"{leg}_url is not an absolute http(s) URL")
        if leg in TRANSFER_LEGS[legs]:
            if url is None:
                raise BadRequestError(f"{leg}_url is required when legs is {legs}")
            order |= {f"{leg}_url": url, f"{leg}_method": method}
    return order


def _page(request: ApiRequest, page_size: int) -> slice:
    """Read ``limit`` (1 to ``page_size``, that by default) and ``offset`` (0 or more)."""
    limit = _whole(request, "limit", page_size)
    if not 1 <= limit <= page_size:
        raise BadRequestError(f"limit must be from 1 to {page_size}")
    offset = _whole(request, "offset", 0)
    return slice(offset, offset + limit)


def _whole(request: ApiRequest, name: str, default: int) -> int:
    value = request.query.get(name)
    if value is None:
        return default
    if not value.isdigit():
        raise BadRequestError(f"{name} must be a whole number")
    return int(value)


def _require_live_filter(request: ApiRequest) -> None:
    if request.query.get("status") != "live":
        raise BadRequestError("add status=live: the sandbox serves live calls only")


def application_json(app: SandboxApplication, auth_id: str) -> dict[str, Any]:
    """Describe an application as Plivo's Application object does (its call URLs)."""
    return {
        "app_id": app.app_id,
        "app_name": app.app_name,
        "answer_url": app.answer_url,
        "answer_method": app.answer_method,
        "hangup_url": app.hangup_url,
        "hangup_method": app.hangup_method,
        "fallback_answer_url": app.fallback_answer_url,
        "fallback_method": app.fallback_method,
        "resource_uri": f"/v1/Account/{auth_id}/Application/{app.app_id}/",
    }


def with_api_id(body: dict[str, Any]) -> dict[str, Any]:
    """Put a fresh ``api_id`` first in a response body."""
    return {"api_id": str(uuid.uuid4())} | body
