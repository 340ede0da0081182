"""Helpers for talking to the sandbox over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from typing import Any, Final
import uuid

import aiohttp
import pytest

from custom_components.call_transfer.providers.http import basic_auth
from sandbox import (
    SANDBOX_BLAND_API_KEY,
    SANDBOX_BLAND_ORG_ID,
    SANDBOX_PLIVO_AUTH_ID,
    SANDBOX_PLIVO_AUTH_TOKEN,
    SANDBOX_TWILIO_ACCOUNT_SID,
    SANDBOX_TWILIO_AUTH_TOKEN,
    SANDBOX_VOBIZ_AUTH_ID,
    SANDBOX_VOBIZ_AUTH_TOKEN,
    Sandbox,
)

VOBIZ_HEADERS: Final = {
    "X-Auth-ID": SANDBOX_VOBIZ_AUTH_ID,
    "X-Auth-Token": SANDBOX_VOBIZ_AUTH_TOKEN,
}
BLAND_HEADERS: Final = {"authorization": SANDBOX_BLAND_API_KEY}
BLAND_ORG_HEADERS: Final = BLAND_HEADERS | {"x-bland-org-id": SANDBOX_BLAND_ORG_ID}
ACCOUNT_PATH: Final = f"/Account/{SANDBOX_VOBIZ_AUTH_ID}"
TWILIO_HEADERS: Final = {
    "Authorization": basic_auth(SANDBOX_TWILIO_ACCOUNT_SID, SANDBOX_TWILIO_AUTH_TOKEN)
}
PLIVO_HEADERS: Final = {
    "Authorization": basic_auth(SANDBOX_PLIVO_AUTH_ID, SANDBOX_PLIVO_AUTH_TOKEN)
}


@pytest.fixture
async def session(sandbox: Sandbox) -> AsyncGenerator[aiohttp.ClientSession]:
    """Return a client session (keep-alive) for the running sandbox."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as client:
        yield client


def is_uuid(value: Any) -> bool:
    """Say whether a value is a UUID string."""
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def assert_vobiz_error(body: Any, message: str) -> None:
    """Check Vobiz's ``{"api_id", "error"}`` envelope."""
    assert set(body) == {"api_id", "error"}
    assert is_uuid(body["api_id"])
    assert body["error"] == message


def bland_error(code: str, message: str) -> dict[str, Any]:
    """Return Bland's error envelope."""
    return {"data": None, "errors": [{"error": code, "message": message}]}


async def call_api(
    session: aiohttp.ClientSession,
    url: str,
    method: str = "GET",
    *,
    headers: Mapping[str, str],
    **kwargs: Any,
) -> tuple[int, Any, Mapping[str, str]]:
    """Send one request; return the status, the decoded JSON body (None if empty), headers."""
    async with session.request(method, url, headers=headers, **kwargs) as response:
        body = await response.read()
        decoded = await response.json(content_type=None) if body else None
        return response.status, decoded, response.headers


async def set_callback_fault(
    sandbox: Sandbox, provider: str, fault: str | None
) -> None:
    """Make a provider's callbacks go wrong (or right again) over the control plane."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{sandbox.control_url}/callback_faults",
            json={"provider": provider, "fault": fault},
        ) as response,
    ):
        assert response.status == 200
