"""Plivo: transfers redirect a call leg to a URL that answers Plivo XML."""

from __future__ import annotations

import re
from typing import Final

from .http import basic_auth
from .plivo_style import PlivoStyleClient

PLIVO_API_URL: Final = "https://api.plivo.com/v1"
# An Auth ID: MA (main account) or SA (subaccount) and 18 more, as Plivo's SDK checks it.
AUTH_ID: Final = re.compile(r"[MS]A[0-9A-Za-z]{18}")


class PlivoClient(PlivoStyleClient):
    """Client for Plivo's Voice API (``/v1/Account/{auth_id}/``)."""

    provider_id = "plivo"
    auth_id_format = (AUTH_ID, "MA or SA followed by 18 letters or digits")
    display_name = "Plivo"
    default_base_url = PLIVO_API_URL
    # Non-secret facts of the Account resource worth showing (not its credits or address).
    account_details = ("account_type", "billing_mode", "auto_recharge", "timezone")
    # The live-call listing answers at most 20 ids per request (limit, offset).
    live_call_page_size = 20

    @staticmethod
    def auth_headers(
        auth_id: str, auth_token: str
    ) -> tuple[dict[str, str], tuple[str, ...]]:
        """Plivo takes HTTP Basic authentication: the Auth ID and the Auth Token."""
        authorization = basic_auth(auth_id, auth_token)
        return {"Authorization": authorization}, (
            auth_token,
            authorization.removeprefix("Basic "),
        )

    @property
    def account_check_path(self) -> str:
        """``GET /Account/{auth_id}/`` describes the account."""
        return f"{self._account_path}/"
