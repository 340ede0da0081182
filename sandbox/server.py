"""The sandbox's HTTP server: every provider on one loopback port, faults, recording."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from typing import Any, Final

from aiohttp import web
from yarl import URL

from .api import FORM, ApiRequest, ProviderApi, decode_form, decode_json
from .bland import BlandApi
from .callbacks import CallbackSender
from .control import CONTROL_PREFIX, is_control_path, respond as control_respond
from .faults import Fault, FaultKind, canned_response
from .legfetch import LegFetcher
from .plivo import PlivoApi
from .state import (
    ProviderName,
    RecordedRequest,
    SandboxCall,
    SandboxState,
    mask_headers,
)
from .telnyx import TelnyxApi
from .twilio import TwilioApi
from .vobiz import VobizApi

# How long stop() lets requests still being handled finish before cancelling them.
SHUTDOWN_TIMEOUT: Final = 1.0


def require_loopback(host: str) -> None:
    """Refuse any host but a loopback IP address: the sandbox must not be reachable."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"The sandbox listens on loopback only (such as 127.0.0.1), not {host!r}"
        )


class Sandbox(SandboxState):
    """A local server speaking the providers' APIs, with injectable faults."""

    def __init__(self, *, seed: bool = True) -> None:
        """Prepare the state (seeded with the documented test data unless told not to)."""
        self.callback_sender = CallbackSender(self)
        super().__init__(seed=seed)
        self.connections = 0  # TCP connections accepted so far
        self.leg_fetcher = LegFetcher(self, on_dial=self.callback_sender.dialled)
        self._apis: tuple[ProviderApi[Any], ...] = (
            VobizApi(self, self.leg_fetcher),
            BlandApi(self),
            TwilioApi(self, self.leg_fetcher),
            TelnyxApi(self, on_transfer=self.callback_sender.telnyx_transferred),
            PlivoApi(self, self.leg_fetcher),
        )
        self._runner: web.ServerRunner | None = None
        self._listener: asyncio.Server | None = None
        self._stopping = asyncio.Event()
        self._url: URL | None = None

    def add_call(self, *args: Any, **kwargs: Any) -> SandboxCall:
        """Add a call; its application (Vobiz, Plivo, Telnyx) is told it started."""
        call = super().add_call(*args, **kwargs)
        self.callback_sender.call_started(call)
        return call

    def end_call(self, call_id: str) -> None:
        """Hang up a call; its application (Vobiz, Plivo, Telnyx) is told, with its Dials."""
        super().end_call(call_id)
        self.callback_sender.call_ended(self.calls[call_id])

    async def callbacks_settled(self, timeout: float = 10.0) -> None:
        """Wait until every callback so far was sent and answered (or failed)."""
        await self.callback_sender.settled(timeout)

    @property
    def port(self) -> int:
        """The port the sandbox listens on."""
        port = self._base_url.port
        assert port is not None  # the URL is built with one
        return port

    @property
    def vobiz_base_url(self) -> str:
        """What to use instead of ``https://api.vobiz.ai/api/v1``."""
        return str(self._base_url.with_path(VobizApi.prefix))

    @property
    def bland_base_url(self) -> str:
        """What to use instead of ``https://api.bland.ai``."""
        return str(self._base_url.with_path(BlandApi.prefix))

    def error_body(self, provider: ProviderName, status: int, message: str) -> Any:
        """Return the error envelope ``provider`` answers ``status`` with, for faults."""
        return next(api for api in self._apis if api.name == provider).error_body(
            status, message
        )

    @property
    def twilio_base_url(self) -> str:
        """What to use instead of ``https://api.twilio.com/2010-04-01``."""
        return str(self._base_url.with_path(TwilioApi.prefix))

    @property
    def telnyx_base_url(self) -> str:
        """What to use instead of ``https://api.telnyx.com/v2``."""
        return str(self._base_url.with_path(TelnyxApi.prefix))

    @property
    def plivo_base_url(self) -> str:
        """What to use instead of ``https://api.plivo.com/v1``."""
        return str(self._base_url.with_path(PlivoApi.prefix))

    @property
    def _base_url(self) -> URL:
        if self._url is None:
            raise RuntimeError("The sandbox is not running")
        return self._url

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on a loopback address; port 0 picks a free port."""
        require_loopback(host)
        if self._runner is not None:
            raise RuntimeError("The sandbox is already running")
        # handler_cancellation: a request whose client went away (a HANG the client
        # gave up on) is cancelled instead of lingering.
        web_server = web.Server(self._handle, handler_cancellation=True)
        runner = web.ServerRunner(web_server, shutdown_timeout=SHUTDOWN_TIMEOUT)
        await runner.setup()

        def accept_connection() -> asyncio.BaseProtocol:
            # asyncio asks for one protocol per accepted TCP connection.
            self.connections += 1
            return web_server()

        try:
            listener = await asyncio.get_running_loop().create_server(
                accept_connection, host, port
            )
        except OSError:
            await runner.cleanup()
            raise
        self._stopping = asyncio.Event()
        self._runner, self._listener = runner, listener
        bound_port = listener.sockets[0].getsockname()[1]
        self._url = URL.build(scheme="http", host=host, port=bound_port)

    async def stop(self) -> None:
        """Stop listening, abort hanging requests, close every connection."""
        if self._runner is None or self._listener is None:
            return
        self._stopping.set()
        await self.leg_fetcher.close()
        await self.callback_sender.close()
        self._listener.close()
        await self._runner.cleanup()
        await self._listener.wait_closed()
        self._runner = self._listener = self._url = None

    @property
    def control_url(self) -> str:
        """Where the control plane (start, end and list calls) answers."""
        return str(self._base_url.with_path(CONTROL_PREFIX))

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        body = await request.read()
        if is_control_path(request.path):
            # The sandbox's own control plane: no provider request, so not recorded.
            return control_respond(self, request.method, request.path, body)
        api_request, api = self._api_request(request, body)
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=mask_headers(request.headers),
            json=api_request.json,
            text=body.decode(errors="replace"),
            form=api_request.form,
            provider=None if api is None else api.name,
        )
        self.requests.append(recorded)
        if api is None:
            return web.json_response({"error": "no provider here"}, status=404)
        account = api.authenticate(api_request)
        fault = self.take_fault(
            api.name,
            None if account is None else api.account_key(account),
            api.call_id_of(api_request),
            request.path,
        )
        for hook in list(self.request_hooks):
            hook(recorded)
        if fault is not None and fault.kind is FaultKind.DRIP:
            return await self._drip(request, api.respond(api_request, account), fault)
        if fault is not None:
            faulty = await self._apply_fault(fault, request, api)
            if faulty is not None:
                return faulty
        response = api.respond(api_request, account)
        if fetches := self.leg_fetcher.take_planned():
            # The provider answers the transfer first and fetches the leg URLs afterwards.
            await response.prepare(request)
            await response.write_eof()
            self.leg_fetcher.start(fetches)
        return response

    async def fetches_settled(self, timeout: float = 10.0) -> None:
        """Wait until every transferred leg's URL fetch so far has recorded its outcome."""
        await self.leg_fetcher.settled(timeout)

    def _api_request(
        self, request: web.BaseRequest, body: bytes
    ) -> tuple[ApiRequest, ProviderApi[Any] | None]:
        """Return the request as seen below its provider's prefix, and that provider."""
        path = request.path
        api = next(
            (
                api
                for api in self._apis
                if path == api.prefix or path.startswith(f"{api.prefix}/")
            ),
            None,
        )
        json_body, json_valid = decode_json(body)
        api_request = ApiRequest(
            method=request.method,
            path=path.removeprefix(api.prefix) if api else path,
            query=request.query,
            headers=request.headers,
            content_type=request.content_type,
            body=body,
            json=json_body,
            json_valid=json_valid,
            form=decode_form(body) if request.content_type == FORM else None,
        )
        return api_request, api

    async def _apply_fault(
        self, fault: Fault, request: web.BaseRequest, api: ProviderApi[Any]
    ) -> web.StreamResponse | None:
        """Answer (or break) a faulty request; None when it is then handled normally."""
        match fault.kind:
            case FaultKind.RESET:
                return _abort(request)
            case FaultKind.HANG:
                await self._wait_for_stop(None)
                return _abort(request)
            case FaultKind.LATENCY:
                if await self._wait_for_stop(fault.delay):
                    return _abort(request)
                return None
            case _:
                if fault.delay and await self._wait_for_stop(fault.delay):
                    return _abort(request)
                return canned_response(fault, api.error_body(429, "too many requests"))

    async def _drip(
        self, request: web.BaseRequest, response: web.Response, fault: Fault
    ) -> web.StreamResponse:
        """Send the answer itself, one byte every ``fault.delay`` seconds, then hang up.

        What the answer set off (a transferred leg's fetch) starts once it is all sent.
        """
        planned = self.leg_fetcher.take_planned()
        transport = request.transport
        for index, byte in enumerate(raw_answer(response)):
            if index and await self._wait_for_stop(fault.delay):
                return _abort(request)
            if transport is None or transport.is_closing():
                return _abort(request)  # the client gave up
            transport.write(bytes((byte,)))
        self.leg_fetcher.start(planned)
        if transport is not None:
            transport.close()
        # Never sent: the answer went out above and the connection is closing.
        return web.Response(status=499)

    async def _wait_for_stop(self, seconds: float | None) -> bool:
        """Wait for stop() at most ``seconds`` (None: no limit); say whether it came."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()
        return self._stopping.is_set()


def raw_answer(response: web.Response) -> bytes:
    """Return an answer as it goes on the wire (HTTP/1.1), announcing that the connection closes."""
    body = response.body if isinstance(response.body, bytes) else b""
    headers = dict(response.headers) | {
        "Content-Length": str(len(body)),
        "Connection": "close",
    }
    head = f"HTTP/1.1 {response.status} {response.reason}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    return f"{head}\r\n".encode() + body


def _abort(request: web.BaseRequest) -> web.StreamResponse:
    """Abort the TCP connection: the client gets no response at all."""
    if request.transport is not None:
        request.transport.abort()
    # Never sent: the connection is gone, and aiohttp drops a response it cannot write.
    return web.Response(status=499)
