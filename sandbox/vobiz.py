"""The Vobiz voice API (``https://api.vobiz.ai/api/v1``), as documented.

A Plivo-style call API (``plivo_style``) authenticated by the ``X-Auth-ID`` and
``X-Auth-Token`` headers, whose account is ``GET /auth/me``. Errors use the
``{"api_id", "error"}`` envelope, one of the three shapes Vobiz's docs show; a STATUS
fault with a body sends the others. Paths are PascalCase: another spelling of
``Account`` or ``Call`` is answered 401, as Vobiz does. A call's record (``GET
…/Call/{uuid}/``, docs.vobiz.ai/call/retrieve-call) is served for calls in progress and
ended alike, with the fields of that page's example.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
import re
from typing import Any, Final

from aiohttp import web

from .api import ApiRequest, Route
from .callxml import VOBIZ_XML
from .plivo_style import PlivoStyleApi, with_api_id
from .state import SandboxCall, VobizAccount

# Path segments Vobiz spells in PascalCase; another spelling is answered 401.
_PASCAL_CASE: Final = frozenset({"Account", "Call"})


class VobizApi(PlivoStyleApi[VobizAccount]):
    """Vobiz: ``X-Auth-ID`` + ``X-Auth-Token`` headers, PascalCase paths."""

    name = "vobiz"
    prefix = "/vobiz/api/v1"
    unauthorized_message = "authentication failed"
    dialect = VOBIZ_XML

    def account_routes(self) -> Sequence[Route[VobizAccount]]:
        """``GET /auth/me`` describes the account."""
        return (Route(re.compile(r"/auth/me"), {"GET": self._me}),)

    def credentials(self, request: ApiRequest) -> tuple[str, str] | None:
        """Both headers, on a path spelled as Vobiz spells it."""
        if _misspelled(request.path):
            return None
        return request.headers.get("X-Auth-ID", ""), request.headers.get(
            "X-Auth-Token", ""
        )

    def account(self, auth_id: str) -> VobizAccount | None:
        """Return the Vobiz account with this Auth ID."""
        return self.state.vobiz_accounts.get(auth_id)

    def transfer_answer(self, call_uuid: str) -> dict[str, Any]:
        """Vobiz names the transferred call in its answer."""
        return {"message": "call transferred", "call_uuid": call_uuid}

    def call_record(self, call: SandboxCall) -> dict[str, Any]:
        """Return the record of any call, live or ended, as "Retrieve a Call (CDR)" shows it."""
        ended = call.ended or datetime.now(UTC)
        duration = max(0, int((ended - call.started).total_seconds()))
        started = call.started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "call_uuid": call.call_id,
            "request_uuid": call.request_uuid,
            "from": call.from_number,
            "to": call.to_number,
            "status": call.status.value,
            "direction": call.direction,
            "duration": duration,
            "billed_duration": duration,
            "call_rate": "0.02",
            "total_cost": "0.00",
            "created_at": started,
            "answered_at": started,
        }

    def _me(
        self, request: ApiRequest, account: VobizAccount, params: dict[str, str]
    ) -> web.Response:
        return self.ok(
            with_api_id(
                {
                    "auth_id": account.auth_id,
                    "name": account.name,
                    "is_active": account.is_active,
                    "enabled": account.enabled,
                    "concurrent_calls_limit": account.concurrent_calls_limit,
                    "cps_limit": account.cps_limit,
                    "auth_secret": account.auth_secret,
                }
            )
        )


def _misspelled(path: str) -> bool:
    return any(
        segment.lower() in ("account", "call") and segment not in _PASCAL_CASE
        for segment in path.split("/")
    )
