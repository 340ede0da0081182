"""Home Assistant in tests: custom integrations enabled, the action as scripts call it, served HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import gc
import logging
from typing import Any
from unittest.mock import NonCallableMock

import freezegun
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import aiohttp_client
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.call_transfer.const import (
    DOMAIN,
    EVENT_TRANSFER_FAILED,
    EVENT_TRANSFER_SUCCEEDED,
)


def set_up_hass(request: pytest.FixtureRequest) -> None:
    """Set up the test's Home Assistant, after the recorder when the test uses one."""
    if "recorder_mock" in request.fixturenames:
        request.getfixturevalue("recorder_mock")
    request.getfixturevalue("hass")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Let Home Assistant load custom integrations in every test."""
    set_up_hass(request)
    request.getfixturevalue("enable_custom_integrations")


# The ``freezer`` fixture (freezegun) walks every loaded module at each start, looking for
# references to ``datetime`` and ``time`` to swap: about 2,250 modules, 22 ms a test,
# 4 to 6 s a worker in the fast suite. These packages hold no clock a test here freezes
# (neither the integration, Home Assistant, aiohttp, nor JWT-checking code is among them).
freezegun.configure(
    extend_ignore_list=[
        "_pytest",
        "anyio",
        "awscrt",
        "boto3",
        "botocore",
        "coverage",
        "cryptography",
        "dbus_fast",
        "hass_nabucasa",
        "httpcore",
        "httpx",
        "hypothesis",
        "mashumaro",
        "phonenumbers",
        "pluggy",
        "requests",
        "sqlalchemy",
        "syrupy",
        "urllib3",
        "zeroconf",
    ]
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--no-asyncio-debug``, which the fast suite uses."""
    parser.addoption(
        "--no-asyncio-debug",
        action="store_true",
        help="run the event loop without asyncio's debug mode, which the harness turns on "
        "and every full run keeps (the fast suite: 37-48 s instead of 66 s on two cores, "
        "CONTRIBUTING.md)",
    )


@pytest.fixture(autouse=True)
async def enable_event_loop_debug(request: pytest.FixtureRequest) -> None:
    """Turn asyncio's debug mode on, as the harness's fixture of the same name does.

    Unless ``--no-asyncio-debug``: in debug mode, every future and task records the stack
    it was created from, through CPython's ``traceback.extract_stack()``, with its source
    lines, over the whole depth of pytest's stack (about 30 frames). That is nearly half
    of what a test here costs. What debug mode adds (where a leaked future came from,
    ``call_soon`` from another thread refused, slow callbacks logged) is checked by every
    full run (``scripts/test``); Home Assistant's own thread checks run either way.
    """
    asyncio.get_running_loop().set_debug(
        not request.config.getoption("no_asyncio_debug")
    )


@pytest.fixture(autouse=True, scope="module")
def garbage_collection() -> None:
    """Collect the garbage of the module before, then leave what survived out of later ones.

    Replaces the harness's fixture of the same name, which runs a full ``gc.collect()``
    before each module (so one module's garbage, with its warnings, is not collected in
    the next): each walked the whole heap, Home Assistant, its test harness and every
    collected test, 600,000 to 800,000 objects, 0.4 to 0.6 s a module, 18 s a worker in
    the fast suite. What survives a full collection is reachable; frozen, it is skipped
    by the next ones, which then walk only what the module in between created (3 ms).
    """
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def forget_session_mock_calls() -> Iterator[None]:
    """Clear the calls recorded by the harness's session-wide zeroconf resolver mock.

    pytest-homeassistant-custom-component patches ``_async_make_resolver`` for the whole
    session, and the mock keeps each call's arguments: every test's Home Assistant
    instance, with everything it ever held, stayed alive to the end of the run. The heap
    grew by about 1,500 objects a test and each module's ``gc.collect()`` (the harness
    runs one per module) took up to a second by the end of the suite.
    """
    yield
    resolver_factory = getattr(aiohttp_client, "_async_make_resolver", None)
    if isinstance(resolver_factory, NonCallableMock):
        resolver_factory.reset_mock()


@pytest.fixture(autouse=True)
def no_access_log() -> Iterator[None]:
    """Keep aiohttp's access log (the served app's and the sandbox's) off in tests.

    Its line carries the local time, whose zone aiohttp re-reads every 30 minutes from
    ``time.localtime().tm_gmtoff``; under the frozen clock of freezegun that is None, so a
    test crossing the half hour logged "Error in logging" for each request it served.
    """
    logger = logging.getLogger("aiohttp.access")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


@pytest.fixture
def events(hass: HomeAssistant) -> dict[str, list[Any]]:
    """Capture both transfer events."""
    return {
        "succeeded": async_capture_events(hass, EVENT_TRANSFER_SUCCEEDED),
        "failed": async_capture_events(hass, EVENT_TRANSFER_FAILED),
    }


async def transfer(
    hass: HomeAssistant, context: Context | None = None, **data: Any
) -> Any:
    """Call the action the way a script or the UI does, asking for the response."""
    return await hass.services.async_call(
        DOMAIN, "transfer", data, blocking=True, return_response=True, context=context
    )


@pytest.fixture
async def hass_url(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> str:
    """Serve Home Assistant's HTTP app on 127.0.0.1 and make it the external URL.

    The webhook integration (with the HTTP one) is set up first: a served app takes
    no new routes.
    """
    assert await async_setup_component(hass, "webhook", {})
    client = await hass_client_no_auth()
    url = f"http://{client.host}:{client.port}"
    await hass.config.async_update(external_url=url)
    return url
