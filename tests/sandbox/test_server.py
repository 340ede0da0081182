"""The server around both APIs: recording, connection counting, lifecycle, state."""

from __future__ import annotations

import json

import aiohttp
import pytest

from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_CALL_ID,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_AUTH_SECRET,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    SANDBOX_VOBIZ_CALL_ID,
    Fault,
    FaultKind,
    Sandbox,
)

from .conftest import ACCOUNT_PATH, BLAND_HEADERS, VOBIZ_HEADERS


async def test_requests_are_recorded_with_secrets_masked(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Method, path, query, body are kept; credential header values are not."""
    async with session.get(
        f"{sandbox.vobiz_base_url}{ACCOUNT_PATH}/Call/",
        headers=VOBIZ_HEADERS,
        params={"status": "live"},
    ) as response:
        assert response.status == 200
    body = {"call_id": SANDBOX_BLAND_CALL_ID, "transfer_number": "+12223334444"}
    async with session.post(
        f"{sandbox.bland_base_url}/v1/calls/active/transfer",
        headers=BLAND_HEADERS,
        json=body,
    ) as response:
        assert response.status == 200

    listing, transfer = sandbox.requests
    assert (listing.provider, transfer.provider) == ("vobiz", "bland")
    assert listing.method == "GET"
    assert listing.path == f"/vobiz/api/v1{ACCOUNT_PATH}/Call/"
    assert listing.query == {"status": "live"}
    assert listing.headers["x-auth-id"] == SANDBOX_VOBIZ_AUTH_ID
    assert listing.headers["x-auth-token"] == "***"
    assert (listing.json, listing.text) == (None, "")
    assert transfer.headers["authorization"] == "***"
    assert transfer.json == body
    assert transfer.text == json.dumps(body)
    recorded = repr(sandbox.requests)
    for secret in (SANDBOX_VOBIZ_AUTH_TOKEN, SANDBOX_BLAND_API_KEY):
        assert secret not in recorded


async def test_rejected_and_faulty_requests_are_recorded(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Even a request answered 401, or cut off by a fault, is in the record."""
    sandbox.add_fault(Fault(kind=FaultKind.RESET), path_contains="/transfer")
    wrong = {"authorization": "sk-typo"}

    async with session.get(
        f"{sandbox.bland_base_url}/v1/calls/active", headers=wrong
    ) as response:
        assert response.status == 401
    # A POST: aiohttp retries an idempotent request once when the connection breaks.
    with pytest.raises(aiohttp.ClientConnectionError):
        async with session.post(
            f"{sandbox.bland_base_url}/v1/calls/active/transfer",
            headers=BLAND_HEADERS,
            json={"call_id": SANDBOX_BLAND_CALL_ID, "transfer_number": "+12223334444"},
        ):
            pass

    assert [r.path for r in sandbox.requests] == [
        "/bland/v1/calls/active",
        "/bland/v1/calls/active/transfer",
    ]
    assert sandbox.requests[0].headers["authorization"] == "***"
    assert sandbox.calls[SANDBOX_BLAND_CALL_ID].transfers == []


async def test_requests_to_filters_by_path(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """requests_to returns the recorded requests whose path contains the text."""
    for url, headers in (
        (f"{sandbox.vobiz_base_url}/auth/me", VOBIZ_HEADERS),
        (f"{sandbox.bland_base_url}/v1/me", BLAND_HEADERS),
        (f"{sandbox.vobiz_base_url}/auth/me", VOBIZ_HEADERS),
    ):
        async with session.get(url, headers=headers):
            pass

    assert len(sandbox.requests_to("/auth/me")) == 2
    assert [r.path for r in sandbox.requests_to("/bland/")] == ["/bland/v1/me"]
    assert sandbox.requests_to("/Call/") == []


async def test_connections_are_counted(sandbox: Sandbox) -> None:
    """A keep-alive session reuses one connection; new sessions open new ones."""
    url = f"{sandbox.vobiz_base_url}/auth/me"
    async with aiohttp.ClientSession() as keep_alive:
        for _ in range(3):
            async with keep_alive.get(url, headers=VOBIZ_HEADERS) as response:
                assert response.status == 200
    assert sandbox.connections == 1

    for _ in range(2):
        async with (
            aiohttp.ClientSession() as fresh,
            fresh.get(url, headers=VOBIZ_HEADERS) as response,
        ):
            assert response.status == 200
    assert sandbox.connections == 3

    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(force_close=True)
    ) as closing:
        for _ in range(2):
            async with closing.get(url, headers=VOBIZ_HEADERS):
                pass
    assert sandbox.connections == 5
    assert len(sandbox.requests) == 7


async def test_paths_outside_both_providers(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Only the two provider prefixes exist."""
    for path in ("/", "/vobiz", "/vobiz/api/v2/auth/me", "/blandai/v1/me"):
        async with session.get(
            f"http://127.0.0.1:{sandbox.port}{path}", headers=VOBIZ_HEADERS
        ) as response:
            assert response.status == 404
            assert await response.json() == {"error": "no provider here"}


async def test_base_urls(sandbox: Sandbox) -> None:
    """The base URLs point at the loopback port, one prefix per provider."""
    assert sandbox.port > 0
    assert sandbox.vobiz_base_url == f"http://127.0.0.1:{sandbox.port}/vobiz/api/v1"
    assert sandbox.bland_base_url == f"http://127.0.0.1:{sandbox.port}/bland"
    assert sandbox.plivo_base_url == f"http://127.0.0.1:{sandbox.port}/plivo/v1"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "localhost", "::"])
async def test_start_refuses_hosts_that_are_not_loopback(host: str) -> None:
    """The sandbox never listens where another machine could reach it."""
    sandbox = Sandbox()

    with pytest.raises(ValueError, match="loopback only"):
        await sandbox.start(host)


@pytest.mark.usefixtures("socket_enabled")
async def test_lifecycle() -> None:
    """Base URLs exist only while running; stop is idempotent; a restart works."""
    sandbox = Sandbox()
    with pytest.raises(RuntimeError, match="not running"):
        _ = sandbox.vobiz_base_url

    await sandbox.start()
    with pytest.raises(RuntimeError, match="already running"):
        await sandbox.start()
    await sandbox.stop()
    await sandbox.stop()
    with pytest.raises(RuntimeError, match="not running"):
        _ = sandbox.bland_base_url

    await sandbox.start()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{sandbox.bland_base_url}/v1/me", headers=BLAND_HEADERS
            ) as response,
        ):
            assert response.status == 200
    finally:
        await sandbox.stop()


def test_seed() -> None:
    """The documented accounts and calls are there unless seed=False."""
    seeded = Sandbox()

    assert seeded.vobiz_accounts[SANDBOX_VOBIZ_AUTH_ID].auth_secret == (
        SANDBOX_VOBIZ_AUTH_SECRET
    )
    assert seeded.bland_accounts[SANDBOX_BLAND_API_KEY].total_calls == 2
    # Every provider has its account and two live calls.
    assert [call.provider for call in seeded.calls.values()] == [
        provider for provider in seeded.accounts for _ in range(2)
    ]
    assert all(len(accounts) == 1 for accounts in seeded.accounts.values())
    assert all(call.live for call in seeded.calls.values())
    empty = Sandbox(seed=False)
    assert not any(empty.accounts.values())
    assert empty.calls == {}


def test_add_call_checks_the_account_and_the_id() -> None:
    """A call needs an account of its provider and an unused id."""
    sandbox = Sandbox()

    with pytest.raises(ValueError, match="Unknown bland account"):
        sandbox.add_call("bland", SANDBOX_VOBIZ_AUTH_ID)
    with pytest.raises(ValueError, match="already exists"):
        sandbox.add_call("vobiz", SANDBOX_VOBIZ_AUTH_ID, SANDBOX_VOBIZ_CALL_ID)
    call = sandbox.add_call("bland", SANDBOX_BLAND_API_KEY)
    assert sandbox.calls[call.call_id] is call
    assert sandbox.bland_accounts[SANDBOX_BLAND_API_KEY].total_calls == 3
