"""Fetching a transferred leg's URL, as the provider does after it accepts a transfer.

The provider answers the transfer and then requests the leg's URL with the requested
method, sending the call's parameters form-encoded (in the query for GET). A
Plivo-style provider (Vobiz, Plivo) fetches each transferred leg's URL and sends
``CallUUID``, ``From``, ``To``, ``Direction``, ``CallStatus``, and for a B leg the A
leg's ``ALegUUID`` and ``ALegRequestUUID`` (docs.vobiz.ai/xml/request,
plivo.com/docs/voice/xml/request); Twilio fetches a redirected call's ``Url`` with its
own parameters (``twilio.TwilioApi``). The XML it gets back, checked against the
provider's dialect, decides what the leg does; an unreachable URL, a timeout, an HTTP
error or invalid XML drops the leg. The outcome is recorded on the call and logged.

The sandbox only ever connects to loopback IP addresses: for any other host it records
``dropped: unreachable (not a loopback address)`` without a name lookup or a connection,
and it never follows a redirect.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
import ipaddress
import logging
from typing import Final

import aiohttp
from yarl import URL

from .callxml import CallXmlError, XmlDialect, parse_call_xml
from .state import LegOutcome, LegResult, SandboxCall, SandboxState

LOGGER = logging.getLogger(__package__)
# How long the sandbox waits for a leg URL to answer (the providers do not document theirs).
FETCH_TIMEOUT: Final = 5.0
# The largest XML document Vobiz and Plivo accept in answer to a request (their XML
# request docs).
MAX_XML_BYTES: Final = 100 * 1024
XML_CONTENT_TYPES: Final = frozenset({"application/xml", "text/xml"})
WEBHOOK_PATH: Final = "/api/webhook/"


@dataclass(frozen=True, slots=True)
class LegFetch:
    """One leg URL to fetch for an accepted transfer, with what the request carries.

    ``params`` are the call's parameters the provider sends; ``dialect`` is the call
    XML the answer must be.
    """

    call: SandboxCall
    leg: str
    url: str
    method: str
    dialect: XmlDialect
    params: dict[str, str]


class LegFetcher:
    """Fetches transferred legs' URLs in the background and records what they answered.

    The transfer handler ``plan``s the fetches; the server ``start``s them once the
    202 is sent. ``settled()`` waits until every started fetch has finished. ``hold()``
    makes fetches wait until ``release()``, as a provider that fetches late (or again)
    does.
    """

    def __init__(
        self,
        state: SandboxState,
        on_dial: Callable[[SandboxCall, LegOutcome], None] | None = None,
    ) -> None:
        """Record outcomes on the calls and in the fetch log of ``state``.

        ``on_dial`` is told of each leg that goes on to dial a number.
        """
        self.state = state
        self.on_dial = on_dial
        self.timeout = FETCH_TIMEOUT
        self._planned: list[LegFetch] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._released = asyncio.Event()
        self._released.set()

    def hold(self) -> None:
        """Make fetches started from now on (and those waiting) wait for ``release()``."""
        self._released.clear()

    def release(self) -> None:
        """Let held fetches go."""
        self._released.set()

    def plan(
        self, call: SandboxCall, order: dict[str, str], dialect: XmlDialect
    ) -> None:
        """Queue a fetch of each leg an accepted (Plivo-style) transfer order redirects."""
        for leg in ("aleg", "bleg"):
            if (url := order.get(f"{leg}_url")) is not None:
                self.plan_fetch(
                    LegFetch(
                        call,
                        leg,
                        url,
                        order[f"{leg}_method"],
                        dialect,
                        _call_parameters(call, leg),
                    )
                )

    def plan_fetch(self, fetch: LegFetch) -> None:
        """Queue one fetch, made once the accepting answer has been sent."""
        self._planned.append(fetch)

    def take_planned(self) -> list[LegFetch]:
        """Return the queued fetches (of the request being answered) and forget them."""
        planned, self._planned = self._planned, []
        return planned

    def start(self, fetches: Iterable[LegFetch]) -> None:
        """Start fetching in the background."""
        for fetch in fetches:
            task = asyncio.create_task(self._fetch_and_record(fetch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def settled(self, timeout: float = 10.0) -> None:
        """Wait until every started fetch has recorded its outcome."""
        async with asyncio.timeout(timeout):
            while self._tasks:
                await asyncio.wait(set(self._tasks))

    async def close(self) -> None:
        """Cancel fetches still running and close the HTTP session."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._planned.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _fetch_and_record(self, fetch: LegFetch) -> None:
        await self._released.wait()
        outcome = await self._fetch(fetch)
        fetch.call.outcomes.append(outcome)
        self.state.leg_fetches.append(outcome)
        LOGGER.info(
            "%s %s %s for the %s of call %s: %s",
            fetch.dialect.provider,
            fetch.method,
            _masked(fetch.url),
            "A leg" if fetch.leg == "aleg" else "B leg",
            fetch.call.call_id,
            outcome,
        )
        if self.on_dial is not None and outcome.result is LegResult.DIALING:
            self.on_dial(fetch.call, outcome)

    async def _fetch(self, fetch: LegFetch) -> LegOutcome:
        params = fetch.params
        url = URL(fetch.url)
        fetched = LegOutcome(
            call_id=fetch.call.call_id,
            leg=fetch.leg,
            method=fetch.method,
            url=fetch.url,
            params=params,
            result=LegResult.DROPPED,
        )

        def dropped(reason: str, status: int | None = None) -> LegOutcome:
            return replace(fetched, status=status, reason=reason)

        if not is_loopback_ip(url.host):
            return dropped("unreachable (not a loopback address)")
        if self._session is None:
            self._session = aiohttp.ClientSession()
        get = fetch.method == "GET"
        try:
            async with (
                asyncio.timeout(self.timeout),
                self._session.request(
                    fetch.method,
                    url.extend_query(params) if get else url,
                    data=None if get else params,
                    allow_redirects=False,
                ) as response,
            ):
                body = await _read_at_most(response, MAX_XML_BYTES + 1)
                status, content_type = response.status, response.content_type
        except TimeoutError:
            return dropped(f"timeout (no answer within {self.timeout:g} s)")
        except aiohttp.ClientError as err:
            return dropped(f"unreachable ({type(err).__name__})")
        if status != 200:
            return dropped(f"HTTP {status}", status)
        if not body.strip():
            return dropped("invalid XML (empty body)", status)
        if content_type not in XML_CONTENT_TYPES:
            return dropped(f"invalid XML (Content-Type {content_type})", status)
        if len(body) > MAX_XML_BYTES:
            return dropped("invalid XML (larger than 100 KB)", status)
        try:
            plan = parse_call_xml(body, fetch.dialect)
        except CallXmlError as err:
            return dropped(f"invalid XML ({err})", status)
        return replace(
            fetched,
            result=LegResult.DIALING if plan.numbers else LegResult.HUNG_UP,
            status=status,
            numbers=plan.numbers,
            caller_id=plan.caller_id,
            announcement=plan.announcement,
            ring_timeout=plan.ring_timeout,
            report=plan.report,
        )


async def _read_at_most(response: aiohttp.ClientResponse, limit: int) -> bytes:
    body = b""
    while len(body) < limit and (
        chunk := await response.content.read(limit - len(body))
    ):
        body += chunk
    return body


def _call_parameters(call: SandboxCall, leg: str) -> dict[str, str]:
    """Return the parameters a Plivo-style provider sends when it fetches a leg's XML."""
    params = {
        "CallUUID": call.call_id if leg == "aleg" else call.bleg_uuid,
        "From": call.from_number,
        "To": call.to_number,
        "Direction": call.direction,
        "CallStatus": call.status.value,
    }
    if leg == "bleg":
        params |= {"ALegUUID": call.call_id, "ALegRequestUUID": call.request_uuid}
    return params


def is_loopback_ip(host: str | None) -> bool:
    """Whether a URL's host is a loopback IP address (the sandbox reaches nothing else).

    Only an IP literal can be checked without a name lookup.
    """
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _masked(url: str) -> str:
    """Hide the query values of a URL (a transfer URL's token is a credential).

    A Home Assistant webhook's id (``/api/webhook/<id>``, a credential too) is hidden.
    """
    parsed = URL(url)
    if parsed.path.startswith(WEBHOOK_PATH):
        parsed = parsed.with_path(f"{WEBHOOK_PATH}***")
    return str(parsed.with_query(dict.fromkeys(parsed.query, "***")))
