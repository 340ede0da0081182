"""The integration's entities as tests find them."""

from __future__ import annotations

from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.call_transfer.const import DOMAIN


def transfers_entity_id(
    entity_registry: er.EntityRegistry, entry: MockConfigEntry
) -> str:
    """Return the entity id of an account's Transfers event entity."""
    entity_id = entity_registry.async_get_entity_id(
        "event", DOMAIN, f"{entry.entry_id}_transfers"
    )
    assert entity_id is not None
    return entity_id
