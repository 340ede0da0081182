"""The built package: what it is, what it imports, and its clients against the sandbox."""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
import subprocess
import sys
import tomllib

import aiohttp
import pytest

import call_transfer_providers
from call_transfer_providers import (
    PROVIDERS,
    InvalidAuthError,
    TransferProvider,
    TransferRequest,
)
from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_BLAND_ORG_ID,
    SANDBOX_PLIVO_AUTH_ID,
    SANDBOX_PLIVO_AUTH_TOKEN,
    SANDBOX_PLIVO_CALL_ID,
    SANDBOX_TELNYX_API_KEY,
    SANDBOX_TELNYX_CALL_ID,
    SANDBOX_TELNYX_CONNECTION_ID,
    SANDBOX_TWILIO_ACCOUNT_SID,
    SANDBOX_TWILIO_AUTH_TOKEN,
    SANDBOX_TWILIO_CALL_SID,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    SANDBOX_VOBIZ_CALL_ID,
    Sandbox,
)

DISTRIBUTION = "call-transfer-providers"
PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = Path(call_transfer_providers.__file__).parent
NUMBER = "+14155550100"
XML_URL = "https://xml.example.com/transfer"


@dataclass(frozen=True, slots=True)
class Account:
    """A sandbox account: its credentials and options, its secret, and a valid transfer."""

    credentials: dict[str, str]
    options: dict[str, str]
    secret_key: str
    base_url: Callable[[Sandbox], str]
    transfer: TransferRequest


ACCOUNTS: dict[str, Account] = {
    "vobiz": Account(
        {"auth_id": SANDBOX_VOBIZ_AUTH_ID, "auth_token": SANDBOX_VOBIZ_AUTH_TOKEN},
        {},
        "auth_token",
        lambda sandbox: sandbox.vobiz_base_url,
        TransferRequest(call_id=SANDBOX_VOBIZ_CALL_ID, aleg_url=XML_URL),
    ),
    "bland": Account(
        {"api_key": SANDBOX_BLAND_API_KEY},
        {"org_id": SANDBOX_BLAND_ORG_ID},
        "api_key",
        lambda sandbox: sandbox.bland_base_url,
        TransferRequest(call_id=SANDBOX_BLAND_CALL_ID, to=NUMBER),
    ),
    "twilio": Account(
        {
            "account_sid": SANDBOX_TWILIO_ACCOUNT_SID,
            "secret": SANDBOX_TWILIO_AUTH_TOKEN,
        },
        {},
        "secret",
        lambda sandbox: sandbox.twilio_base_url,
        TransferRequest(call_id=SANDBOX_TWILIO_CALL_SID, to=NUMBER),
    ),
    "telnyx": Account(
        {"api_key": SANDBOX_TELNYX_API_KEY},
        {"connection_id": SANDBOX_TELNYX_CONNECTION_ID},
        "api_key",
        lambda sandbox: sandbox.telnyx_base_url,
        TransferRequest(call_id=SANDBOX_TELNYX_CALL_ID, to=NUMBER),
    ),
    "plivo": Account(
        {"auth_id": SANDBOX_PLIVO_AUTH_ID, "auth_token": SANDBOX_PLIVO_AUTH_TOKEN},
        {},
        "auth_token",
        lambda sandbox: sandbox.plivo_base_url,
        TransferRequest(call_id=SANDBOX_PLIVO_CALL_ID, aleg_url=XML_URL),
    ),
}
every_provider = pytest.mark.parametrize("provider", list(ACCOUNTS))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """Yield the session a caller injects into the clients."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def client(
    provider: str, session: aiohttp.ClientSession, sandbox: Sandbox, **changes: str
) -> TransferProvider:
    """Return the provider's client for its sandbox account."""
    account = ACCOUNTS[provider]
    return PROVIDERS[provider].from_credentials(
        session,
        account.credentials | changes,
        options=account.options,
        base_url=account.base_url(sandbox),
        timeout=5,
    )


def test_the_installed_distribution_is_imported() -> None:
    """The modules come from the installed distribution of this project's version."""
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    distribution = metadata.distribution(DISTRIBUTION)

    assert distribution.version == project["version"]
    assert distribution.metadata["Requires-Python"] == project["requires-python"]
    assert distribution.requires == project["dependencies"]
    installed = Path(str(distribution.locate_file(""))).resolve()
    assert PACKAGE.resolve().is_relative_to(installed)
    assert (PACKAGE / "py.typed").is_file()


def test_nothing_imports_home_assistant() -> None:
    """No module names Home Assistant, and importing them all loads none of it."""
    modules = sorted(PACKAGE.glob("*.py"))
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text(), str(module))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not [name for name in names if name.startswith("homeassistant")]
    imports = "; ".join(
        f"import call_transfer_providers.{module.stem}"
        for module in modules
        if module.stem != "__init__"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", f"{imports}; import sys; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "call_transfer_providers.http" in loaded
    assert "homeassistant" not in loaded


@every_provider
async def test_credentials_are_checked(
    provider: str, session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """The sandbox account's credentials are accepted; a wrong secret is InvalidAuthError."""
    account = await client(provider, session, sandbox).async_validate()
    assert account.account_id

    wrong = {ACCOUNTS[provider].secret_key: "not-the-secret"}
    with pytest.raises(InvalidAuthError) as raised:
        await client(provider, session, sandbox, **wrong).async_validate()
    assert "not-the-secret" not in str(raised.value)


@every_provider
async def test_live_call_is_listed_and_transferred(
    provider: str, session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """The seeded live call is listed, and the provider accepts its transfer."""
    provider_client = client(provider, session, sandbox)
    request = ACCOUNTS[provider].transfer

    listed = await provider_client.async_live_calls()
    result = await provider_client.async_transfer(request)

    assert request.call_id in {call.call_id for call in listed}
    assert result.call_id == request.call_id
    assert result.message
    await sandbox.fetches_settled()


def test_every_provider_is_covered() -> None:
    """A provider added to the registry gets a sandbox account here too."""
    assert set(PROVIDERS) == set(ACCOUNTS)
