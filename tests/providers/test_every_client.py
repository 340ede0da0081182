"""What every provider client does alike, checked on each against its sandbox API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import pytest

from custom_components.call_transfer.providers import (
    PROVIDERS,
    RateLimitedError,
    TransferPlanError,
    TransferProvider,
    TransferRequest,
    UnexpectedResponseError,
)
from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_PLIVO_AUTH_TOKEN,
    SANDBOX_TELNYX_API_KEY,
    SANDBOX_TWILIO_AUTH_TOKEN,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    Fault,
    FaultKind,
    ProviderName,
    Sandbox,
)

from . import test_bland, test_plivo, test_telnyx, test_twilio, test_vobiz
from .conftest import failed_transfer


@dataclass(frozen=True, slots=True)
class ClientCase:
    """A provider's client for the sandbox, a valid transfer, and its secret."""

    client: Callable[[aiohttp.ClientSession, Sandbox], TransferProvider]
    transfer: TransferRequest
    secret: str


CASES: dict[ProviderName, ClientCase] = {
    "vobiz": ClientCase(
        test_vobiz.client_for, test_vobiz.aleg_transfer(), SANDBOX_VOBIZ_AUTH_TOKEN
    ),
    "bland": ClientCase(
        test_bland.client_for,
        TransferRequest(call_id=SANDBOX_BLAND_CALL_ID, to=test_bland.NUMBER),
        SANDBOX_BLAND_API_KEY,
    ),
    "twilio": ClientCase(
        test_twilio.client_for, test_twilio.to_number(), SANDBOX_TWILIO_AUTH_TOKEN
    ),
    "telnyx": ClientCase(
        test_telnyx.client_for, test_telnyx.transfer_to(), SANDBOX_TELNYX_API_KEY
    ),
    "plivo": ClientCase(
        test_plivo.client_for, test_plivo.to_url(), SANDBOX_PLIVO_AUTH_TOKEN
    ),
}
every_client = pytest.mark.parametrize("provider", list(CASES))
SECRETS = tuple(case.secret for case in CASES.values())


@every_client
async def test_rate_limit_is_retried_then_reported(
    session: aiohttp.ClientSession, sandbox: Sandbox, provider: ProviderName
) -> None:
    """A 429 (in the provider's own envelope) is retried twice, then RateLimitedError."""
    case = CASES[provider]
    fault = Fault(kind=FaultKind.RATE_LIMIT, retry_after="0.1")
    error = await failed_transfer(
        case.client(session, sandbox), case.transfer, sandbox, fault
    )
    assert isinstance(error, RateLimitedError)
    assert (error.status, error.retry_after) == (429, 0.1)
    assert len(sandbox.requests) == 3


@every_client
async def test_message_echoing_a_secret_is_scrubbed(
    session: aiohttp.ClientSession, sandbox: Sandbox, provider: ProviderName
) -> None:
    """A secret the provider echoes in its error envelope never reaches our message."""
    case = CASES[provider]
    body = sandbox.error_body(provider, 400, f"bad {case.secret}")
    fault = Fault(kind=FaultKind.STATUS, status=400, body=body)
    error = await failed_transfer(
        case.client(session, sandbox), case.transfer, sandbox, fault
    )
    assert case.secret not in str(error)
    assert "***" in str(error)


@every_client
@pytest.mark.parametrize(
    "fault",
    [
        Fault(kind=FaultKind.MALFORMED_JSON),
        Fault(kind=FaultKind.EMPTY, status=200),
        Fault(kind=FaultKind.HTML, status=200),
        Fault(kind=FaultKind.STATUS, status=200, body={}),
    ],
)
async def test_unreadable_success_leaves_the_outcome_unknown(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    provider: ProviderName,
    fault: Fault,
) -> None:
    """A 2xx we cannot read may still have transferred: said so, never retried."""
    case = CASES[provider]
    error = await failed_transfer(
        case.client(session, sandbox), case.transfer, sandbox, fault
    )
    assert isinstance(error, UnexpectedResponseError)
    assert error.outcome_unknown
    assert len(sandbox.requests) == 1


@pytest.mark.parametrize(
    ("provider", "refusal"),
    [
        ("bland", "to_required"),
        ("telnyx", "to_required"),
        ("twilio", "to_or_url_required"),
    ],
)
async def test_a_plan_with_nowhere_to_go_is_refused(
    provider: str, refusal: str
) -> None:
    """A call id alone: the library says what is missing, by what the provider takes.

    (Home Assistant's action refuses this earlier, naming Destination and To.)
    """

    async def unused_parser(number: str) -> str:
        raise AssertionError(number)

    with pytest.raises(TransferPlanError) as refused:
        await PROVIDERS[provider].capabilities.plan(
            {"call_id": "CA" + "1" * 32}, provider=provider, parse_number=unused_parser
        )

    assert refused.value.refusal.value == refusal
