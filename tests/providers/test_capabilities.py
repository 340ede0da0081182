"""Transfer plans of the provider library: a request that says nowhere to go is refused.

Home Assistant's action asks for a destination before it plans (``where_required``), so
these refusals are the library's own, for its other users.
"""

from __future__ import annotations

import pytest

from custom_components.call_transfer.providers import (
    PROVIDERS,
    PlanRefusal,
    TransferPlanError,
)


async def number_as_given(number: str) -> str:
    """Parse a phone number: here, take it as it is."""
    return number


@pytest.mark.parametrize(
    ("provider", "refusal"),
    [
        # A number is all they take: it must be given.
        ("bland", PlanRefusal.TO_REQUIRED),
        ("telnyx", PlanRefusal.TO_REQUIRED),
        # A number or a URL: one of them.
        ("twilio", PlanRefusal.TO_OR_URL_REQUIRED),
    ],
)
async def test_a_plan_without_a_destination_is_refused(
    provider: str, refusal: PlanRefusal
) -> None:
    """Only the call id: the refusal names what is missing, and the provider."""
    with pytest.raises(TransferPlanError) as refused:
        await PROVIDERS[provider].capabilities.plan(
            {"call_id": "CA0123"}, provider="Provider", parse_number=number_as_given
        )

    assert refused.value.refusal is refusal
    assert refused.value.placeholders == {"provider": "Provider"}
