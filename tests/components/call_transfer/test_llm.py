"""LLM agents: the transfer intent as a tool of Home Assistant's Assist API."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import llm
import pytest

from custom_components.call_transfer.const import DOMAIN
from tests.helpers.live_calls import LiveAccount
from tests.helpers.voice import INTENT


def llm_context(hass: HomeAssistant) -> llm.LLMContext:
    """Describe a request of an LLM conversation agent (fields differ by version)."""
    values: dict[str, Any] = {
        "platform": "test",
        "context": Context(),
        "user_prompt": "transfer the call to reception",
        "language": "en",
        "assistant": conversation.DOMAIN,
        "device_id": None,
    }
    return llm.LLMContext(
        **{field.name: values[field.name] for field in fields(llm.LLMContext)}
    )


@pytest.mark.parametrize("provider", ["bland"])
async def test_the_assist_llm_api_offers_and_runs_the_intent(
    reception: LiveAccount,
) -> None:
    """An LLM agent sees the intent as a tool, with its description and slots, and uses it."""
    hass = reception.hass
    [only] = reception.leave_live(1)

    api = await llm.async_get_api(hass, llm.LLM_API_ASSIST, llm_context(hass))

    [tool] = [tool for tool in api.tools if tool.name.endswith(INTENT)]
    # Home Assistant 2025 names intent tools by the intent; newer ones by integration too.
    assert tool.name in (INTENT, f"{DOMAIN}__{INTENT}")
    assert tool.description is not None
    assert "named destinations" in tool.description
    assert {str(key) for key in tool.parameters.schema} == {
        "destination",
        "account",
        "caller",
        "newest",
    }
    result = await api.async_call_tool(
        llm.ToolInput(tool_name=tool.name, tool_args={"destination": "Reception"})
    )
    assert "The call was transferred to Reception." in str(result)
    assert reception.sandbox.calls[only].transferred_to == "+14155550100"


@pytest.mark.parametrize("provider", ["bland"])
async def test_other_llm_apis_get_no_tools(reception: LiveAccount) -> None:
    """Only the Assist API offers the tools: an integration's own LLM API gets none of them."""
    hass = reception.hass
    llm_tools = pytest.importorskip(
        "homeassistant.components.llm",
        reason="Home Assistant asks integrations for LLM tools from 2026 on",
    )

    assist = await llm_tools.async_get_tools(
        hass, llm_context(hass), llm.LLM_API_ASSIST
    )
    other = await llm_tools.async_get_tools(hass, llm_context(hass), "another_api")

    assert any(tool.name.startswith(f"{DOMAIN}__") for tool in assist.tools)
    assert not any(tool.name.startswith(f"{DOMAIN}__") for tool in other.tools)
