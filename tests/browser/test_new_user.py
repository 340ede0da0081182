"""A new user's first steps, in a real browser against a real hass and the sandbox.

Log in, switch on advanced mode (for the API base URL), add a Bland AI account
through Add integration (a wrong key shows the error, the right one creates the
entry), then transfer a sandbox call from Developer tools → Actions in UI mode and
read the response on the page. A failed step leaves its screenshot and the hass log
in tests/browser/artifacts/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
import re
import shutil

from playwright.async_api import Page, expect

from sandbox import SANDBOX_BLAND_API_KEY, SANDBOX_BLAND_CALL_ID, Sandbox
from tests.e2e.conftest import StartHomeAssistant, log_errors

from .conftest import ARTIFACTS

USERNAME = "dev"
PASSWORD = "dev"  # noqa: S105 - the dev instance's documented login


# Where an element's text ends on screen (the element itself may be wider).
TEXT_RIGHT_EDGE = """element => {
    const range = document.createRange();
    range.selectNodeContents(element);
    return range.getBoundingClientRect().right;
}"""


class Steps:
    """Named steps; a failing one keeps the page's screenshot and the hass log."""

    def __init__(self, page: Page, log: Path) -> None:
        """Record failures of steps on this page."""
        self.page = page
        self.log = log

    @asynccontextmanager
    async def step(self, name: str) -> AsyncIterator[None]:
        """Run one step; on failure save artifacts/<name>.png and artifacts/hass.log."""
        try:
            yield
        except BaseException:
            ARTIFACTS.mkdir(exist_ok=True)
            await self.page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
            shutil.copy(self.log, ARTIFACTS / "hass.log")
            raise


async def log_in(page: Page, url: str) -> None:
    """Open Home Assistant and log in as the dev instance's owner."""
    await page.goto(url)
    await page.get_by_role("textbox", name="Username").fill(USERNAME)
    await page.get_by_role("textbox", name="Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()


async def test_add_account_and_transfer_from_developer_tools(
    page: Page, start_home_assistant: StartHomeAssistant, sandbox: Sandbox
) -> None:
    """What the README's quick start promises a new user, step by step in the browser."""
    hass = await start_home_assistant(accounts=False)
    steps = Steps(page, hass.log)

    async with steps.step("1-log-in"):
        await log_in(page, hass.url)
        # Logged in once the app shows its sidebar (the tokens are stored by then).
        await expect(page.get_by_text("Developer tools", exact=True)).to_be_visible()

    async with steps.step("2-add-integration-menu"):
        await page.goto(f"{hass.url}/config/integrations/dashboard")
        await page.get_by_role("button", name="Add integration").click()
        # Search once the list has rendered: the 2025.4 dialog throws when its list
        # is filtered while it is still being laid out.
        await expect(page.locator("ha-integration-list-item").first).to_be_visible()
        await page.get_by_role("textbox", name="Search for a brand name").fill(
            "Call Transfer"
        )
        await page.get_by_text("Call Transfer", exact=True).last.click()
        title = page.get_by_text("Choose a provider", exact=True)
        await expect(title).to_be_visible()
        await expect(page.get_by_text("Bland AI", exact=True)).to_be_visible()
        # Found in a browser: a longer title ran under the dialog's help icon.
        text_right = await title.evaluate(TEXT_RIGHT_EDGE)
        help_box = await page.get_by_role("button", name="Help").bounding_box()
        assert help_box is not None
        assert text_right <= help_box["x"]

    async with steps.step("3-wrong-key"):
        await page.get_by_text("Bland AI", exact=True).click()
        await page.get_by_role("textbox", name="API key").fill("sk-not-the-key")
        # The API base URL waits, collapsed, under Advanced options (no Advanced mode
        # needed, which Home Assistant retires).
        base_url = page.get_by_role("textbox", name="API base URL")
        await expect(base_url).to_be_hidden()
        await page.get_by_text("Advanced options", exact=True).click()
        # A host name, looked up by the real hass (pycares) on its shared session.
        await base_url.fill(f"http://localhost:{sandbox.port}/bland")
        await page.get_by_role("button", name="Submit").click()
        await expect(
            page.get_by_text("The provider rejected these credentials.")
        ).to_be_visible()

    async with steps.step("4-right-key"):
        await page.get_by_role("textbox", name="API key").fill(SANDBOX_BLAND_API_KEY)
        await page.get_by_role("button", name="Submit").click()
        await expect(
            page.get_by_text(re.compile("Created configuration for Bland AI"))
        ).to_be_visible()
        await page.get_by_role("button", name="Finish").click()

    async with steps.step("5-developer-tools-action"):
        await page.goto(f"{hass.url}/developer-tools/action")
        await page.get_by_role("combobox", name="Action").fill("Transfer call")
        await page.get_by_role(
            "option", name=re.compile("Call Transfer: Transfer call")
        ).click()
        # The form's rows: a field's name and description beside its input.
        fields = page.locator("ha-settings-row")
        # The call-leg fields wait in a collapsed section.
        await expect(
            page.locator("ha-expansion-panel", has_text="Call legs")
        ).to_be_visible()
        await expect(fields.filter(has_text="for the A leg (caller)")).to_be_hidden()
        # Optional fields: tick, then fill.
        for row, value in (
            ("The provider's id of the live call", SANDBOX_BLAND_CALL_ID),
            ("Destination phone number", "+14155550100"),
        ):
            field = fields.filter(has_text=row)
            await field.get_by_role("checkbox").check()
            await field.get_by_role("textbox").fill(value)
        await page.get_by_role("button", name="Perform action").click()

    async with steps.step("6-response"):
        response = page.locator("ha-code-editor").last
        await expect(response).to_contain_text(
            f"Call {SANDBOX_BLAND_CALL_ID} transferred to +14155550100 successfully"
        )
        await expect(response).to_contain_text("provider: bland")

    async with steps.step("7-log"):
        assert sandbox.calls[SANDBOX_BLAND_CALL_ID].transferred_to == "+14155550100"
        assert log_errors(hass.log) == []
