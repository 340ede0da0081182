"""Runtime data of a Call Transfer config entry."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
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

# How each account's last transfers ended (RECENT_TRANSFERS_KEPT of them), for its
# diagnostics. Kept by the integration, not by a loaded entry, so a reload does not
# lose them; removing the account forgets them. In memory only: they hold numbers.
_RECENT_TRANSFERS: HassKey[dict[str, deque[TransferOutcome]]] = HassKey(
    f"{DOMAIN}_recent_transfers"
)


@callback
def recent_transfers(hass: HomeAssistant, entry_id: str) -> deque[TransferOutcome]:
    """Return how the account's last transfers ended, oldest first."""
    kept = hass.data.setdefault(_RECENT_TRANSFERS, {})
    if (transfers := kept.get(entry_id)) is None:
        transfers = kept[entry_id] = deque(maxlen=RECENT_TRANSFERS_KEPT)
    return transfers


@callback
def forget_recent_transfers(hass: HomeAssistant, entry_id: str) -> None:
    """Forget a removed account's transfers."""
    hass.data.setdefault(_RECENT_TRANSFERS, {}).pop(entry_id, None)


@dataclass(slots=True)
class CallTransferData:
    """What a loaded entry holds: its client, account and live calls."""

    client: TransferProvider
    account: AccountInfo
    # The entry data and options the client was built with.
    data: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    # Polls the live calls, when the client can list them.
    coordinator: LiveCallsCoordinator | None = None
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
