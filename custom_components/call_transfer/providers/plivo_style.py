"""The call API Plivo defined and Vobiz copied: transfers point call legs at XML URLs.

Both answer under ``/Account/{auth_id}/``: a transfer is ``POST …/Call/{uuid}/`` with
``legs`` and each leg's URL and method (answered 202 ``{"api_id", "message"}``), live
calls are listed as ids (``GET …/Call/?status=live``) whose details are one request
each (``GET …/Call/{uuid}/?status=live``), and errors are JSON envelopes that carry the
request's ``api_id``. Neither can transfer to a phone number in the request: the caller
serves Dial XML at a URL (``NumberTransfer.DIAL_URL``). A provider of this family
declares how it authenticates and how its credentials are checked; the rest is here.
"""

from __future__ import annotations

from abc import abstractmethod
import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
import re
from typing import TYPE_CHECKING, Any, ClassVar, Final, Unpack

import aiohttp

from .base import TransferProvider, accepted_transfer
from .callbacks import (
    ANSWER_FIRST,
    ANSWER_FIRST_FIELD,
    CallbackRequest,
    PushCapabilities,
    RegisteredCallback,
    ReplayGuard,
    VerifiedCallback,
)
from .callxml import (
    XML_DECLARATION,
    DialOptions,
    dial_option_fields,
    dial_xml,
    redirect_xml,
)
from .capabilities import TransferCapabilities
from .errors import (
    CallNotFoundError,
    InvalidAuthError,
    InvalidOptionError,
    InvalidRequestError,
    UnexpectedResponseError,
    forbidden_is_invalid_auth,
    refusal_names_option,
)
from .http import DEFAULT_TIMEOUT, ApiResponse, HttpClient, error_for_response
from .models import (
    LEG_FIELDS,
    LEGS_FIELD,
    AccountInfo,
    ConfirmedCall,
    CredentialField,
    LiveCall,
    NumberTransfer,
    OptionField,
    OptionKind,
    TransferLegs,
    TransferRequest,
    TransferResult,
)
from .plivo_callbacks import read_events, signed_params
from .validation import path_segment, require_http_url, text_or_none

if TYPE_CHECKING:
    from .errors import CallTransferError

# The option naming the application whose hangup URL push registration sets.
APPLICATION_ID: Final = "application_id"
# The application fields a push registration sets, and writes back when undone: the
# hangup URL, and with answer-first the answer URL (each with its method).
_HANGUP_FIELDS: Final = ("hangup_url", "hangup_method")
_ANSWER_FIELDS: Final = ("answer_url", "answer_method")
# The statuses a call detail record gives a call not over yet (Vobiz's record covers
# calls in progress too; Plivo's, calls that ended).
_UNFINISHED: Final = frozenset({"queued", "ringing", "in-progress", "early media"})


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """The signature of a callback that verified: its name, the nonces it was made with.

    ``body_signed``: whether it covers the body (Plivo V3 does, Vobiz's documented
    V2/V3 do not).
    """

    name: str
    nonces: tuple[str, ...]
    body_signed: bool


class PlivoStyleClient(TransferProvider):
    """A client for a Plivo-style call API; subclasses say how to authenticate."""

    credential_fields = (
        CredentialField(key="auth_id", secret=False),
        CredentialField(key="auth_token", secret=True),
    )
    option_fields = (
        *dial_option_fields(max_ring_timeout=120),
        OptionField(key=APPLICATION_ID, kind=OptionKind.IDENTIFIER),
        ANSWER_FIRST_FIELD,
    )
    capabilities = TransferCapabilities(
        number_transfer=NumberTransfer.DIAL_URL, xml_url_legs=frozenset(TransferLegs)
    )
    looks_up_calls = True
    # Calls end at an application's hangup URL; a Dial reports the dialled leg's outcome
    # to its callbackUrl and action. Accepted callbacks are answered with empty XML (a
    # Dial's action may be answered with XML to run). With answer-first, calls start at
    # the application's answer URL too, answered with a Redirect to the one it had.
    push = PushCapabilities(
        reports_transfer_outcomes=True,
        registration_option=APPLICATION_ID,
        answer_content_type="application/xml",
        answer_body=f"{XML_DECLARATION}<Response></Response>",
        answer_first_option=ANSWER_FIRST,
    )
    # Non-secret fields of the credential check's answer worth showing (never all of it).
    account_details: ClassVar[tuple[str, ...]] = ()
    # Secret fields of that answer: never shown, and masked like the credentials
    # wherever the provider repeats them.
    account_secrets: ClassVar[tuple[str, ...]] = ()
    # The form of an Auth ID, where the provider documents one, as a pattern and in words:
    # an Auth ID of another form can never authenticate, so it is refused at once.
    auth_id_format: ClassVar[tuple[re.Pattern[str], str] | None] = None
    # A header naming the request, read when the body has no ``api_id``.
    request_id_header: ClassVar[str] = "X-Request-Id"
    # Live-call ids per page of the listing (``limit``/``offset``) where the API pages
    # them; None asks once, without paging. At most ``max_live_call_pages`` are read.
    live_call_page_size: ClassVar[int | None] = None
    max_live_call_pages: ClassVar[int] = 10

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        auth_id: str,
        auth_token: str,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        application_id: str | None = None,
        push_answer_first: bool = False,
        **dial_options: Unpack[DialOptions],
    ) -> None:
        """Create a client for one account; ``dial_options`` shape its Dial XML.

        ``application_id`` names the application whose hangup URL push registration
        sets; with ``push_answer_first``, its answer URL too.
        """
        if self.auth_id_format and not self.auth_id_format[0].fullmatch(auth_id):
            raise InvalidAuthError(
                f"A {self.display_name} Auth ID is {self.auth_id_format[1]}"
            )
        try:
            self._account_path = f"/Account/{path_segment(auth_id, 'auth ID')}"
        except InvalidRequestError as err:
            raise InvalidAuthError(err.message) from err
        self.auth_id = auth_id
        self.application_id = application_id
        self.answer_first = push_answer_first
        self._auth_token = auth_token
        self._dial_xml = partial(dial_xml, **dial_options)
        # Details read of listed calls, kept when the poll that read them fails, so the
        # next one asks only for those it still lacks.
        self._details: dict[str, LiveCall] = {}
        headers, secrets = self.auth_headers(auth_id, auth_token)
        self._http = HttpClient(
            session,
            base_url or self.default_base_url,
            headers,
            secrets=secrets,
            timeout=timeout,
        )

    @staticmethod
    @abstractmethod
    def auth_headers(
        auth_id: str, auth_token: str
    ) -> tuple[dict[str, str], tuple[str, ...]]:
        """Return the headers that authenticate every request, and the secrets in them."""

    @property
    @abstractmethod
    def account_check_path(self) -> str:
        """The path whose GET checks the credentials and describes the account."""

    @abstractmethod
    def check_signature(
        self, request: CallbackRequest, params: Mapping[str, list[str]]
    ) -> SignatureCheck:
        """Verify a callback's signature with the auth token (``params``: its form fields).

        Raises ``CallbackRefusedError`` when it is missing or does not match.
        """

    async def async_validate_options(self) -> None:
        """Check that the application named for push registration exists."""
        if self.application_id is None:
            return
        with refusal_names_option(
            APPLICATION_ID, CallNotFoundError, InvalidRequestError
        ):
            await self._request_object("GET", self._application_path())

    def verify_callback(
        self, request: CallbackRequest, replay_guard: ReplayGuard
    ) -> VerifiedCallback:
        """Verify the signature, then its nonces against replays; read what it tells."""
        params = signed_params(request)
        check = self.check_signature(request, params)
        for nonce in dict.fromkeys(check.nonces):  # V2 and V3 may share one
            replay_guard.check_and_remember(nonce, request.received_at)
        return VerifiedCallback(
            events=read_events(request, params),
            signature=check.name,
            body_signed=check.body_signed,
        )

    @property
    def callback_fields(self) -> frozenset[str]:
        """The hangup URL and method; with answer-first the answer URL and method too."""
        return frozenset(self._registered_fields())

    def _registered_fields(self) -> tuple[str, ...]:
        return _HANGUP_FIELDS + (_ANSWER_FIELDS if self.answer_first else ())

    async def async_register_callback_url(self, url: str) -> RegisteredCallback:
        """Set the application's hangup URL (POST) to ``url``; return its old one.

        With answer-first, its answer URL (POST) too, the old one kept as well.
        """
        with refusal_names_option(
            APPLICATION_ID, CallNotFoundError, InvalidRequestError
        ):
            path = self._application_path()
            application = await self._request_object("GET", path)
        fields = self._registered_fields()
        previous = {name: text_or_none(application.get(name)) or "" for name in fields}
        await self._request_object(
            "POST",
            path,
            json_body={
                name: url if name.endswith("_url") else "POST" for name in fields
            },
        )
        return RegisteredCallback(
            target=self._application_id(), url=url, previous=previous
        )

    async def async_restore_callback_url(self, registered: RegisteredCallback) -> None:
        """Write the application's URLs and methods back as they were.

        An empty URL is written back empty (whether that brings back "hangups go to the
        answer URL" is not documented); an empty method as POST.
        """
        replaced = [
            *_HANGUP_FIELDS,
            *(f for f in _ANSWER_FIELDS if f in registered.previous),
        ]
        body = {
            name: registered.previous.get(name, "")
            or ("POST" if name.endswith("_method") else "")
            for name in replaced
        }
        await self._request_object(
            "POST",
            self._application_path(registered.target),
            json_body=body,
        )

    def answer_redirect(self, registered: RegisteredCallback) -> str | None:
        """Return ``<Redirect>`` to the answer URL registration replaced (None: none)."""
        url = registered.previous.get("answer_url")
        if not url:
            return None
        return redirect_xml(url, registered.previous.get("answer_method") or "POST")

    def _application_id(self) -> str:
        if self.application_id is None:
            raise InvalidOptionError(
                f"Name the {self.display_name} application whose hangup URL to set",
                option=APPLICATION_ID,
            )
        return self.application_id

    def _application_path(self, application_id: str | None = None) -> str:
        app_id = path_segment(
            application_id or self._application_id(), "application ID"
        )
        return f"{self._account_path}/Application/{app_id}/"

    async def async_validate(self) -> AccountInfo:
        """Check the credentials; a refusal (401 or 403) means they cannot be used."""
        with forbidden_is_invalid_auth():
            account = await self._request_object("GET", self.account_check_path)
        for key in self.account_secrets:
            if isinstance(secret := account.get(key), str):
                self._http.add_secret(secret)
        name = account.get("name")
        return AccountInfo(
            account_id=text_or_none(account.get("auth_id")) or self.auth_id,
            name=name if isinstance(name, str) and name else self.auth_id,
            details={
                key: _scalar(account.get(key))
                for key in self.account_details
                if key in account
            },
        )

    async def async_transfer(self, request: TransferRequest) -> TransferResult:
        """Redirect the chosen leg(s) of a live call to their XML URL(s)."""
        call_path = self._call_path(request.call_id)
        body = self._transfer_body(request)
        answer = await self._request_object(
            "POST", call_path, json_body=body, acts=True
        )
        message = answer.get("message")
        return accepted_transfer(
            request.call_id,
            message if isinstance(message, str) else None,
            _request_id(answer),
            unreadable=f"{self.display_name} accepted the transfer but sent no message",
        )

    async def async_live_calls(
        self, known: Mapping[str, LiveCall] | None = None
    ) -> list[LiveCall]:
        """List live calls: their ids, then the details of each call not ``known``.

        A failed detail request fails the listing, but the details read meanwhile are
        kept: the next listing asks only for the others.
        """
        call_ids = await self._live_call_ids()
        listed = set(call_ids)
        self._details = {i: d for i, d in self._details.items() if i in listed}
        known = {**(known or {}), **self._details}
        answers = await asyncio.gather(
            *(self._read_details(i) for i in call_ids if i not in known),
            return_exceptions=True,
        )
        if errors := [a for a in answers if isinstance(a, BaseException)]:
            raise errors[0]
        return [
            call
            for call_id in call_ids
            if (call := known.get(call_id) or self._details.get(call_id)) is not None
        ]

    async def async_call_is_live(self, call_id: str) -> bool:
        """Read the call's details: 404 once it is no longer live."""
        return await self._live_call(call_id) is not None

    async def async_confirm_call(self, call_id: str) -> ConfirmedCall | None:
        """Read the call's live details, else its call detail record; None: 404 to both.

        The record (``GET …/Call/{uuid}/``) is read only when the call is not live. Its
        fields are spelt as Plivo's Call object (``from_number``, ``call_direction``,
        ``initiation_time``, ``end_time``) or as Vobiz's "Retrieve a Call" example
        (``from``, ``direction``, ``status``, ``created_at``); a time without a zone
        (Vobiz writes the console's local time) is not read. A record without an end
        and with an unfinished status is a call still live.
        """
        if (live := await self._live_call(call_id)) is not None:
            return ConfirmedCall(call=live, live=True)
        try:
            record = await self._request_object("GET", self._call_path(call_id))
        except CallNotFoundError:
            return None
        status = _text(record, "call_status", "status", "call_state")
        ended = bool(_text(record, "end_time")) or (
            (status or "").lower() not in _UNFINISHED
        )
        call = LiveCall(
            call_id=call_id,
            from_number=_text(record, "from_number", "from"),
            to_number=_text(record, "to_number", "to"),
            started=_zoned_time(_text(record, "initiation_time", "created_at")),
            status=status,
            direction=_text(record, "call_direction", "direction"),
        )
        return ConfirmedCall(call=call, live=not ended)

    def dial_xml(self, number: str, *, report_url: str | None = None) -> str:
        """Return call XML that dials ``number`` with this account's dial options.

        With ``report_url``, the Dial reports the dialled leg's events there
        (``callbackUrl``) and its final status (``action``, with ``redirect="false"`` so
        the provider goes on with the call XML as it is).
        """
        report = (
            {
                "action": report_url,
                "method": "POST",
                "redirect": "false",
                "callbackUrl": report_url,
                "callbackMethod": "POST",
            }
            if report_url
            else None
        )
        return self._dial_xml(number, report=report)

    async def _live_call_ids(self) -> list[str]:
        """Read the listing, page by page where the API pages it."""
        page_size = self.live_call_page_size
        call_ids: dict[str, None] = {}  # in the listing's order, each once
        for page in range(self.max_live_call_pages if page_size else 1):
            params = {"status": "live"}
            if page_size:
                params |= {"limit": str(page_size), "offset": str(page * page_size)}
            listing = await self._request_object(
                "GET", f"{self._account_path}/Call/", params=params
            )
            page_ids = listing.get("calls")
            if not isinstance(page_ids, list) or not all(
                isinstance(i, str) for i in page_ids
            ):
                raise UnexpectedResponseError(
                    f"{self.display_name} sent a live-call list of an unexpected shape",
                    request_id=_request_id(listing),
                )
            call_ids |= dict.fromkeys(page_ids)
            if not page_size or len(page_ids) < page_size:
                break
        return list(call_ids)

    async def _read_details(self, call_id: str) -> None:
        """Read a listed call's details into ``_details`` (nothing if it just ended)."""
        if (call := await self._live_call(call_id)) is not None:
            self._details[call_id] = call

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

    def _transfer_body(self, request: TransferRequest) -> dict[str, str]:
        """Build the documented transfer body, validated so a bad request is never sent."""
        if request.to is not None:
            raise InvalidRequestError(
                f"{self.display_name} transfers redirect a call leg to an XML URL; a destination number is not supported"
            )
        legs = request.legs
        body: dict[str, str] = {LEGS_FIELD: legs.value}
        for leg, names in LEG_FIELDS.items():
            url, method = request.leg_url(leg)
            if leg in legs.redirected and url is None:
                raise InvalidRequestError(
                    f"Transferring legs={legs.value} needs {names.url}"
                )
            if url is not None:
                body[names.url] = require_http_url(url, names.url)
                body[names.method] = method.value
        return body

    async def _request_object(
        self, method: str, path: str, *, acts: bool = False, **body: Any
    ) -> dict[str, Any]:
        """Send one request (``body``: JSON or query); return the JSON object answered."""
        answer, _ = await self._http.request_object(
            method,
            path,
            provider=self.display_name,
            request_id_header=self.request_id_header,
            read_error=self._error,
            acts=acts,
            **body,
        )
        return answer

    def _error(
        self, response: ApiResponse, request_id: str | None, acts: bool
    ) -> CallTransferError:
        """Read an error answer; its ``api_id`` names the request better than a header."""
        data = response.json()
        return error_for_response(
            response,
            message=self._error_message(data),
            request_id=_request_id(data) or request_id,
            acts=acts,
        )

    def _error_message(self, data: Any) -> str | None:
        """Return the message from any of the error envelopes this family sends.

        ``{"api_id", "error"}`` (Plivo, Vobiz), ``{"api_id", "error", "message"}`` and
        ``{"error": {"code", "message"}, "requestId"}`` (Vobiz).
        """
        if not isinstance(data, dict):
            return None
        error = data.get("error")
        if isinstance(error, dict):
            error = error.get("message") or error.get("code")
        message = data.get("message")
        return next((t for t in (message, error) if isinstance(t, str) and t), None)


def _request_id(data: Any) -> str | None:
    if isinstance(data, dict):
        for key in ("api_id", "requestId", "request_uuid"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def _scalar(value: Any) -> str | int | float | bool | None:
    return value if isinstance(value, str | int | float | bool) else None


def _text(record: Mapping[str, Any], *keys: str) -> str | None:
    """Return the first of ``keys`` that holds text (how each provider spells a field)."""
    return next((text for key in keys if (text := text_or_none(record.get(key)))), None)


def _zoned_time(value: str | None) -> datetime | None:
    """Read an ISO time (``T`` or a space; ``Z`` or an offset); None without a zone."""
    try:
        moment = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _parse_session_start(value: Any) -> datetime | None:
    """Read a start given as ``YYYY-MM-DD HH:MM:SS[.ffffff]`` without a zone, as UTC."""
    if not isinstance(value, str):
        return None
    try:
        started = datetime.fromisoformat(value)
    except ValueError:
        return None
    return started if started.tzinfo else started.replace(tzinfo=UTC)
