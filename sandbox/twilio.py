"""The Twilio REST API (``https://api.twilio.com/2010-04-01``), as documented.

HTTP Basic authentication with the Account SID and auth token, or with an API key
SID and its secret; request bodies are form-encoded; errors are
``{"code", "message", "more_info", "status"}`` with Twilio's error codes (20003 for
rejected credentials, 20404 for an unknown resource, 21220 for a call that is not in
progress, 20429 for too many requests; otherwise the HTTP status, as Twilio's error
dictionary lists 400, 403, 404). Every response carries a ``Twilio-Request-Id``.
Beyond the docs, and on purpose strict: an API key may not read the Accounts resource
(as Twilio's Standard keys; the status Twilio answers that with is not documented, the
sandbox sends 403 with 20403), an update with a parameter Twilio does not document,
or with neither ``Url``, ``Twiml`` nor ``Status``, answers 400, and so does TwiML
that is not a ``<Response>`` document.

A phone number (``IncomingPhoneNumbers/{Sid}.json``, twilio.com/docs/phone-numbers/api/
incomingphonenumber-resource) is read with ``GET`` and updated with ``POST``: its
``StatusCallback`` (an empty one clears it), ``StatusCallbackMethod``, ``VoiceUrl``,
``VoiceMethod``, ``VoiceApplicationSid`` (an ``AP`` SID, or empty to clear it) and
``FriendlyName``; the other documented fields are refused (400) on purpose. An inbound
call to a number requests its ``VoiceUrl`` (``twilio_callbacks.voice_params``) unless a
TwiML App answers it; inline TwiML whose ``<Dial>`` asks for its outcome (``action``,
the Number's ``statusCallback``) is reported by the callback sender (``twilio_callbacks``).

After an update that redirects the call to a ``Url``, the sandbox fetches it as Twilio
does (``legfetch``, loopback addresses only), with Twilio's request parameters
(``CallSid``, ``AccountSid``, ``From``, ``To``, ``CallStatus``, ``ApiVersion``,
``Direction``; twilio.com/docs/usage/webhooks/voice-webhooks), and checks the answer as
TwiML: ``<Say>`` (twilio.com/docs/voice/twiml/say) and ``<Dial>`` with ``<Number>``,
``<Sip>`` or ``<Client>`` (/docs/voice/twiml/dial). Stricter than Twilio on purpose:
XML only (Twilio also plays an audio file or reads plain text), E.164 numbers inside
``<Number>`` (not as ``<Dial>``'s own text), and only the voices man, woman and alice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
import re
from typing import Any, Final
from urllib.parse import urlencode
import uuid
from xml.etree.ElementTree import Element, ParseError, fromstring

from aiohttp import web

from .api import (
    FORM,
    ApiRequest,
    BadRequestError,
    ProviderApi,
    Route,
    basic_credentials,
    is_http_url,
    refuse_unknown_fields,
    require_form,
)
from .callxml import CHOICES, CallXmlError, XmlDialect, parse_call_xml
from .legfetch import LegFetch, LegFetcher
from .state import (
    CallStatus,
    LegOutcome,
    LegResult,
    SandboxCall,
    SandboxState,
    TwilioAccount,
    TwilioNumber,
)

API_VERSION: Final = "/2010-04-01"
UPDATE_FIELDS: Final = frozenset(
    {
        "Url",
        "Method",
        "Status",
        "FallbackUrl",
        "FallbackMethod",
        "StatusCallback",
        "StatusCallbackMethod",
        "Twiml",
        "TimeLimit",
    }
)
_URL_FIELDS: Final = ("Url", "FallbackUrl", "StatusCallback")
_METHOD_FIELDS: Final = ("Method", "FallbackMethod", "StatusCallbackMethod")
# The IncomingPhoneNumber fields the sandbox updates (Twilio documents more; the
# sandbox refuses those), each with the resource field it sets.
NUMBER_FIELDS: Final[Mapping[str, str]] = {
    "FriendlyName": "friendly_name",
    "VoiceUrl": "voice_url",
    "VoiceMethod": "voice_method",
    "VoiceApplicationSid": "voice_application_sid",
    "StatusCallback": "status_callback",
    "StatusCallbackMethod": "status_callback_method",
}
UPDATE_STATUSES: Final = ("canceled", "completed")
CALL_STATUSES: Final = (
    "queued",
    "ringing",
    "in-progress",
    "canceled",
    "completed",
    "failed",
    "busy",
    "no-answer",
)
DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 1000
# Twilio's error code for each HTTP status the sandbox answers with, where it has one.
_ERROR_CODES: Final[Mapping[int, int]] = {
    401: 20003,
    403: 20403,
    404: 20404,
    429: 20429,
}
NOT_IN_PROGRESS: Final = 21220
INVALID_PAGE_TOKEN: Final = 21481
_STATUS_CALLBACK: Final = frozenset(
    {"statusCallbackEvent", "statusCallback", "statusCallbackMethod"}
)
# The TwiML a redirected call's Url may answer, as the sandbox reads it.
TWIML: Final = XmlDialect(
    "Twilio",
    "TwiML",
    {
        "Response": (frozenset(), frozenset({"Say", "Dial"})),
        "Say": (frozenset({"voice", "language", "loop"}), frozenset()),
        "Dial": (
            frozenset(
                {
                    "action",
                    "method",
                    "timeout",
                    "hangupOnStar",
                    "timeLimit",
                    "callerId",
                    "record",
                    "trim",
                    "answerOnBridge",
                    "ringTone",
                    "sequential",
                }
            ),
            frozenset({"Number", "Sip", "Client"}),
        ),
        "Number": (
            frozenset({"sendDigits", "url", "method", "byoc"}) | _STATUS_CALLBACK,
            frozenset(),
        ),
        "Sip": (
            frozenset({"username", "password", "url", "method"}) | _STATUS_CALLBACK,
            frozenset(),
        ),
        "Client": (frozenset({"url", "method"}) | _STATUS_CALLBACK, frozenset()),
    },
    speak="Say",
    choices={
        "voice": frozenset({"man", "woman", "alice"}),
        "method": CHOICES["method"],
        "hangupOnStar": CHOICES["hangupOnStar"],
        "answerOnBridge": CHOICES["hangupOnStar"],
    },
    sip_elements=frozenset({"Sip"}),
)
_APPLICATION_SID: Final = re.compile(r"AP[0-9a-fA-F]{32}")
_ACCOUNT_IN_PATH: Final = re.compile(r"/Accounts/(?P<sid>[^/.]+)")
_CALL_IN_PATH: Final = re.compile(r"/Calls/(?P<sid>[^/.]+)\.json")


@dataclass(frozen=True, slots=True)
class TwilioLogin:
    """The account a request authenticated as, and the API key it used, if any."""

    account: TwilioAccount
    api_key_sid: str | None


class TwilioApi(ProviderApi[TwilioLogin]):
    """Twilio: HTTP Basic, form-encoded bodies, ``.json`` resource paths."""

    name = "twilio"
    prefix = f"/twilio{API_VERSION}"
    unauthorized_message = "Authenticate"
    body_type = FORM

    def __init__(self, state: SandboxState, leg_fetcher: LegFetcher) -> None:
        """Serve ``state``; after a redirect to a Url, ``leg_fetcher`` fetches it."""
        super().__init__(state)
        self.leg_fetcher = leg_fetcher

    def build_routes(self) -> Sequence[Route[TwilioLogin]]:
        """Return the documented paths."""
        return (
            Route(re.compile(r"/Accounts/[^/]+\.json"), {"GET": self._account}),
            Route(re.compile(r"/Accounts/[^/]+/Calls\.json"), {"GET": self._calls}),
            Route(
                re.compile(r"/Accounts/[^/]+/Calls/(?P<call_sid>[^/]+)\.json"),
                {"GET": self._call, "POST": self._update},
            ),
            Route(
                re.compile(
                    r"/Accounts/[^/]+/IncomingPhoneNumbers/(?P<number_sid>[^/]+)\.json"
                ),
                {"GET": self._number, "POST": self._update_number},
            ),
        )

    def authenticate(self, request: ApiRequest) -> TwilioLogin | None:
        """Accept the auth token or an API key of the account the path names."""
        credentials = basic_credentials(request.headers.get("Authorization", ""))
        if credentials is None:
            return None
        login = self._login(*credentials)
        named = _ACCOUNT_IN_PATH.match(request.path)
        if login is None or (named is not None and named["sid"] != login.account.sid):
            return None
        return login

    def account_key(self, account: TwilioLogin) -> str:
        """Faults name a Twilio account by its Account SID."""
        return account.account.sid

    def call_id_of(self, request: ApiRequest) -> str | None:
        """Return the Call SID in the path."""
        named = _CALL_IN_PATH.search(request.path)
        return named["sid"] if named else None

    def error_body(self, status: int, message: str) -> Any:
        """Twilio's error object, with the code Twilio uses for the status."""
        return _error(_ERROR_CODES.get(status, status), status, message)

    def finish(self, response: web.Response) -> web.Response:
        """Every Twilio response names its request."""
        response.headers["Twilio-Request-Id"] = f"RQ{uuid.uuid4().hex}"
        return response

    def _login(self, username: str, password: str) -> TwilioLogin | None:
        account = self.state.twilio_accounts.get(username)
        if account is not None:
            return (
                TwilioLogin(account, None) if password == account.auth_token else None
            )
        for account in self.state.twilio_accounts.values():
            if account.api_keys.get(username) == password:
                return TwilioLogin(account, username)
        return None

    def _account(
        self, request: ApiRequest, login: TwilioLogin, params: dict[str, str]
    ) -> web.Response:
        if login.api_key_sid is not None:
            return self.error(
                HTTPStatus.FORBIDDEN, "API keys may not access the Accounts resource"
            )
        account = login.account
        return self.ok(
            {
                "sid": account.sid,
                "owner_account_sid": account.sid,
                "friendly_name": account.friendly_name,
                "status": account.status,
                "type": account.type,
                "auth_token": account.auth_token,
                "date_created": _rfc2822(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
                "uri": f"{API_VERSION}/Accounts/{account.sid}.json",
                "subresource_uris": {
                    "calls": f"{API_VERSION}/Accounts/{account.sid}/Calls.json"
                },
            }
        )

    def _calls(
        self, request: ApiRequest, login: TwilioLogin, params: dict[str, str]
    ) -> web.Response:
        """One page of the account's calls, newest first, as Twilio pages them."""
        account = login.account
        query = dict(request.query)
        status = query.get("Status")
        if status is not None and status not in CALL_STATUSES:
            raise BadRequestError(f"Status must be one of {', '.join(CALL_STATUSES)}")
        page_size = min(
            _whole(query, "PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
            account.page_size_limit,
        )
        page = _whole(query, "Page", 0, 0, 1_000_000)
        every_call = self.state.account_calls("twilio", account.sid)[::-1]
        if page > 0:
            token = query.get("PageToken", "")
            earlier = [c.call_id for c in every_call]
            if not token.startswith("PA") or token[2:] not in earlier:
                return self._error_response(
                    HTTPStatus.BAD_REQUEST, INVALID_PAGE_TOKEN, "Invalid PageToken"
                )
            every_call = every_call[earlier.index(token[2:]) + 1 :]
        matching = self.state.listed(
            [c for c in every_call if status is None or c.status == status]
        )
        calls = matching[:page_size]
        path = f"{API_VERSION}/Accounts/{account.sid}/Calls.json"
        next_page = None
        if len(matching) > page_size:
            following = query | {
                "PageSize": str(page_size),
                "Page": str(page + 1),
                "PageToken": f"PA{calls[-1].call_id}",
            }
            next_page = f"{path}?{urlencode(following)}"
        first = query | {"PageSize": str(page_size), "Page": "0"}
        first.pop("PageToken", None)
        return self.ok(
            {
                "calls": [_call_resource(call) for call in calls],
                "first_page_uri": f"{path}?{urlencode(first)}",
                "next_page_uri": next_page,
                "previous_page_uri": None,
                "page": page,
                "page_size": page_size,
                "start": page * page_size,
                "end": page * page_size + max(len(calls) - 1, 0),
                "uri": f"{path}?{urlencode(query)}",
            }
        )

    def _call(
        self, request: ApiRequest, login: TwilioLogin, params: dict[str, str]
    ) -> web.Response:
        call = self.state.account_call("twilio", login.account.sid, params["call_sid"])
        if call is None:
            return self._not_found(request)
        return self.ok(_call_resource(call))

    def _update(
        self, request: ApiRequest, login: TwilioLogin, params: dict[str, str]
    ) -> web.Response:
        """Redirect a call in progress to new TwiML (inline or at a URL), or end it."""
        form = require_form(request)
        order = parse_update(form)
        call = self.state.account_call("twilio", login.account.sid, params["call_sid"])
        if call is None:
            return self._not_found(request)
        if not call.live:
            return self._error_response(
                HTTPStatus.BAD_REQUEST,
                NOT_IN_PROGRESS,
                "Call is not in-progress. Cannot redirect.",
            )
        if form.get("Status") == "completed":
            self.state.end_call(call.call_id)
        elif "Url" in form or "Twiml" in form:
            call.transfers.append(dict(form))
            call.transferred_to = order
            if "Twiml" in form:
                self._dial(call, form["Twiml"])
            if "Url" in form:
                self.leg_fetcher.plan_fetch(
                    LegFetch(
                        call,
                        "aleg",
                        form["Url"],
                        form.get("Method", "POST"),
                        TWIML,
                        _request_parameters(call),
                    )
                )
        return self.ok(_call_resource(call))

    def _dial(self, call: SandboxCall, twiml: str) -> None:
        """Tell the callback sender of inline TwiML's Dial (its ``action`` awaits the outcome)."""
        try:
            plan = parse_call_xml(twiml.encode(), TWIML)
        except CallXmlError:
            return  # TwiML the sandbox reads no further (a Sip, Client, or a voice)
        number = _twiml(twiml).find("Dial/Number")
        report = plan.report | {
            name: value
            for name, value in (number.attrib if number is not None else {}).items()
            if name in _STATUS_CALLBACK
        }
        if self.leg_fetcher.on_dial is not None:
            self.leg_fetcher.on_dial(
                call,
                LegOutcome(
                    call_id=call.call_id,
                    leg="aleg",
                    method="POST",
                    url="",
                    params=_request_parameters(call),
                    result=LegResult.DIALING,
                    numbers=plan.numbers,
                    caller_id=plan.caller_id,
                    report=report,
                ),
            )

    def _number(
        self, request: ApiRequest, login: TwilioLogin, params: dict[str, str]
    ) -> web.Response:
        number = login.account.numbers.get(params["number_sid"])
        if number is None:
            return self._not_found(request)
        return self.ok(_number_resource(login.account, number))

    def _update_number(
        self, request: ApiRequest, login: TwilioLogin, params: dict[str, str]
    ) -> web.Response:
        """Update a number's voice URL or status callback (an empty URL clears it)."""
        form = require_form(request)
        refuse_unknown_fields(form, frozenset(NUMBER_FIELDS))
        for field in ("VoiceUrl", "StatusCallback"):
            if form.get(field) and not is_http_url(form[field]):
                raise BadRequestError(f"{field} is not a valid URL")
        for field in ("VoiceMethod", "StatusCallbackMethod"):
            if form.get(field, "POST") not in ("GET", "POST"):
                raise BadRequestError(f"{field} must be GET or POST")
        application = form.get("VoiceApplicationSid", "")
        if application and not _APPLICATION_SID.fullmatch(application):
            raise BadRequestError("VoiceApplicationSid is not an Application SID")
        number = login.account.numbers.get(params["number_sid"])
        if number is None:
            return self._not_found(request)
        for name, value in form.items():
            setattr(number, NUMBER_FIELDS[name], value)
        return self.ok(_number_resource(login.account, number))

    def _not_found(self, request: ApiRequest) -> web.Response:
        return self.error(
            HTTPStatus.NOT_FOUND,
            f"The requested resource {API_VERSION}{request.path} was not found",
        )

    def _error_response(self, status: int, code: int, message: str) -> web.Response:
        return self.finish(
            web.json_response(_error(code, status, message), status=status)
        )


def parse_update(form: Mapping[str, str]) -> str | None:
    """Check a call update; return where it sends the call (numbers dialed, or the URL)."""
    refuse_unknown_fields(form, UPDATE_FIELDS)
    if "Url" in form and "Twiml" in form:
        raise BadRequestError("Twiml and Url are mutually exclusive")
    if not {"Url", "Twiml", "Status"} & set(form):
        raise BadRequestError("Url, Twiml or Status is required")
    for field in _URL_FIELDS:
        if field in form and not is_http_url(form[field]):
            raise BadRequestError(f"{field} is not a valid URL")
    for field in _METHOD_FIELDS:
        if form.get(field, "POST") not in ("GET", "POST"):
            raise BadRequestError(f"{field} must be GET or POST")
    if form.get("Status", "completed") not in UPDATE_STATUSES:
        raise BadRequestError("Status must be canceled or completed")
    if "Twiml" in form:
        return ", ".join(_dialed(_twiml(form["Twiml"]))) or None
    return form.get("Url")


def _twiml(text: str) -> Element:
    """Parse TwiML: an XML document whose root is ``<Response>``."""
    try:
        # The sandbox parses what its own clients send on loopback.
        root = fromstring(text)  # noqa: S314
    except ParseError as err:
        raise BadRequestError(f"Twiml is not well-formed XML: {err}") from err
    if root.tag != "Response":
        raise BadRequestError("Twiml must be a <Response> document")
    return root


def _dialed(root: Element) -> list[str]:
    return [(number.text or "").strip() for number in root.iterfind("Dial/Number")]


def _whole(
    query: Mapping[str, str], name: str, default: int, minimum: int, maximum: int
) -> int:
    value = query.get(name)
    if value is None:
        return default
    if not value.isdigit() or not minimum <= int(value) <= maximum:
        raise BadRequestError(
            f"{name} must be a whole number from {minimum} to {maximum}"
        )
    return int(value)


def _error(code: int, status: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC))


def _request_parameters(call: SandboxCall) -> dict[str, str]:
    """Return what Twilio sends when it requests TwiML for a call."""
    return {
        "CallSid": call.call_id,
        "AccountSid": call.account,
        "ApiVersion": API_VERSION.strip("/"),
        "From": call.from_number,
        "To": call.to_number,
        "CallStatus": call.status.value,
        "Direction": call.direction,
    }


def _number_resource(account: TwilioAccount, number: TwilioNumber) -> dict[str, Any]:
    """Describe a number as Twilio's IncomingPhoneNumber resource does (in part)."""
    return {
        "sid": number.sid,
        "account_sid": account.sid,
        "friendly_name": number.friendly_name,
        "phone_number": number.phone_number,
        "voice_url": number.voice_url,
        "voice_method": number.voice_method,
        "voice_fallback_url": None,
        "voice_fallback_method": "POST",
        "voice_caller_id_lookup": False,
        "voice_application_sid": number.voice_application_sid or None,
        "status_callback": number.status_callback,
        "status_callback_method": number.status_callback_method,
        "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
        "status": "in-use",
        "api_version": API_VERSION.strip("/"),
        "uri": f"{API_VERSION}/Accounts/{account.sid}/IncomingPhoneNumbers/{number.sid}.json",
    }


def _call_resource(call: SandboxCall) -> dict[str, Any]:
    """Describe a call as Twilio's Call resource does (what clients read, and a little more)."""
    live = call.status is CallStatus.IN_PROGRESS
    return {
        "sid": call.call_id,
        "account_sid": call.account,
        "parent_call_sid": None,
        "from": call.from_number,
        "to": call.to_number,
        "status": call.status.value,
        "direction": call.direction,
        "caller_name": call.caller_name or None,
        "start_time": _rfc2822(call.started),
        "end_time": None if live else _rfc2822(datetime.now(UTC)),
        "duration": None,
        "date_created": _rfc2822(call.started),
        "api_version": API_VERSION.strip("/"),
        "uri": f"{API_VERSION}/Accounts/{call.account}/Calls/{call.call_id}.json",
    }
