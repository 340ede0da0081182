"""The sandbox's provider accounts as test cases: entry data, revocation, what a transfer sends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import pytest

from custom_components.call_transfer.providers.base import (
    key_fingerprint as fingerprint_of_key,
)
from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_BLAND_ORG_ID,
    SANDBOX_PLIVO_AUTH_ID,
    SANDBOX_PLIVO_AUTH_TOKEN,
    SANDBOX_TELNYX_API_KEY,
    SANDBOX_TELNYX_CALL_ID,
    SANDBOX_TELNYX_CONNECTION_ID,
    SANDBOX_TWILIO_ACCOUNT_SID,
    SANDBOX_TWILIO_AUTH_TOKEN,
    SANDBOX_TWILIO_CALL_SID,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_AUTH_SECRET,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    ProviderName,
    RecordedRequest,
    Sandbox,
    SandboxCall,
)


def vobiz_data(sandbox: Sandbox, **overrides: Any) -> dict[str, Any]:
    """Entry data for the sandbox's Vobiz account."""
    return {
        "provider": "vobiz",
        "auth_id": SANDBOX_VOBIZ_AUTH_ID,
        "auth_token": SANDBOX_VOBIZ_AUTH_TOKEN,
        "base_url": sandbox.vobiz_base_url,
    } | overrides


def bland_data(sandbox: Sandbox, **overrides: Any) -> dict[str, Any]:
    """Entry data for the sandbox's Bland AI account."""
    return {
        "provider": "bland",
        "api_key": SANDBOX_BLAND_API_KEY,
        "base_url": sandbox.bland_base_url,
    } | overrides


def twilio_data(sandbox: Sandbox, **overrides: Any) -> dict[str, Any]:
    """Entry data for the sandbox's Twilio account, authenticated by its auth token."""
    return {
        "provider": "twilio",
        "account_sid": SANDBOX_TWILIO_ACCOUNT_SID,
        "secret": SANDBOX_TWILIO_AUTH_TOKEN,
        "base_url": sandbox.twilio_base_url,
    } | overrides


def telnyx_data(sandbox: Sandbox, **overrides: Any) -> dict[str, Any]:
    """Entry data for the sandbox's Telnyx API key."""
    return {
        "provider": "telnyx",
        "api_key": SANDBOX_TELNYX_API_KEY,
        "base_url": sandbox.telnyx_base_url,
    } | overrides


def plivo_data(sandbox: Sandbox, **overrides: Any) -> dict[str, Any]:
    """Entry data for the sandbox's Plivo account."""
    credentials = {
        "auth_id": SANDBOX_PLIVO_AUTH_ID,
        "auth_token": SANDBOX_PLIVO_AUTH_TOKEN,
    }
    return (
        {"provider": "plivo"}
        | credentials
        | {"base_url": sandbox.plivo_base_url}
        | overrides
    )


def revoke_vobiz(sandbox: Sandbox) -> None:
    """Rotate the Vobiz token elsewhere: the entry's token is rejected."""
    sandbox.vobiz_accounts[SANDBOX_VOBIZ_AUTH_ID].auth_token = "rotated-elsewhere"


def revoke_bland(sandbox: Sandbox) -> None:
    """Revoke the Bland key."""
    del sandbox.bland_accounts[SANDBOX_BLAND_API_KEY]


def revoke_twilio(sandbox: Sandbox) -> None:
    """Roll the Twilio auth token over elsewhere."""
    sandbox.twilio_accounts[SANDBOX_TWILIO_ACCOUNT_SID].auth_token = "rolled-over"


def revoke_telnyx(sandbox: Sandbox) -> None:
    """Delete the Telnyx API key."""
    del sandbox.telnyx_accounts[SANDBOX_TELNYX_API_KEY]


def revoke_plivo(sandbox: Sandbox) -> None:
    """Regenerate the Plivo Auth Token elsewhere."""
    sandbox.plivo_accounts[SANDBOX_PLIVO_AUTH_ID].auth_token = "regenerated"


def dialed_in_request(sandbox: Sandbox, call_id: str) -> tuple[str, ...]:
    """Return the numbers a transfer request sent the call to (or its TwiML dials)."""
    return tuple(
        filter(None, (sandbox.calls[call_id].transferred_to or "").split(", "))
    )


def dialed_through_xml(sandbox: Sandbox, call_id: str) -> tuple[str, ...]:
    """Return the numbers the call XML its transferred leg fetched last dials."""
    outcomes = sandbox.calls[call_id].outcomes
    return outcomes[-1].numbers if outcomes else ()


@dataclass(frozen=True, kw_only=True)
class ProviderCase:
    """One provider's sandbox account, for tests that run on every provider."""

    provider: ProviderName
    title: str
    unique_id: str
    data: Callable[..., dict[str, Any]]  # entry data: data(sandbox, **overrides)
    transfer: dict[str, str]  # action data of a valid transfer of its seeded live call
    transfer_path: str  # a fragment of the path of its transfer request
    ended_status: int  # the HTTP status of a transfer of a call that has ended
    revoke: Callable[[Sandbox], None]  # make the sandbox reject the credentials
    # Where a transfer to a number sends the call, as the sandbox recorded it.
    dialed: Callable[[Sandbox, str], tuple[str, ...]]
    # Live calls: the sandbox account's key, a fragment of the listing's path, the
    # options an entry needs to list calls, and what the listing tells of a call.
    account: str
    listing_path: str
    live_options: dict[str, str] = field(default_factory=dict)
    live_status: str | None = "in-progress"
    lists_numbers: bool = True
    lists_direction: bool = True
    # The status and body of the provider accepting a transfer of a call, with a text in
    # every field the client reads from it: accepted(call_id, text).
    accepted: Callable[[str, str], tuple[int, dict[str, Any]]]
    # A secret the account knows that the provider may echo (a credential, or one the
    # credential check tells, such as Vobiz's auth_secret).
    known_secret: str

    def is_listing(self, request: RecordedRequest) -> bool:
        """Whether a request lists the live calls (not one call's details: a lookup)."""
        return request.method == "GET" and request.path.endswith(self.listing_path)

    @property
    def call_id(self) -> str:
        """The seeded live call the transfer is for."""
        return self.transfer["call_id"]

    @property
    def destination(self) -> dict[str, str]:
        """Where the valid transfer goes: its action data besides the call id."""
        return {key: value for key, value in self.transfer.items() if key != "call_id"}

    def seen(self, call: SandboxCall) -> dict[str, Any]:
        """Return a sandbox call as Home Assistant describes it from this provider's listing."""
        return {
            "call_id": call.call_id,
            "from": call.from_number if self.lists_numbers else None,
            "to": call.to_number if self.lists_numbers else None,
            "direction": call.direction if self.lists_direction else None,
            "status": self.live_status,
            "started": call.started.isoformat(),
        }


# The sandbox's documented accounts and calls, as every sandbox starts with them.
SEEDED: Final = Sandbox()


def plivo_style_case(
    provider: ProviderName,
    title: str,
    data: Callable[..., dict[str, Any]],
    revoke: Callable[[Sandbox], None],
    known_secret: str,
) -> ProviderCase:
    """Return the case of a Plivo-style call API (Vobiz, Plivo): what they share is here.

    Transfers point the seeded call's A leg at an XML URL; live calls are listed as ids
    under /Call/; a call that has ended is not found (404); numbers are dialed through
    the Dial XML Home Assistant serves.
    """
    auth_id = next(iter(SEEDED.accounts[provider]))
    call_id = SEEDED.account_calls(provider, auth_id)[0].call_id  # the first seeded
    return ProviderCase(
        provider=provider,
        account=auth_id,
        listing_path="/Call/",
        unique_id=f"{provider}_{auth_id}",
        transfer_path="/Call/",
        dialed=dialed_through_xml,
        title=title,
        data=data,
        revoke=revoke,
        ended_status=404,
        transfer={
            "call_id": call_id,
            "aleg_url": f"https://xml.example.com/transfer/{provider}",
        },
        accepted=lambda _call_id, text: (202, {"api_id": text, "message": text}),
        known_secret=known_secret,
    )


_BLAND_FINGERPRINT = fingerprint_of_key("bland", SANDBOX_BLAND_API_KEY)
TELNYX_FINGERPRINT = fingerprint_of_key("telnyx", SANDBOX_TELNYX_API_KEY)
PROVIDER_CASES: dict[str, ProviderCase] = {
    case.provider: case
    for case in (
        plivo_style_case(
            "vobiz",
            f"Vobiz ({SANDBOX_VOBIZ_AUTH_ID})",
            vobiz_data,
            revoke_vobiz,
            SANDBOX_VOBIZ_AUTH_SECRET,  # learnt at setup, never configured
        ),
        ProviderCase(
            provider="bland",
            title=f"Bland AI (key …{_BLAND_FINGERPRINT[:8]})",
            unique_id=f"bland_{_BLAND_FINGERPRINT}",
            data=bland_data,
            transfer={"call_id": SANDBOX_BLAND_CALL_ID, "to": "+14155550100"},
            transfer_path="/transfer",
            ended_status=404,
            revoke=revoke_bland,
            dialed=dialed_in_request,
            account=SANDBOX_BLAND_API_KEY,
            listing_path="/v1/calls/active",
            live_options={"org_id": SANDBOX_BLAND_ORG_ID},
            live_status="IN_PROGRESS",
            lists_direction=False,
            accepted=lambda _call_id, text: (200, {"data": {"message": text}}),
            known_secret=SANDBOX_BLAND_API_KEY,
        ),
        ProviderCase(
            provider="twilio",
            title="Twilio (Sandbox Twilio account)",
            unique_id=f"twilio_{SANDBOX_TWILIO_ACCOUNT_SID}",
            data=twilio_data,
            transfer={"call_id": SANDBOX_TWILIO_CALL_SID, "to": "+14155550100"},
            transfer_path="/Calls/CA",
            ended_status=400,
            revoke=revoke_twilio,
            dialed=dialed_in_request,
            account=SANDBOX_TWILIO_ACCOUNT_SID,
            listing_path="/Calls.json",
            # Twilio and Telnyx: the call status or result the message is made of.
            accepted=lambda call_id, text: (200, {"sid": call_id, "status": text}),
            known_secret=SANDBOX_TWILIO_AUTH_TOKEN,
        ),
        ProviderCase(
            provider="telnyx",
            title=f"Telnyx (key …{TELNYX_FINGERPRINT[:8]})",
            unique_id=f"telnyx_{TELNYX_FINGERPRINT}",
            data=telnyx_data,
            transfer={"call_id": SANDBOX_TELNYX_CALL_ID, "to": "+14155550100"},
            transfer_path="/actions/transfer",
            ended_status=422,
            revoke=revoke_telnyx,
            dialed=dialed_in_request,
            account=SANDBOX_TELNYX_API_KEY,
            listing_path="/active_calls",
            live_options={"connection_id": SANDBOX_TELNYX_CONNECTION_ID},
            live_status=None,
            lists_numbers=False,
            lists_direction=False,
            accepted=lambda _call_id, text: (200, {"data": {"result": text}}),
            known_secret=SANDBOX_TELNYX_API_KEY,
        ),
        plivo_style_case(
            "plivo",
            "Plivo (Sandbox Plivo account)",
            plivo_data,
            revoke_plivo,
            SANDBOX_PLIVO_AUTH_TOKEN,
        ),
    )
}


@pytest.fixture(params=list(PROVIDER_CASES))
def provider(request: pytest.FixtureRequest) -> ProviderName:
    """Run a test once per provider, unless it names the providers it runs on."""
    provider: ProviderName = request.param
    return provider


@pytest.fixture
def case(provider: ProviderName) -> ProviderCase:
    """Return what tests need to know about the provider's sandbox account."""
    return PROVIDER_CASES[provider]


def transfer_arrives(sandbox: Sandbox) -> asyncio.Event:
    """Return an event set when the sandbox receives a transfer (a POST).

    Waiting on it needs no timer: it works on a frozen clock too.
    """
    arrived = asyncio.Event()
    sandbox.request_hooks.append(
        lambda request: request.method == "POST" and arrived.set()
    )
    return arrived


def transfers_sent(sandbox: Sandbox) -> list[RecordedRequest]:
    """Return the transfer requests the sandbox received.

    Both APIs transfer with POST; everything else the integration sends (account checks,
    live-call polls) is a GET.
    """
    return [request for request in sandbox.requests if request.method == "POST"]
