"""LLM tools: the transfer intent as a tool of the Assist API, for LLM conversation agents.

Home Assistant 2025.x offers every registered intent to LLM agents by itself. Newer
versions ask each integration for its tools through this platform of the ``llm``
integration instead, which does not exist before (hence the type-check exceptions
for the oldest supported version).
"""

from __future__ import annotations

from homeassistant.components.llm import LLMTools  # type: ignore[import-not-found,unused-ignore]
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import intent, llm

from .const import DOMAIN, INTENT_LIVE_CALLS, INTENT_TRANSFER

_TITLES = {
    INTENT_TRANSFER: "Transfer a live call to a destination",
    INTENT_LIVE_CALLS: "Tell the live calls",
}


@callback
def async_get_tools(
    hass: HomeAssistant, llm_context: llm.LLMContext, api_id: str
) -> LLMTools | None:
    """Offer "transfer a live call to a destination" and "the live calls" to the Assist API."""
    if api_id != llm.LLM_API_ASSIST:
        return None
    tools: list[llm.Tool] = [
        llm.IntentTool(  # type: ignore[call-arg,unused-ignore]
            f"{DOMAIN}__{handler.intent_type}",
            handler,
            title=_TITLES[handler.intent_type],
            integration=DOMAIN,
        )
        for handler in intent.async_get(hass)
        if handler.intent_type in _TITLES
    ]
    return LLMTools(tools=tools)
