"""The sandbox's own control plane under ``/_sandbox/``: start, end and list calls.

It lets a developer (``python -m sandbox call …``) or a test make calls start and end
while the sandbox runs. It is no provider's API: it lives outside both providers'
prefixes, needs no credentials (the sandbox listens on loopback only), is never
faulted and is not recorded in ``Sandbox.requests``.

- ``GET /_sandbox/calls``: every call, oldest first, ``{"calls": [...]}``.
- ``POST /_sandbox/calls`` with ``{"provider", "from"?, "to"?, "direction"?,
  "caller_name"?, "call_id"?, "account"?}``: start a call (201, the call). ``account``
  is the key the provider's requests authenticate with (Vobiz or Plivo auth_id, Bland
  or Telnyx API key, Twilio Account SID); by default the provider's first account. A
  Telnyx call runs on the account's first Call Control connection; an inbound Twilio
  or Bland call rings the account's first number unless ``to`` is given (so its start
  reaches the Twilio number's voice URL and its end the status callback; Bland's end,
  its inbound webhook).
- ``DELETE /_sandbox/calls/{call_id}``: end (hang up) a live call (200, the call).
- ``GET /_sandbox/outages``: the providers (or accounts) that are down, ``{"outages": [...]}``.
- ``POST /_sandbox/outages`` with ``{"provider", "account"?, "status"?, "drop"?}``: take a
  provider (or one account, by the key its requests authenticate with) down until the
  outage ends: its API answers ``status`` (default 503) with an error page, or with
  ``"drop": true`` aborts every connection (201, the outage).
- ``DELETE /_sandbox/outages[/{provider}]``: end every outage, or a provider's (200,
  ``{"outages": [...]}``, the ended ones).
- ``GET /_sandbox/callbacks``: the callbacks sent so far (where to: origin only) and
  whether they are held, ``{"held", "callbacks": [...]}``.
- ``POST /_sandbox/callbacks`` with ``{"held": true|false}``: hold the callbacks (they
  arrive late, once released) or release them (200, as GET).
- ``POST /_sandbox/callback_faults`` with ``{"provider", "account"?, "fault"}``: make a
  Vobiz, Plivo, Twilio, Telnyx or Bland account's callbacks ``forged``, ``unsigned``,
  ``tampered``, ``replayed``, (Vobiz) ``sdk-form`` or (Telnyx, Twilio) ``stale``, or
  sound again (``null``) (200).
- ``POST /_sandbox/inbound_webhooks`` with ``{"number", "url", "account"?}``: set a Bland
  inbound number's webhook, as its Dev Portal does (a number the account did not have
  is added) (200).
- ``GET /_sandbox/public_keys``: the public keys the accounts sign their callbacks
  with (Telnyx: base64 Ed25519, with the account's connections; never its API key),
  ``{"public_keys": [{"provider", "connections", "public_key"}]}``.
- ``POST /_sandbox/numbers`` with ``{"number", "does"}``: what a number does when a
  Dial calls it: ``answer`` (every number by default), ``busy``, ``no-answer``,
  ``fail`` (200).
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final, cast, get_args

from aiohttp import web
from yarl import URL

from .api import decode_json
from .signing import ed25519_public_key
from .state import (
    BlandAccount,
    CallbackFault,
    DialBehaviour,
    Outage,
    PlivoAccount,
    ProviderName,
    SandboxCall,
    SandboxState,
    TelnyxAccount,
    TwilioAccount,
    VobizAccount,
)

CONTROL_PREFIX: Final = "/_sandbox"
CALLS_PATH: Final = f"{CONTROL_PREFIX}/calls"
OUTAGES_PATH: Final = f"{CONTROL_PREFIX}/outages"
CALLBACKS_PATH: Final = f"{CONTROL_PREFIX}/callbacks"
CALLBACK_FAULTS_PATH: Final = f"{CONTROL_PREFIX}/callback_faults"
NUMBERS_PATH: Final = f"{CONTROL_PREFIX}/numbers"
PUBLIC_KEYS_PATH: Final = f"{CONTROL_PREFIX}/public_keys"
INBOUND_WEBHOOKS_PATH: Final = f"{CONTROL_PREFIX}/inbound_webhooks"
# The faults only some providers' callbacks can have.
_FAULT_PROVIDERS: Final = {
    CallbackFault.SDK_FORM: ("vobiz",),
    CallbackFault.STALE: ("telnyx", "twilio"),
}
DIRECTIONS: Final = ("inbound", "outbound")
PROVIDERS: Final[tuple[str, ...]] = get_args(ProviderName.__value__)
_START_FIELDS: Final = frozenset(
    {"provider", "from", "to", "direction", "caller_name", "call_id", "account"}
)
_OUTAGE_FIELDS: Final = frozenset({"provider", "account", "status", "drop"})


class ControlError(Exception):
    """A control request that cannot be done; answered with ``status``."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        """Keep the HTTP status to answer with."""
        super().__init__(message)
        self.status = status


def is_control_path(path: str) -> bool:
    """Say whether a request path belongs to the control plane."""
    return path == CONTROL_PREFIX or path.startswith(f"{CONTROL_PREFIX}/")


def call_json(call: SandboxCall) -> dict[str, Any]:
    """Describe a call as the control plane shows it (no account credentials)."""
    return {
        "call_id": call.call_id,
        "provider": call.provider,
        "from": call.from_number,
        "to": call.to_number,
        "direction": call.direction,
        "caller_name": call.caller_name,
        "status": call.status.value,
        "live": call.live,
        "started": call.started.isoformat(),
        "transferred_to": call.transferred_to,
    }


def outage_json(outage: Outage) -> dict[str, Any]:
    """Describe an outage as the control plane shows it."""
    return {
        "provider": outage.provider,
        "account": outage.account,
        "status": None if outage.drop else outage.status,
        "drop": outage.drop,
    }


def respond(state: SandboxState, method: str, path: str, body: bytes) -> web.Response:
    """Answer one control request."""
    try:
        return _route(state, method, path, body)
    except ControlError as err:
        return web.json_response({"error": str(err)}, status=err.status)


def _route(state: SandboxState, method: str, path: str, body: bytes) -> web.Response:
    if path == OUTAGES_PATH or path.startswith(f"{OUTAGES_PATH}/"):
        return _route_outages(state, method, path, body)
    if path in (CALLBACKS_PATH, CALLBACK_FAULTS_PATH, NUMBERS_PATH):
        return _route_callbacks(state, method, path, body)
    if path == PUBLIC_KEYS_PATH:
        if method != "GET":
            raise _not_allowed()
        return web.json_response({"public_keys": public_keys(state)})
    if path == INBOUND_WEBHOOKS_PATH:
        if method != "POST":
            raise _not_allowed()
        return web.json_response(_set_inbound_webhook(state, _object(body)))
    if path == CALLS_PATH:
        if method == "GET":
            calls = sorted(state.calls.values(), key=lambda call: call.started)
            return web.json_response({"calls": [call_json(c) for c in calls]})
        if method == "POST":
            call = _start_call(state, _object(body))
            return web.json_response(call_json(call), status=HTTPStatus.CREATED)
        raise _not_allowed()
    call_id = path.removeprefix(f"{CALLS_PATH}/")
    if path.startswith(f"{CALLS_PATH}/") and call_id and "/" not in call_id:
        if method != "DELETE":
            raise _not_allowed()
        ended = state.calls.get(call_id)
        if ended is None:
            raise ControlError(HTTPStatus.NOT_FOUND, f"no call {call_id}")
        if not ended.live:
            raise ControlError(HTTPStatus.CONFLICT, f"call {call_id} already ended")
        state.end_call(call_id)
        return web.json_response(call_json(ended))
    raise ControlError(HTTPStatus.NOT_FOUND, "no such control path")


def _route_outages(
    state: SandboxState, method: str, path: str, body: bytes
) -> web.Response:
    if path == OUTAGES_PATH and method == "GET":
        return web.json_response({"outages": [outage_json(o) for o in state.outages]})
    if path == OUTAGES_PATH and method == "POST":
        outage = _outage(state, _object(body))
        state.start_outage(outage)
        return web.json_response(outage_json(outage), status=HTTPStatus.CREATED)
    if method != "DELETE":
        raise _not_allowed()
    provider = path.removeprefix(OUTAGES_PATH).removeprefix("/") or None
    if provider is not None and provider not in PROVIDERS:
        raise ControlError(HTTPStatus.NOT_FOUND, "no such control path")
    ended = state.end_outage(cast("ProviderName | None", provider))
    if provider is not None and not ended:
        raise ControlError(HTTPStatus.NOT_FOUND, f"{provider} has no outage")
    return web.json_response({"outages": [outage_json(o) for o in ended]})


def _route_callbacks(
    state: SandboxState, method: str, path: str, body: bytes
) -> web.Response:
    if path == CALLBACKS_PATH and method == "GET":
        return web.json_response(_callbacks_json(state))
    if method != "POST":
        raise _not_allowed()
    data = _object(body)
    if path == CALLBACKS_PATH:
        if set(data) != {"held"} or not isinstance(data["held"], bool):
            raise ControlError(HTTPStatus.BAD_REQUEST, "give held: true or false")
        if data["held"]:
            state.callbacks_released.clear()
        else:
            state.callbacks_released.set()
        return web.json_response(_callbacks_json(state))
    if path == NUMBERS_PATH:
        number, does = data.get("number"), data.get("does")
        if (
            set(data) != {"number", "does"}
            or not isinstance(number, str)
            or not isinstance(does, str)
        ):
            raise ControlError(HTTPStatus.BAD_REQUEST, "give number and does")
        try:
            state.dial_behaviours[number] = DialBehaviour(does)
        except ValueError:
            choices = ", ".join(DialBehaviour)
            raise ControlError(
                HTTPStatus.BAD_REQUEST, f"does must be one of {choices}"
            ) from None
        return web.json_response({"number": number, "does": does})
    if unknown := sorted(set(data) - {"provider", "account", "fault"}):
        raise ControlError(
            HTTPStatus.BAD_REQUEST, f"unknown field(s): {', '.join(unknown)}"
        )
    provider = _provider(data)
    accounts = state.accounts[provider]
    account = accounts.get(data.get("account") or next(iter(accounts), ""))
    if not isinstance(
        account,
        VobizAccount | PlivoAccount | TwilioAccount | TelnyxAccount | BlandAccount,
    ):
        raise ControlError(
            HTTPStatus.NOT_FOUND, f"no such {provider} account sends callbacks"
        )
    fault = data.get("fault")
    try:
        chosen = None if fault is None else CallbackFault(fault)
    except ValueError:
        choices = ", ".join(CallbackFault)
        raise ControlError(
            HTTPStatus.BAD_REQUEST, f"fault must be null or one of {choices}"
        ) from None
    if chosen is not None and provider not in _FAULT_PROVIDERS.get(chosen, PROVIDERS):
        raise ControlError(
            HTTPStatus.BAD_REQUEST, f"{provider} callbacks cannot be {chosen.value}"
        )
    account.callback_fault = chosen
    return web.json_response({"provider": provider, "fault": fault})


def _set_inbound_webhook(
    state: SandboxState, data: Mapping[str, Any]
) -> dict[str, Any]:
    """Set a Bland inbound number's webhook; return the number and its webhook."""
    if unknown := sorted(set(data) - {"number", "url", "account"}):
        raise ControlError(
            HTTPStatus.BAD_REQUEST, f"unknown field(s): {', '.join(unknown)}"
        )
    number, url = data.get("number"), data.get("url")
    if not isinstance(number, str) or not isinstance(url, str):
        raise ControlError(HTTPStatus.BAD_REQUEST, "give number and url")
    accounts = state.bland_accounts
    account = accounts.get(data.get("account") or next(iter(accounts), ""))
    if account is None:
        raise ControlError(HTTPStatus.NOT_FOUND, "no such bland account")
    account.inbound_numbers[number] = url
    return {"number": number, "url": url}


def public_keys(state: SandboxState) -> list[dict[str, Any]]:
    """Return the public key each Telnyx account signs its webhooks with."""
    return [
        {
            "provider": "telnyx",
            "connections": sorted(account.connections),
            "public_key": ed25519_public_key(account.signing_seed),
        }
        for account in state.telnyx_accounts.values()
    ]


def _callbacks_json(state: SandboxState) -> dict[str, Any]:
    return {
        "held": not state.callbacks_released.is_set(),
        "callbacks": [
            {
                "provider": sent.provider,
                "to": str(URL(sent.url).origin()),
                "params": sent.params,
                "fault": sent.fault,
                "status": sent.status,
                "error": sent.error,
            }
            for sent in state.callbacks_sent
        ],
    }


def _outage(state: SandboxState, body: Mapping[str, Any]) -> Outage:
    if unknown := sorted(set(body) - _OUTAGE_FIELDS):
        raise ControlError(
            HTTPStatus.BAD_REQUEST, f"unknown field(s): {', '.join(unknown)}"
        )
    provider = _provider(body)
    account = body.get("account")
    if account is not None and account not in state.accounts[provider]:
        raise ControlError(HTTPStatus.NOT_FOUND, f"no such {provider} account")
    drop = body.get("drop", False)
    status = body.get("status")
    if not isinstance(drop, bool) or not isinstance(status, int | None):
        raise ControlError(
            HTTPStatus.BAD_REQUEST, "drop is true or false, status a number"
        )
    if drop and status is not None:
        raise ControlError(HTTPStatus.BAD_REQUEST, "give a status or drop, not both")
    try:
        return Outage(
            provider, account, status=503 if status is None else status, drop=drop
        )
    except ValueError as err:
        raise ControlError(HTTPStatus.BAD_REQUEST, str(err)) from None


def _provider(body: Mapping[str, Any]) -> ProviderName:
    provider = body.get("provider")
    if provider not in PROVIDERS:
        raise ControlError(
            HTTPStatus.BAD_REQUEST, f"provider must be one of {', '.join(PROVIDERS)}"
        )
    return cast("ProviderName", provider)


def _start_call(state: SandboxState, body: Mapping[str, Any]) -> SandboxCall:
    if unknown := sorted(set(body) - _START_FIELDS):
        raise ControlError(
            HTTPStatus.BAD_REQUEST, f"unknown field(s): {', '.join(unknown)}"
        )
    if not all(isinstance(value, str) for value in body.values()):
        raise ControlError(HTTPStatus.BAD_REQUEST, "every field must be a string")
    provider = _provider(body)
    direction = body.get("direction", "inbound")
    if direction not in DIRECTIONS:
        raise ControlError(
            HTTPStatus.BAD_REQUEST, "direction must be inbound or outbound"
        )
    accounts = state.accounts[provider]
    account = body.get("account") or next(iter(accounts), None)
    if account is None or account not in accounts:
        raise ControlError(HTTPStatus.NOT_FOUND, f"no such {provider} account")
    if isinstance(owner := accounts[account], TelnyxAccount):
        # Telnyx lists a connection's calls: run the call on one.
        optional_connection = min(owner.connections, default=None)
    else:
        optional_connection = None
    optional = {
        keyword: body[field]
        for field, keyword in (
            ("from", "from_number"),
            ("to", "to_number"),
            ("caller_name", "caller_name"),
        )
        if field in body
    }
    if (
        direction == "inbound"
        and "to" not in body
        and (number := _reporting_number(owner)) is not None
    ):
        optional["to_number"] = number
    try:
        return state.add_call(
            provider,
            account,
            body.get("call_id") or None,
            direction=direction,
            connection=optional_connection,
            **optional,
        )
    except ValueError as err:
        raise ControlError(HTTPStatus.CONFLICT, str(err)) from None


def _object(body: bytes) -> Mapping[str, Any]:
    data, valid = decode_json(body)
    if not valid or not isinstance(data, dict):
        raise ControlError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
    return data


def _not_allowed() -> ControlError:
    return ControlError(HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed here")


def _reporting_number(
    owner: object,
) -> str | None:
    """Return the number whose calls report their end (Twilio, Bland), if the account has one.

    Twilio reports the calls its numbers answer, Bland those to an inbound number with
    a webhook: an inbound call rings the first, as a caller would.
    """
    if isinstance(owner, TwilioAccount):
        return next((n.phone_number for n in owner.numbers.values()), None)
    if isinstance(owner, BlandAccount):
        return next(iter(owner.inbound_numbers), None)
    return None
