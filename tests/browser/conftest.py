"""A real hass with its frontend, and Debian's chromium driven by Playwright.

The browser reaches loopback only: every other request is refused before it leaves
(the 2025.4 frontend asks brands.home-assistant.io for integration icons), and
chromium resolves no other host name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
import shutil
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import auto_enable_custom_integrations, start_home_assistant  # noqa: F401 - fixtures shared with the e2e tests

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="the browser tests run on the min leg"
)

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def chromium_path() -> str:
    """Debian's chromium (scripts/test installs it); never a downloaded browser."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(
            "Debian's chromium is missing: scripts/test installs it (apt, root)"
        )
    return path


@pytest.fixture
async def page() -> AsyncIterator[playwright_api.Page]:
    """Yield a page of a fresh headless chromium that reaches loopback only."""
    async with playwright_api.async_playwright() as playwright:
        # Playwright gives each launch a fresh, empty profile (--user-data-dir).
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_FLAGS
        )
        context = await browser.new_context(viewport={"width": 1280, "height": 900})

        async def loopback_only(route: playwright_api.Route) -> None:
            if urlsplit(route.request.url).hostname in LOOPBACK_HOSTS:
                await route.continue_()
            else:
                await route.abort("blockedbyclient")

        await context.route("**/*", loopback_only)
        page = await context.new_page()
        page.set_default_timeout(20_000)
        # Assertions wait as long as actions: the full gate runs both legs at once, and
        # the first dashboard then takes longer than expect's default 5 s to render.
        playwright_api.expect.set_options(timeout=20_000)
        try:
            yield page
        finally:
            await browser.close()
