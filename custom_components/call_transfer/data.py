"""Runtime data of a Call Transfer config entry."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util.hass_dict import HassKey

from .const import (
    CONF_BASE_URL,
    CONF_PROVIDER,
    DOMAIN,
    RECENT_TRANSFERS_KEPT,
    REQUEST_TIMEOUT,
)
from .providers import PROVIDERS, AccountInfo, TransferProvider

# (entry id, call id) of every transfer under way, so a second transfer of the same call
# fails fast. Kept by the integration, not by a loaded entry: a reload, reconfigure or
# reauth during a transfer must not forget it.
TRANSFERS_IN_PROGRESS: HassKey[set[tuple[str, str]]] = HassKey(
    f"{DOMAIN}_transfers_in_progress"
)


@dataclass(slots=True)
class CallTransferData:
    """What a loaded entry holds: its client, its account and its recent transfers."""

    client: TransferProvider
    account: AccountInfo
    # (time.time(), event data) of recent outcomes; diagnostics masks them when asked.
    recent_transfers: deque[tuple[float, Mapping[str, Any]]] = field(
        default_factory=lambda: deque(maxlen=RECENT_TRANSFERS_KEPT)
    )


type CallTransferConfigEntry = ConfigEntry[CallTransferData]


def create_client(hass: HomeAssistant, data: Mapping[str, Any]) -> TransferProvider:
    """Build the provider client for entry data, on Home Assistant's shared session."""
    provider = PROVIDERS[data[CONF_PROVIDER]]
    credentials = {cred.key: data[cred.key] for cred in provider.credential_fields}
    return provider.from_credentials(
        async_get_clientsession(hass),
        credentials,
        base_url=data.get(CONF_BASE_URL),
        timeout=REQUEST_TIMEOUT,
    )
