"""Plivo's Voice API (``https://api.plivo.com/v1``), as documented.

A Plivo-style call API (``plivo_style``) authenticated by HTTP Basic with the Auth ID
and the Auth Token, whose account is ``GET /Account/{auth_id}/``. A transfer answers
202 ``{"api_id", "message": "call transferred"}``; errors are ``{"api_id", "error"}``
(what Plivo's SDKs read). The live-call listing pages: ``limit`` (1 to 20, default 20)
and ``offset``, as Plivo's SDK sends them. Beyond the docs (the sandbox's choices): a
call that is not live answers 404, the 401 message, and refusing ``limit`` over 20.
Transferred legs must answer Plivo XML: the ``Speak`` and ``Dial`` attributes of
plivo.com/docs/voice/xml/speak and /xml/dial, ``Number`` and ``User``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from http import HTTPStatus
import re
from typing import Any, Final

from aiohttp import web

from .api import ApiRequest, Route, basic_credentials
from .callxml import VOBIZ_XML
from .plivo_style import PlivoStyleApi, with_api_id
from .state import PlivoAccount, SandboxCall

# Plivo XML is what Vobiz copied, with more attributes on <Dial>.
PLIVO_XML: Final = VOBIZ_XML.with_attributes(
    "Plivo",
    "Plivo XML",
    Dial=frozenset(
        {
            "callerName",
            "confirmTimeout",
            "redirect",
            "callbackUrl",
            "callbackMethod",
            "digitsMatch",
            "digitsMatchBLeg",
            "sipHeaders",
        }
    ),
)


class PlivoApi(PlivoStyleApi[PlivoAccount]):
    """Plivo: HTTP Basic (Auth ID, Auth Token), paths under ``/Account/{auth_id}/``."""

    name = "plivo"
    prefix = "/plivo/v1"
    unauthorized_message = "Authentication failed"
    dialect = PLIVO_XML
    live_call_page_size = 20
    # "Modify an application" answers 202.
    application_update_status = HTTPStatus.ACCEPTED
    # With microseconds, as in Plivo's SDK fixture (liveCallGetResponse.json).
    session_start_format = "%Y-%m-%d %H:%M:%S.%f"

    def account_routes(self) -> Sequence[Route[PlivoAccount]]:
        """``GET /Account/{auth_id}/`` describes the account."""
        return (Route(re.compile(r"/Account/[^/]+/"), {"GET": self._account}),)

    def credentials(self, request: ApiRequest) -> tuple[str, str] | None:
        """Read the Auth ID and Auth Token: HTTP Basic user name and password."""
        return basic_credentials(request.headers.get("Authorization", ""))

    def account(self, auth_id: str) -> PlivoAccount | None:
        """Return the Plivo account with this Auth ID."""
        return self.state.plivo_accounts.get(auth_id)

    def call_record(self, call: SandboxCall) -> dict[str, Any] | None:
        """Return an ended call's record, as "Get call detail record (CDR) of a call" shows it.

        Plivo keeps records of completed calls: a call in progress has none (404).
        """
        if call.ended is None:
            return None
        duration = int((call.ended - call.started).total_seconds())
        return {
            "answer_time": local_time(call.started),
            "bill_duration": duration,
            "billed_duration": duration,
            "call_direction": call.direction,
            "call_duration": duration,
            "call_state": "ANSWER",
            "call_uuid": call.call_id,
            "conference_uuid": None,
            "end_time": local_time(call.ended),
            "from_number": call.from_number,
            "hangup_cause_code": 4000,
            "hangup_cause_name": "Normal Hangup",
            "hangup_source": "Caller",
            "initiation_time": local_time(call.started),
            "parent_call_uuid": None,
            "resource_uri": f"/v1/Account/{call.account}/Call/{call.call_id}/",
            "stir_verification": "Not Applicable",
            "to_number": call.to_number,
            "total_amount": "0.00000",
            "total_rate": "0.00850",
            "voice_network_group": "",
            "source_ip": "",
        }

    def _account(
        self, request: ApiRequest, account: PlivoAccount, params: dict[str, str]
    ) -> web.Response:
        return self.ok(
            with_api_id(
                {
                    "account_type": account.account_type,
                    "address": "",
                    "auth_id": account.auth_id,
                    "auto_recharge": account.auto_recharge,
                    "billing_mode": account.billing_mode,
                    "cash_credits": account.cash_credits,
                    "city": "",
                    "name": account.name,
                    "resource_uri": f"/v1/Account/{account.auth_id}/",
                    "state": "",
                    "timezone": account.timezone,
                }
            )
        )


def local_time(moment: datetime) -> str:
    """Write a time as Plivo's call records do: ``YYYY-MM-DD HH:MM:SS+HH:MM`` (UTC here)."""
    return moment.astimezone(UTC).isoformat(sep=" ", timespec="seconds")
