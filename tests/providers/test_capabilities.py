"""A transfer's fields planned against what each provider takes, where nothing says where to.

Home Assistant's action refuses such a transfer before planning it (``where_required``);
the plan refuses it too, as the library's own guard, naming what the provider needs.
"""

from __future__ import annotations

import pytest

from custom_components.call_transfer.providers import BlandClient, TwilioClient
from custom_components.call_transfer.providers.capabilities import (
    PlanRefusal,
    TransferPlanError,
)


async def parse_number(number: str) -> str:
    """Take a number as given: these plans never reach one."""
    return number


@pytest.mark.parametrize(
    ("client", "refusal"),
    [
        # Bland dials a number in its request and takes no XML URL: To is required.
        (BlandClient, PlanRefusal.TO_REQUIRED),
        # Twilio takes either a number or a TwiML URL: one of them is required.
        (TwilioClient, PlanRefusal.TO_OR_URL_REQUIRED),
    ],
)
async def test_a_plan_without_a_destination_is_refused(
    client: type[BlandClient | TwilioClient], refusal: PlanRefusal
) -> None:
    """A call id alone: refused for what the provider needs, with its name."""
    with pytest.raises(TransferPlanError) as refused:
        await client.capabilities.plan(
            {"call_id": "c1"}, provider=client.display_name, parse_number=parse_number
        )
    assert refused.value.refusal is refusal
    assert refused.value.placeholders == {"provider": client.display_name}
