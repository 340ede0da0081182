"""scripts/dev_instance.py talks to Home Assistant only once what it asks for is set up."""

from __future__ import annotations

import asyncio
from pathlib import Path
import sys

from aiohttp import web
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import dev_instance  # noqa: E402

STARTING_ANSWERS = 2


@pytest.mark.usefixtures("socket_enabled")  # a server on 127.0.0.1
async def test_waits_for_the_frontend_not_just_the_http_server() -> None:
    """A starting Home Assistant answers 404 before auth and onboarding are set up.

    Taken as "up", its missing /api/onboarding read as onboarded and a fresh instance
    was logged in to (a 404 from /auth/login_flow). The wait lasts until the frontend
    serves its manifest, which it does once its dependencies (auth, onboarding) are up.
    """
    asked: list[str] = []

    async def answer(request: web.Request) -> web.Response:
        asked.append(request.path)
        if len(asked) <= STARTING_ANSWERS:
            raise web.HTTPNotFound
        return web.json_response({"name": "Home Assistant"})

    app = web.Application()
    app.router.add_route("GET", "/{path:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = dev_instance.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        api = dev_instance.HomeAssistantApi(f"http://127.0.0.1:{port}")
        await asyncio.get_running_loop().run_in_executor(None, api.wait_until_up, 30)
    finally:
        await runner.cleanup()

    assert asked == ["/manifest.json"] * (STARTING_ANSWERS + 1)
