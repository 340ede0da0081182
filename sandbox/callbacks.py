"""The callbacks Vobiz, Plivo, Twilio, Telnyx and Bland send about calls, sent the same way.

- A call starting: ``Event=StartApp`` to its application's ``answer_url``; an answer
  ``<Response><Redirect method="…">URL</Redirect></Response>`` is followed: the URL is
  fetched (loopback only) with the call's parameters (``state.answer_redirects``).
- A call ending: ``Event=Hangup`` to the application's ``hangup_url`` (its
  ``answer_url`` when that is empty), with the call's start, end and duration.
- A ``<Dial>`` of a transferred leg's XML that carries ``callbackUrl``/``action``: the
  dialled number does what ``dial_behaviours`` says (answers by default). Answered:
  ``DialAction=answer`` to ``callbackUrl`` (and, when the call ends, ``DialAction=hangup``
  and ``DialStatus=completed`` to ``action``). Busy, no answer, failed: ``DialAction=
  hangup`` (not when it failed) then ``DialStatus`` busy, no-answer or failed to
  ``action``; a transferred A leg then has nothing left to do and hangs up.

Twilio's (``twilio_callbacks``): a call's start to its number's ``VoiceUrl`` (its voice
request, POST, unless a TwiML App answers the number; a ``<Redirect>`` answered is
followed), its end to the number's ``StatusCallback``, a ``<Dial action>``'s outcome to
``action`` (answered: when the call ends).

Each is form-encoded POST, signed as the provider signs (``signing``: Vobiz's V2 and V3
as documented, Plivo's V3, Twilio's ``X-Twilio-Signature``) with the account's auth
token, and sent in order, to loopback IP addresses only. An account's ``callback_fault``
makes them forged, unsigned, tampered, replayed, (Vobiz) signed the SDK's way or
(Twilio's status callbacks, Telnyx) stale;
``hold()`` keeps them until ``release()``, so they arrive late.

Telnyx's Call Control webhooks (JSON, Ed25519) are built by ``telnyx_webhooks``, Bland's
post-call webhooks (JSON, HMAC-SHA256 with the account's signing secret) by
``bland_webhooks``, and sent the same way, in the same order as the others.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
import logging
from typing import Any, Final
import uuid

import aiohttp
from yarl import URL

from . import bland_webhooks, telnyx_webhooks, twilio_callbacks
from .callxml import CallXmlError, parse
from .legfetch import is_loopback_ip
from .signing import new_nonce, plivo_v3, twilio, vobiz_v2, vobiz_v3
from .state import (
    AnswerRedirect,
    CallbackFault,
    DialBehaviour,
    LegOutcome,
    PlivoAccount,
    SandboxApplication,
    SandboxCall,
    SandboxState,
    SentCallback,
    TwilioAccount,
    VobizAccount,
)

LOGGER = logging.getLogger(__package__)
SEND_TIMEOUT: Final = 5.0
# Why each unanswered Dial ended, as the dialled leg's hangup reports it.
_HANGUP_CAUSES: Final[Mapping[DialBehaviour, tuple[str, str, str]]] = {
    DialBehaviour.BUSY: ("USER_BUSY", "3010", "Busy Line"),
    DialBehaviour.NO_ANSWER: ("NO_ANSWER", "6010", "Ring Timeout Reached"),
}
_DIAL_STATUS: Final[Mapping[DialBehaviour, str]] = {
    DialBehaviour.BUSY: "busy",
    DialBehaviour.NO_ANSWER: "no-answer",
    DialBehaviour.FAIL: "failed",
}
# The hangup cause an ``action`` request gives with each DialStatus.
_DIAL_HANGUP_CAUSES: Final[Mapping[str, str]] = {
    "completed": "NORMAL_CLEARING",
    "busy": "USER_BUSY",
    "no-answer": "NO_ANSWER",
    "failed": "",
}


@dataclass(slots=True)
class _Delivery:
    """A signed callback waiting its turn, or something to do after the ones before it."""

    provider: str
    url: str = ""
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    fault: CallbackFault | None = None
    then: Callable[[], None] | None = None
    body: bytes | None = None  # a body sent as it is (JSON), instead of ``params``
    answering: str | None = None  # the call whose answer request this is


class CallbackSender:
    """Sends the providers' callbacks, one at a time, in the order they happen."""

    def __init__(self, state: SandboxState) -> None:
        """Send for the accounts and calls of ``state``; record there what was sent.

        ``state.callbacks_released`` cleared holds them until it is set again.
        """
        self.state = state
        self._queue: deque[_Delivery] = deque()
        self._worker: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    async def settled(self, timeout: float = 10.0) -> None:
        """Wait until every callback so far was sent and answered (or failed)."""
        async with asyncio.timeout(timeout):
            while self._worker is not None:
                await asyncio.shield(self._worker)

    async def close(self) -> None:
        """Drop what is waiting, stop sending and close the HTTP session."""
        self._queue.clear()
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def call_started(self, call: SandboxCall) -> None:
        """Tell the call's application that it started (``StartApp`` to its answer URL)."""
        if call.provider == "telnyx":
            started = {"start_time": telnyx_webhooks.iso_time(call.started)}
            self._telnyx_send(
                call,
                "call.initiated",
                telnyx_webhooks.call_payload(call, "parked") | started,
            )
            self._telnyx_send(
                call, "call.answered", telnyx_webhooks.call_payload(call, "answered")
            )
            return
        if call.provider == "twilio":
            self._twilio_call_started(call)
            return
        if (app := self._application(call)) is None:
            return
        self._send(
            call,
            app.answer_url,
            {"Event": "StartApp", **self._call_params(call)},
            answering=True,
        )

    def call_ended(self, call: SandboxCall) -> None:
        """Report the call's connected Dials ending, then its own hangup."""
        if call.provider == "twilio":
            self._twilio_call_ended(call)
            return
        if call.provider == "telnyx":
            self._telnyx_send(call, "call.hangup", telnyx_webhooks.hangup_payload(call))
            return
        if call.provider == "bland":
            self._bland_call_ended(call)
            return
        for dial in call.connected_dials:
            self._send(
                call,
                dial["callbackUrl"],
                self._dial_params(call, dial, "DialHangup", "hangup")
                | {"DialBLegHangupCause": "NORMAL_CLEARING"},
            )
            self._send(
                call, dial["action"], self._action_params(call, dial, "completed")
            )
        call.connected_dials.clear()
        if (app := self._application(call)) is None:
            return
        ended = call.ended or datetime.now(UTC)
        duration = str(max(0, int((ended - call.started).total_seconds())))
        params = {
            "Event": "Hangup",
            **self._call_params(call),
            "CallStatus": "completed",
            "Duration": duration,
            "BillDuration": duration,
            "HangupCause": "NORMAL_CLEARING",
            "HangupCauseName": "Normal Hangup",
            "HangupCauseCode": "4000",
            "HangupSource": "Caller",
        }
        if call.provider == "vobiz":
            params |= {"EndTime": ended.isoformat()}
        self._send(call, app.effective_hangup_url, params)

    def dialled(self, call: SandboxCall, outcome: LegOutcome) -> None:
        """Report what a dialled number did, where the Dial of a leg's XML asks for it."""
        report = outcome.report
        if call.provider == "twilio":
            self._twilio_dialled(call, outcome)
            return
        if call.provider not in ("vobiz", "plivo") or not outcome.numbers:
            return
        if "callbackUrl" not in report and "action" not in report:
            return
        behaviour = self._behaviour(outcome)
        dial = {
            "callbackUrl": report.get("callbackUrl", ""),
            "action": report.get("action", ""),
            "a_leg": outcome.params.get("CallUUID", call.call_id),
            "b_leg": str(uuid.uuid4()) if behaviour is DialBehaviour.ANSWER else "",
            "from": outcome.caller_id or call.to_number,
            "to": outcome.numbers[0],
        }
        if behaviour is DialBehaviour.ANSWER:
            self._send(
                call,
                dial["callbackUrl"],
                self._dial_params(call, dial, "DialAnswer", "answer"),
            )
            call.connected_dials.append(dial)
            return
        if behaviour in _HANGUP_CAUSES:
            cause, code, name = _HANGUP_CAUSES[behaviour]
            self._send(
                call,
                dial["callbackUrl"],
                self._dial_params(call, dial, "DialHangup", "hangup")
                | {
                    "DialBLegHangupCause": cause,
                    "DialBLegHangupCauseCode": code,
                    "DialBLegHangupCauseName": name,
                    "DialBLegHangupSource": call.provider.capitalize(),
                },
            )
        self._send(
            call,
            dial["action"],
            self._action_params(call, dial, _DIAL_STATUS[behaviour]),
        )
        if outcome.leg == "aleg":
            self._hang_up_after(call)

    def _behaviour(self, outcome: LegOutcome) -> DialBehaviour:
        """Return what the (first) number a Dial calls does."""
        return self.state.dial_behaviours.get(outcome.numbers[0], DialBehaviour.ANSWER)

    def _hang_up_after(self, call: SandboxCall) -> None:
        """Nothing follows the Dial: the call hangs up once the callbacks before went."""
        self._enqueue(
            _Delivery(call.provider, then=lambda: self.state.end_call(call.call_id))
        )

    def _twilio_call_started(self, call: SandboxCall) -> None:
        """Request the voice URL of the number an incoming call rings (POST only).

        Not when a TwiML App answers the number: its own voice URL is not the sandbox's
        to know.
        """
        number = self.state.twilio_accounts[call.account].number_called(call)
        if (
            number is not None
            and not number.voice_application_sid
            and number.voice_method == "POST"
        ):
            self._send(
                call,
                number.voice_url,
                twilio_callbacks.voice_params(call),
                answering=True,
            )

    def _twilio_call_ended(self, call: SandboxCall) -> None:
        """Report a Twilio call's answered Dials ending, then its number's StatusCallback."""
        for dial in call.connected_dials:
            self._send(
                call,
                dial["action"],
                twilio_callbacks.action_params(call, dial, "completed"),
            )
        call.connected_dials.clear()
        number = self.state.twilio_accounts[call.account].number_called(call)
        if number is not None and number.status_callback_method == "POST":
            self._send(
                call, number.status_callback, twilio_callbacks.ended_params(call)
            )

    def _twilio_dialled(self, call: SandboxCall, outcome: LegOutcome) -> None:
        """Report a Dial's outcome: answered to the Number's status callback at once.

        And to the Dial's ``action`` when it ends (answered: when the call ends).
        """
        report = outcome.report
        if not outcome.numbers or not {"action", "statusCallback"} & set(report):
            return
        behaviour = self._behaviour(outcome)
        dial = {
            "action": report.get("action", ""),
            "b_leg": f"CA{uuid.uuid4().hex}",
            "answered": datetime.now(UTC).isoformat(),
            "from": outcome.caller_id or call.to_number,
            "to": outcome.numbers[0],
        }
        if behaviour is DialBehaviour.ANSWER:
            if "answered" in report.get("statusCallbackEvent", "").split():
                self._send(
                    call,
                    report.get("statusCallback", ""),
                    twilio_callbacks.answered_params(call, dial),
                )
            call.connected_dials.append(dial)
            return
        self._send(
            call,
            dial["action"],
            twilio_callbacks.action_params(
                call, dial, twilio_callbacks.DIAL_STATUS[behaviour]
            ),
        )
        self._hang_up_after(call)

    def telnyx_transferred(self, call: SandboxCall, body: dict[str, Any]) -> None:
        """Report a Telnyx transfer's new leg to its ``webhook_url``, as the number does."""
        url = body.get("webhook_url")
        if not isinstance(url, str):
            return
        does = self.state.dial_behaviours.get(body["to"], DialBehaviour.ANSWER)
        for event_type, payload in telnyx_webhooks.new_leg_payloads(
            call, body["to"], body.get("from"), does
        ):
            self._telnyx_send(call, event_type, payload, url)

    def _telnyx_send(
        self,
        call: SandboxCall,
        event_type: str,
        payload: dict[str, Any],
        url: str | None = None,
    ) -> None:
        """Sign and queue one Telnyx webhook: to ``url``, else the call's application."""
        account = self.state.telnyx_accounts[call.account]
        if url is None:
            app = account.applications.get(call.connection or "")
            if app is None or app.webhook_api_version != "2":
                return
            url = app.webhook_event_url
        if not is_loopback_ip(URL(url).host):
            return
        fault = account.callback_fault
        body = telnyx_webhooks.webhook_body(event_type, payload, url)
        headers, sent = telnyx_webhooks.signed(account, body, fault)
        delivery = _Delivery(
            call.provider,
            url,
            telnyx_webhooks.summary(sent),
            headers,
            fault,
            body=sent,
        )
        self._enqueue(delivery)
        if fault is CallbackFault.REPLAYED:
            self._enqueue(delivery)

    def _bland_call_ended(self, call: SandboxCall) -> None:
        """Send a Bland call's post-call webhook to its inbound number's webhook setting."""
        account = self.state.bland_accounts[call.account]
        url = account.inbound_numbers.get(call.to_number, "")
        if call.direction != "inbound" or not is_loopback_ip(URL(url).host):
            return
        fault = account.callback_fault
        body = bland_webhooks.webhook_body(bland_webhooks.post_call_record(call))
        headers, sent = bland_webhooks.signed(account, body, fault)
        delivery = _Delivery(
            call.provider, url, bland_webhooks.summary(sent), headers, fault, body=sent
        )
        self._enqueue(delivery)
        if fault is CallbackFault.REPLAYED:
            self._enqueue(delivery)

    def _application(self, call: SandboxCall) -> SandboxApplication | None:
        if call.app_id is None:
            return None
        return self.state.application(call.provider, call.account, call.app_id)

    def _call_params(self, call: SandboxCall) -> dict[str, str]:
        params = {
            "CallUUID": call.call_id,
            "From": call.from_number,
            "To": call.to_number,
            "Direction": call.direction,
            "CallStatus": call.status.value,
            "RequestUUID": call.request_uuid,
        }
        if call.provider == "vobiz":
            return params | {
                "StartTime": call.started.isoformat(),
                "timestamp": datetime.now(UTC).isoformat(),
                "auth_id": call.account,
            }
        return params | {
            "SessionStart": call.started.strftime("%Y-%m-%d %H:%M:%S.%f"),
            "ParentAuthID": call.account,
        }

    def _dial_params(
        self, call: SandboxCall, dial: Mapping[str, str], event: str, action: str
    ) -> dict[str, str]:
        params = {
            "DialAction": action,
            "CallUUID": dial["a_leg"],
            "DialALegUUID": dial["a_leg"],
            "DialBLegUUID": dial["b_leg"],
            "DialBLegStatus": action,
            "DialBLegFrom": dial["from"],
            "DialBLegTo": dial["to"],
            "DialBLegPosition": "1",
        }
        return {"Event": event, **params} if call.provider == "vobiz" else params

    def _action_params(
        self, call: SandboxCall, dial: Mapping[str, str], status: str
    ) -> dict[str, str]:
        params = {
            "DialStatus": status,
            "DialRingStatus": "false" if status in ("busy", "failed") else "true",
            "DialHangupCause": _DIAL_HANGUP_CAUSES[status],
            "CallUUID": dial["a_leg"],
            "DialALegUUID": dial["a_leg"],
            "DialBLegUUID": dial["b_leg"],
        }
        return {"Event": "DialAction", **params} if call.provider == "vobiz" else params

    def _send(
        self,
        call: SandboxCall,
        url: str,
        params: dict[str, str],
        *,
        answering: bool = False,
    ) -> None:
        """Sign and queue one callback, unless its URL is not a loopback IP address.

        ``answering``: it is the call's answer request, whose ``<Redirect>`` is followed.
        """
        if not is_loopback_ip(URL(url).host):
            return  # the sandbox sends nothing beyond this machine (an empty URL neither)
        account = self.state.accounts[call.provider][call.account]
        assert isinstance(account, VobizAccount | PlivoAccount | TwilioAccount)
        fault = account.callback_fault
        if fault is CallbackFault.STALE and "Timestamp" not in params:
            fault = None  # nothing in it to make stale: sent as the provider does
        headers, sent = _signed(call.provider, account.auth_token, url, params, fault)
        delivery = _Delivery(
            call.provider,
            url,
            sent,
            headers,
            fault,
            answering=call.call_id if answering else None,
        )
        self._enqueue(delivery)
        if fault is CallbackFault.REPLAYED:
            self._enqueue(delivery)

    def _enqueue(self, delivery: _Delivery) -> None:
        self._queue.append(delivery)
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        try:
            while self._queue:
                await self.state.callbacks_released.wait()
                delivery = self._queue.popleft()
                if delivery.then is not None:
                    delivery.then()
                else:
                    sent = await self._deliver(delivery)
                    self.state.callbacks_sent.append(sent)
                    if delivery.answering is not None and sent.status == 200:
                        await self._follow_redirect(delivery.answering, sent)
        finally:
            self._worker = None

    async def _follow_redirect(self, call_id: str, sent: SentCallback) -> None:
        """Fetch the URL a ``<Redirect>`` in the answer names, as the call's answer request.

        With the method it names (POST by default) and the call's parameters; only a
        loopback address is fetched, the others are noted as not fetched.
        """
        try:
            root = parse(sent.answer)
        except CallXmlError:
            return
        redirect = next((c for c in root.children if c.tag == "Redirect"), None)
        if root.tag != "Response" or redirect is None:
            return
        url = redirect.text.strip()
        method = redirect.attributes.get("method", "POST")
        status: int | None = None
        if is_loopback_ip(URL(url).host):
            params = {k: v for k, v in sent.params.items() if k != "Event"}
            assert self._session is not None  # the answer request opened it
            try:
                async with (
                    asyncio.timeout(SEND_TIMEOUT),
                    self._session.request(
                        method,
                        url,
                        params=params if method == "GET" else None,
                        data=None if method == "GET" else params,
                        allow_redirects=False,
                    ) as response,
                ):
                    await response.read()
                    status = response.status
            except (TimeoutError, aiohttp.ClientError):
                status = None
        self.state.answer_redirects.append(
            AnswerRedirect(call_id=call_id, url=url, method=method, status=status)
        )

    async def _deliver(self, delivery: _Delivery) -> SentCallback:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        status: int | None = None
        error: str | None = None
        answer = b""
        try:
            async with (
                asyncio.timeout(SEND_TIMEOUT),
                self._session.post(
                    delivery.url,
                    data=delivery.params if delivery.body is None else delivery.body,
                    headers=delivery.headers,
                    allow_redirects=False,
                ) as response,
            ):
                answer = await response.read()
                status = response.status
        except TimeoutError:
            error = f"timeout (no answer within {SEND_TIMEOUT:g} s)"
        except aiohttp.ClientError as err:
            error = f"unreachable ({type(err).__name__})"
        LOGGER.info(
            "%s callback %s to %s: %s",
            delivery.provider,
            delivery.params.get("Event")
            or delivery.params.get("event_type")
            or delivery.params.get("DialStatus")
            or delivery.params.get("DialAction")
            or delivery.params.get("DialCallStatus")
            or delivery.params.get("CallStatus"),
            _origin(delivery.url),
            error or f"HTTP {status}",
        )
        return SentCallback(
            provider=delivery.provider,
            url=delivery.url,
            params=delivery.params,
            headers=delivery.headers,
            fault=delivery.fault,
            status=status,
            error=error,
            body=delivery.body,
            answer=answer,
        )


def _signed(
    provider: str,
    auth_token: str,
    url: str,
    params: dict[str, str],
    fault: CallbackFault | None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Return the signature headers of a callback and the params sent, with the fault."""
    if fault is CallbackFault.STALE:
        sent_at = datetime.now(UTC) - telnyx_webhooks.STALE_BY
        params = params | {"Timestamp": format_datetime(sent_at)}
    if fault is CallbackFault.UNSIGNED:
        return {}, params
    key = f"not-{auth_token}" if fault is CallbackFault.FORGED else auth_token
    listed = {name: [value] for name, value in params.items()}
    if provider == "twilio":
        headers = {"X-Twilio-Signature": twilio(key, url, listed)}
    elif provider == "plivo":
        nonce = new_nonce()
        headers = {
            "X-Plivo-Signature-V3": plivo_v3(key, "POST", url, listed, nonce),
            "X-Plivo-Signature-V3-Nonce": nonce,
        }
    elif fault is CallbackFault.SDK_FORM:
        nonce = new_nonce()
        headers = {
            "X-Vobiz-Signature-V3": plivo_v3(key, "POST", url, listed, nonce),
            "X-Vobiz-Signature-V3-Nonce": nonce,
        }
    else:
        v2_nonce, v3_nonce = new_nonce(), new_nonce()
        headers = {
            "X-Vobiz-Signature-V2": vobiz_v2(key, url, v2_nonce),
            "X-Vobiz-Signature-V2-Nonce": v2_nonce,
            "X-Vobiz-Signature-V3": vobiz_v3(key, url, v3_nonce),
            "X-Vobiz-Signature-V3-Nonce": v3_nonce,
        }
    if fault is CallbackFault.TAMPERED:
        field = "CallSid" if provider == "twilio" else "CallUUID"
        params = params | {field: str(uuid.uuid4())}
    return headers, params


def _origin(url: str) -> str:
    """Show where a URL points, not its path or query (a webhook id is a credential)."""
    return str(URL(url).origin())
