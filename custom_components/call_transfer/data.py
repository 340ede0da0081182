"""Runtime data of a Call Transfer config entry."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util.hass_dict import HassKey

from .const import CONF_BASE_URL, CONF_PROVIDER, DOMAIN, RECENT_TRANSFERS_KEPT
from .providers import DEFAULT_TIMEOUT, PROVIDERS, AccountInfo, TransferProvider

if TYPE_CHECKING:
    from .coordinator import LiveCallsCoordinator
    from .dial import DialWebhook
    from .push import PushRuntime
    from .transfer import TransferOutcome

# (entry id, call id) of every transfer under way, so a second transfer of the same call
# fails fast. Kept by the integration, not by a loaded entry: a reload, reconfigure or
# reauth during a transfer must not forget it.
TRANSFERS_IN_PROGRESS: HassKey[set[tuple[str, str]]] = HassKey(
    f"{DOMAIN}_transfers_in_progress"
)


@dataclass(slots=True)
class CallTransferData:
    """What a loaded entry holds: its client, account, live calls and recent transfers."""

    client: TransferProvider
    account: AccountInfo
    # The entry data and options the client was built with.
    data: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    # Polls the live calls, when the client can list them.
    coordinator: LiveCallsCoordinator | None = None
    # How recent transfers ended; diagnostics masks them when asked.
    recent_transfers: deque[TransferOutcome] = field(
        default_factory=lambda: deque(maxlen=RECENT_TRANSFERS_KEPT)
    )
    # Serves the Dial XML of transfers to a number (NumberTransfer.DIAL_URL providers).
    dial_webhook: DialWebhook | None = None
    # Receives the provider's signed callbacks, while the account's push is on.
    push: PushRuntime | None = None
    # The live call the account's buttons and voice commands transfer, as chosen under
    # its Call to transfer select; None: the only live call.
    chosen_call_id: str | None = None


type CallTransferConfigEntry = ConfigEntry[CallTransferData]


def create_client(
    hass: HomeAssistant,
    data: Mapping[str, Any],
    options: Mapping[str, Any] | None = None,
) -> TransferProvider:
    """Build the provider client for entry data and options, on Home Assistant's shared session."""
    return PROVIDERS[data[CONF_PROVIDER]].from_credentials(
        async_get_clientsession(hass),
        data,
        options=options,
        base_url=data.get(CONF_BASE_URL),
        timeout=DEFAULT_TIMEOUT,
    )
