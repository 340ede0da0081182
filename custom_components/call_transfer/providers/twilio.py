"""Twilio: a transfer gives the live call new TwiML, inline (to a number) or from a URL.

Push (``twilio_callbacks``): a phone number's ``StatusCallback`` tells its calls'
ends; a transfer's ``<Dial action>`` tells whether the number answered. Registration
sets the number's ``StatusCallback`` through the IncomingPhoneNumber resource
(twilio.com/docs/phone-numbers/api/incomingphonenumber-resource: ``GET``/``POST
/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json``, form fields
``StatusCallback`` and ``StatusCallbackMethod``). Callbacks are signed with the
account's auth token, which an account using an API key gives as ``auth_token``.

Answer-first (``push_answer_first``): registration also sets the number's
``VoiceUrl`` (``VoiceMethod`` POST), so each call's voice request tells its start and
is answered with TwiML redirecting it to the voice URL that was there. A number whose
calls a TwiML App answers (``voice_application_sid``: Twilio then ignores its
``VoiceUrl``), or that has no voice URL to send calls on to, cannot be answered first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
import re
from typing import Any, Final, Unpack
from urllib.parse import parse_qsl, urlsplit

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
    configured,
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
    CallTransferError,
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
    basic_auth,
    error_for_code,
    error_for_response,
)
from .models import (
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
from .twilio_callbacks import verify
from .validation import require_http_url, text_or_none

TWILIO_API_URL: Final = "https://api.twilio.com/2010-04-01"
# SID formats of the API's path parameters (Twilio's OpenAPI description).
ACCOUNT_SID: Final = re.compile(r"AC[0-9a-fA-F]{32}")
API_KEY_SID: Final = re.compile(r"SK[0-9a-fA-F]{32}")
CALL_SID: Final = re.compile(r"CA[0-9a-fA-F]{32}")
PHONE_NUMBER_SID: Final = re.compile(r"PN[0-9a-fA-F]{32}")
# The option naming the phone number whose StatusCallback push registration sets.
PHONE_NUMBER_SID_OPTION: Final = "phone_number_sid"
# The number's fields a push registration sets, and writes back when undone: its
# status callback, and with answer-first its voice URL (each with its method), by the
# name of the form field that sets it.
_STATUS_CALLBACK_FIELDS: Final = {
    "status_callback": "StatusCallback",
    "status_callback_method": "StatusCallbackMethod",
}
_VOICE_FIELDS: Final = {"voice_url": "VoiceUrl", "voice_method": "VoiceMethod"}
# The statuses of a call not over yet (twilio.com/docs/voice/api/call-resource).
_UNFINISHED: Final = frozenset({"queued", "ringing", "in-progress"})
# Twilio error codes that say more than their HTTP status.
_ERROR_CODES: Final[Mapping[int, type[CallTransferError]]] = {
    20003: InvalidAuthError,  # Permission denied: the credentials
    20404: CallNotFoundError,  # Not found
    21220: CallNotFoundError,  # Invalid call state: the call is not in progress
}
_REQUEST_ID_HEADER: Final = "Twilio-Request-Id"
# Calls per page of the live-call listing, and pages read at most. A call takes about
# 1.5 kB: a page stays well within what an answer may hold (1 MiB).
LIST_PAGE_SIZE: Final = 200
MAX_LIST_PAGES: Final = 10
# Non-secret facts of the Account resource worth showing; never the whole object
# (it holds the account's auth token).
_ACCOUNT_DETAILS: Final = ("status", "type")


class TwilioClient(TransferProvider):
    """Client for Twilio's Programmable Voice REST API (the 2010-04-01 API)."""

    provider_id = "twilio"
    display_name = "Twilio"
    default_base_url = TWILIO_API_URL
    credential_fields = (
        CredentialField(key="account_sid", secret=False),
        # The account's auth token, or the secret of the API key named by api_key_sid.
        CredentialField(key="secret", secret=True),
        CredentialField(key="api_key_sid", secret=False, required=False),
        # With an API key: the account's auth token, used only to verify callbacks.
        CredentialField(key="auth_token", secret=True, required=False),
    )
    option_fields = (
        *dial_option_fields(max_ring_timeout=600),
        OptionField(key=PHONE_NUMBER_SID_OPTION, kind=OptionKind.IDENTIFIER),
        ANSWER_FIRST_FIELD,
    )
    # A Call SID names one call: the update redirects that call, whichever leg it is.
    capabilities = TransferCapabilities(
        number_transfer=NumberTransfer.IN_REQUEST,
        xml_url_legs=frozenset({TransferLegs.ALEG}),
    )
    looks_up_calls = True
    # A number's StatusCallback tells only calls ending; a transfer's Dial action its
    # outcome, answered with TwiML that ends the call as the Dial alone would. With
    # answer-first, calls start at the number's VoiceUrl, answered with a Redirect to
    # the one it had: TwiML, served as text/xml.
    push = PushCapabilities(
        reports_transfer_outcomes=True,
        registration_option=PHONE_NUMBER_SID_OPTION,
        answer_content_type="text/xml",
        answer_body=f"{XML_DECLARATION}<Response></Response>",
        answer_first_option=ANSWER_FIRST,
    )

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        account_sid: str,
        secret: str,
        api_key_sid: str | None = None,
        auth_token: str | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        phone_number_sid: str | None = None,
        push_answer_first: bool = False,
        **dial_options: Unpack[DialOptions],
    ) -> None:
        """Create a client for one account, authenticated by its auth token or an API key.

        ``auth_token`` (with an API key) verifies callbacks; ``phone_number_sid`` names
        the number whose StatusCallback push registration sets (with
        ``push_answer_first``, its VoiceUrl too); ``dial_options`` shape the TwiML of
        transfers to a number.
        """
        if not ACCOUNT_SID.fullmatch(account_sid):
            raise InvalidAuthError(
                "The Account SID is AC followed by 32 hexadecimal digits"
            )
        if api_key_sid is not None and not API_KEY_SID.fullmatch(api_key_sid):
            raise InvalidAuthError(
                "An API key SID is SK followed by 32 hexadecimal digits"
            )
        self.account_sid = account_sid
        self.phone_number_sid = phone_number_sid
        self.answer_first = push_answer_first
        self._api_key_sid = api_key_sid
        # What Twilio signs callbacks with: the auth token, never an API key's secret.
        self._signing_key = auth_token or (secret if api_key_sid is None else None)
        self._account_path = f"/Accounts/{account_sid}"
        self._twiml = partial(dial_xml, **dial_options, speak_verb="Say")
        authorization = basic_auth(api_key_sid or account_sid, secret)
        self._http = HttpClient(
            session,
            base_url or TWILIO_API_URL,
            {"Authorization": authorization},
            secrets=(
                secret,
                authorization.removeprefix("Basic "),
                *((auth_token,) if auth_token else ()),
            ),
            timeout=timeout,
        )
        # Every request: a JSON object back, or the provider's error read by _error.
        self._request_object = partial(
            self._http.request_object,
            provider=self.display_name,
            request_id_header=_REQUEST_ID_HEADER,
            read_error=self._error,
        )

    async def async_validate(self) -> AccountInfo:
        """Check the credentials and name the account they belong to.

        The auth token reads the Account resource. Standard API keys may not read
        it, so an API key is checked with the request transfers need: the call list.
        """
        with forbidden_is_invalid_auth():
            if self._api_key_sid is not None:
                await self._calls_page({"PageSize": "1"})
                return AccountInfo(account_id=self.account_sid, name=self.account_sid)
            account, _ = await self._request_object("GET", f"{self._account_path}.json")
        if account.get("sid") != self.account_sid:
            raise UnexpectedResponseError("Twilio sent an account without its SID")
        return AccountInfo(
            account_id=self.account_sid,
            name=text_or_none(account.get("friendly_name")) or self.account_sid,
            details={
                key: value
                for key in _ACCOUNT_DETAILS
                if isinstance(value := account.get(key), str)
            },
        )

    async def async_transfer(self, request: TransferRequest) -> TransferResult:
        """Give the call new instructions: TwiML that dials ``to``, or a TwiML URL."""
        answer, request_id = await self._request_object(
            "POST",
            self._call_path(request.call_id),
            form=self._update_body(request),
            acts=True,
        )
        status = text_or_none(answer.get("status"))
        return accepted_transfer(
            request.call_id,
            f"call updated, status {status}"
            if status and answer.get("sid") == request.call_id
            else None,
            request_id,
            unreadable="Twilio accepted the new instructions but sent no call status",
        )

    async def async_live_calls(
        self, known: Mapping[str, LiveCall] | None = None
    ) -> list[LiveCall]:
        """List the calls in progress, page by page; the listing has every detail."""
        params: dict[str, str] = {
            "Status": "in-progress",
            "PageSize": str(LIST_PAGE_SIZE),
        }
        calls: list[LiveCall] = []
        for _ in range(MAX_LIST_PAGES):
            page = await self._calls_page(params)
            calls += [_live_call(call) for call in page["calls"] if call.get("sid")]
            next_page = page.get("next_page_uri")
            if not isinstance(next_page, str) or not next_page:
                break
            # Only the query of the next page is used: requests go to our base URL only.
            params = dict(parse_qsl(urlsplit(next_page).query))
        return calls

    async def async_call_is_live(self, call_id: str) -> bool:
        """Fetch the Call resource: live while its status is ``in-progress``."""
        try:
            call, _ = await self._request_object("GET", self._call_path(call_id))
        except CallNotFoundError:
            return False
        return call.get("status") == "in-progress"

    async def async_confirm_call(self, call_id: str) -> ConfirmedCall | None:
        """Fetch the Call resource: live while queued, ringing or in progress.

        None when Twilio does not know the call.
        """
        try:
            call, _ = await self._request_object("GET", self._call_path(call_id))
        except CallNotFoundError:
            return None
        return ConfirmedCall(
            call=_live_call(call | {"sid": call_id}),
            live=call.get("status") in _UNFINISHED,
        )

    def dial_xml(self, number: str, *, report_url: str | None = None) -> str:
        """Return TwiML that dials ``number`` with this account's dial options.

        With ``report_url``, the Number's status callback reports there when the
        number answers (``answered``), and the Dial's ``action`` its final outcome
        (``DialCallStatus``: the only report of one not answered); the answer to
        that request ends the call, as the Dial alone would.
        """
        if not report_url:
            return self._twiml(number)
        return self._twiml(
            number,
            report={"action": report_url, "method": "POST"},
            number_report={
                "statusCallbackEvent": "answered",
                "statusCallback": report_url,
                "statusCallbackMethod": "POST",
            },
        )

    async def async_validate_options(self) -> None:
        """Check that the phone number named for push registration is the account's.

        With answer-first, also that its calls can be answered first.
        """
        if self.phone_number_sid is not None:
            number = await self._phone_number(self._number_path())
            if self.answer_first:
                _check_answerable(number)

    def verify_callback(
        self, request: CallbackRequest, replay_guard: ReplayGuard
    ) -> VerifiedCallback:
        """Verify ``X-Twilio-Signature`` with the auth token, then read what it tells."""
        key = configured(
            self._signing_key,
            "An account using an API key needs its auth token to verify callbacks",
        )
        return verify(request, key, replay_guard)

    @property
    def callback_fields(self) -> frozenset[str]:
        """The status callback and its method; with answer-first the voice URL and method too."""
        return frozenset(self._registered_fields())

    def _registered_fields(self) -> dict[str, str]:
        return _STATUS_CALLBACK_FIELDS | (_VOICE_FIELDS if self.answer_first else {})

    async def async_register_callback_url(self, url: str) -> RegisteredCallback:
        """Set the phone number's StatusCallback (POST) to ``url``; return its old one.

        With answer-first, its VoiceUrl (POST) too, the old one kept as well; a number
        that cannot be answered first is refused before anything is changed.
        """
        path = self._number_path()
        number = await self._phone_number(path)
        if self.answer_first:
            _check_answerable(number)
        fields = self._registered_fields()
        previous = {name: text_or_none(number.get(name)) or "" for name in fields}
        await self._request_object(
            "POST",
            path,
            form={
                form_field: "POST" if name.endswith("_method") else url
                for name, form_field in fields.items()
            },
        )
        assert self.phone_number_sid is not None  # _number_path checked it
        return RegisteredCallback(
            target=self.phone_number_sid, url=url, previous=previous
        )

    async def async_restore_callback_url(self, registered: RegisteredCallback) -> None:
        """Write the phone number's StatusCallback (and VoiceUrl) back as they were.

        An empty URL is written back empty (clearing it); an empty method as POST.
        """
        replaced = _STATUS_CALLBACK_FIELDS | {
            name: form_field
            for name, form_field in _VOICE_FIELDS.items()
            if name in registered.previous
        }
        await self._request_object(
            "POST",
            self._number_path(registered.target),
            form={
                form_field: registered.previous.get(name, "")
                or ("POST" if name.endswith("_method") else "")
                for name, form_field in replaced.items()
            },
        )

    def answer_redirect(self, registered: RegisteredCallback) -> str | None:
        """Return TwiML redirecting a call to the voice URL registration replaced."""
        url = registered.previous.get("voice_url")
        if not url:
            return None
        return redirect_xml(url, registered.previous.get("voice_method") or "POST")

    def _number_path(self, number_sid: str | None = None) -> str:
        """Return the path of the IncomingPhoneNumber named; refuse what is not a PN SID."""
        sid = number_sid or self.phone_number_sid
        if sid is None or not PHONE_NUMBER_SID.fullmatch(sid):
            raise InvalidOptionError(
                "Name the Twilio phone number by its SID: PN followed by 32 hexadecimal digits",
                option=PHONE_NUMBER_SID_OPTION,
            )
        return f"{self._account_path}/IncomingPhoneNumbers/{sid}.json"

    async def _phone_number(self, path: str) -> dict[str, Any]:
        with refusal_names_option(PHONE_NUMBER_SID_OPTION, CallNotFoundError):
            number, _ = await self._request_object("GET", path)
        return number

    def _call_path(self, call_id: str) -> str:
        """Return the path of one Call resource; refuse what is not a Call SID."""
        if not CALL_SID.fullmatch(call_id):
            raise InvalidRequestError(
                "A Twilio call ID is a Call SID: CA followed by 32 hexadecimal digits"
            )
        return f"{self._account_path}/Calls/{call_id}.json"

    def _update_body(self, request: TransferRequest) -> dict[str, str]:
        """Build the form of a call update, validated so a bad request is never sent."""
        if request.legs is not TransferLegs.ALEG or request.bleg_url is not None:
            raise InvalidRequestError(
                "Twilio redirects the call it is given: use aleg_url, not legs or bleg_url"
            )
        if request.to is not None:
            if request.aleg_url is not None:
                raise InvalidRequestError("Give either to or aleg_url, not both")
            return {"Twiml": self.dial_xml(request.to, report_url=request.report_url)}
        if request.aleg_url is None:
            raise InvalidRequestError(
                "A Twilio transfer needs to (a number) or aleg_url (a URL answering TwiML)"
            )
        return {
            "Url": require_http_url(request.aleg_url, "aleg_url"),
            "Method": request.aleg_method.value,
        }

    async def _calls_page(self, params: Mapping[str, str]) -> dict[str, Any]:
        page, _ = await self._request_object(
            "GET", f"{self._account_path}/Calls.json", params=params
        )
        calls = page.get("calls")
        if not isinstance(calls, list) or not all(isinstance(c, dict) for c in calls):
            raise UnexpectedResponseError(
                "Twilio sent a call list of an unexpected shape"
            )
        return page

    def _error(
        self, response: ApiResponse, request_id: str | None, acts: bool
    ) -> CallTransferError:
        """Map Twilio's ``{code, message, more_info, status}`` by its code, then by status."""
        data = response.json()
        envelope = data if isinstance(data, dict) else {}
        code = envelope.get("code") if isinstance(envelope.get("code"), int) else None
        message = text_or_none(envelope.get("message"))
        if message is not None and code is not None:
            message = f"{message} (Twilio error {code})"
        return error_for_code(
            _ERROR_CODES,
            code,
            response,
            message=message or f"Twilio error {code}",
            request_id=request_id,
        ) or error_for_response(
            response, message=message, request_id=request_id, acts=acts
        )


def _check_answerable(number: Mapping[str, Any]) -> None:
    """Refuse a number whose calls cannot be answered first, and say why.

    A TwiML App's voice URL answers its calls (Twilio ignores the number's VoiceUrl);
    without a voice URL, there is nowhere to send a call on to.
    """
    if text_or_none(number.get("voice_application_sid")):
        raise InvalidOptionError(
            "A TwiML App answers this number's calls: Twilio ignores its voice URL",
            option=ANSWER_FIRST,
        )
    if not text_or_none(number.get("voice_url")):
        raise InvalidOptionError(
            "The number has no voice URL to send its calls on to",
            option=ANSWER_FIRST,
        )


def _live_call(call: Mapping[str, Any]) -> LiveCall:
    return LiveCall(
        call_id=str(call["sid"]),
        from_number=text_or_none(call.get("from")),
        to_number=text_or_none(call.get("to")),
        started=_parse_rfc2822(call.get("start_time")),
        status=text_or_none(call.get("status")),
        direction=text_or_none(call.get("direction")),
    )


def _parse_rfc2822(value: Any) -> datetime | None:
    """Twilio gives times as RFC 2822 dates in UTC (``Tue, 31 Aug 2010 20:36:29 +0000``)."""
    if not isinstance(value, str):
        return None
    try:
        started = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return started if started.tzinfo else started.replace(tzinfo=UTC)
