"""Vobiz: transfers redirect a call leg to a URL that answers Vobiz XML."""

from __future__ import annotations

from typing import Final

from .plivo_style import PlivoStyleClient

VOBIZ_API_URL: Final = "https://api.vobiz.ai/api/v1"


class VobizClient(PlivoStyleClient):
    """Client for the Vobiz voice API, a Plivo-style call API."""

    provider_id = "vobiz"
    display_name = "Vobiz"
    default_base_url = VOBIZ_API_URL
    # Non-secret facts from GET /auth/me; never the whole object (it holds auth_secret).
    account_details = ("is_active", "enabled", "concurrent_calls_limit", "cps_limit")

    @staticmethod
    def auth_headers(
        auth_id: str, auth_token: str
    ) -> tuple[dict[str, str], tuple[str, ...]]:
        """Vobiz takes the credentials as two headers."""
        return {"X-Auth-ID": auth_id, "X-Auth-Token": auth_token}, (auth_token,)

    @property
    def account_check_path(self) -> str:
        """``GET /auth/me`` describes the account the credentials belong to."""
        return "/auth/me"
