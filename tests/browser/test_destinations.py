"""Destinations as a new user meets them: the dev instance's Overview, the add dialog, Assist.

Against the dev instance as ``scripts/develop`` leaves it (sandbox accounts with two
destinations each, the Overview with their buttons): press a destination button while
two calls are live, add a destination from the account's page, then say "transfer the
call to reception" to Assist with one call live.
"""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from sandbox import SANDBOX_VOBIZ_CALL_ID, SANDBOX_VOBIZ_SECOND_CALL_ID, Sandbox
from tests.e2e.conftest import StartHomeAssistant, log_errors

from .test_new_user import Steps, log_in


async def test_buttons_add_dialog_and_assist(
    page: Page, start_home_assistant: StartHomeAssistant, sandbox: Sandbox
) -> None:
    """What the README's Destinations and Voice sections promise, in the browser."""
    hass = await start_home_assistant()
    steps = Steps(page, hass.log)

    async with steps.step("d1-log-in-to-the-overview"):
        await log_in(page, hass.url)
        reception = page.get_by_text("Transfer to Reception", exact=True)
        await expect(reception).to_be_visible()

    async with steps.step("d2-press-with-two-live-calls"):
        await reception.click()
        await page.get_by_role("button", name="OK").click()
        await expect(
            page.get_by_text(re.compile(r"2 calls are live on Vobiz .* Reception"))
        ).to_be_visible()
        assert sandbox.calls[SANDBOX_VOBIZ_CALL_ID].transferred_to is None

    async with steps.step("d3-add-a-destination"):
        await page.goto(f"{hass.url}/config/integrations/integration/call_transfer")
        account = page.locator("ha-md-list-item.config_entry", has_text="Vobiz (")
        await account.locator("ha-md-button-menu, ha-button-menu").first.click()
        await page.get_by_role("menuitem", name="Add destination").click()
        await page.get_by_role("textbox", name="Name").fill("reception")
        await page.get_by_role("textbox", name="Phone number").fill("415 555 0177")
        await page.get_by_role("button", name="Submit").click()
        await expect(
            page.get_by_text("This account already has a destination with this name.")
        ).to_be_visible()
        await page.get_by_role("textbox", name="Name").fill("Lobby")
        await page.get_by_role("button", name="Submit").click()
        await expect(
            page.get_by_text(re.compile("Lobby is a device of Vobiz"))
        ).to_be_visible()
        await page.get_by_role("button", name="Finish").click()

    async with steps.step("d4-assist"):
        sandbox.end_call(SANDBOX_VOBIZ_SECOND_CALL_ID)
        await page.goto(hass.url)
        await page.get_by_role("button", name="Assist").click()
        request = page.get_by_role("textbox", name="Enter a request")
        await request.fill("transfer the call to reception")
        await request.press("Enter")
        await expect(
            page.get_by_text("The call was transferred to Reception.")
        ).to_be_visible()
        await sandbox.fetches_settled()
        assert sandbox.calls[SANDBOX_VOBIZ_CALL_ID].transferred_to is not None
        # The one error is the refused press, which Home Assistant logs in one line.
        [refused] = log_errors(hass.log)
        assert "2 calls are live on Vobiz" in refused
