"""Plivo: transfers redirect a call leg to a URL that answers Plivo XML."""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import Final

from .callbacks import (
    CallbackRefusal,
    CallbackRefusedError,
    CallbackRequest,
    hmac_sha256_base64,
    signature_matches,
)
from .http import basic_auth
from .plivo_callbacks import plivo_v3_signed_string
from .plivo_style import PlivoStyleClient, SignatureCheck

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

    def check_signature(
        self, request: CallbackRequest, params: Mapping[str, list[str]]
    ) -> SignatureCheck:
        """Verify ``X-Plivo-Signature-V3`` with its ``-Nonce``, as Plivo's SDKs do.

        base64(HMAC-SHA256(auth token, URL + sorted parameters + "." + nonce)), where
        the header may list several signatures, comma separated (any may match). The
        main account's (``-Ma-V3``) is not read; V2 is deprecated for voice.
        """
        nonce = request.header("X-Plivo-Signature-V3-Nonce")
        signatures = request.header("X-Plivo-Signature-V3")
        if not nonce or not signatures:
            raise CallbackRefusedError(
                CallbackRefusal.MISSING_SIGNATURE,
                "The callback carries no Plivo V3 signature with its nonce",
            )
        signed = plivo_v3_signed_string(request.method, request.url, params)
        if not signature_matches(
            signatures, hmac_sha256_base64(self._auth_token, f"{signed}.{nonce}")
        ):
            raise CallbackRefusedError(
                CallbackRefusal.BAD_SIGNATURE, "The callback's Plivo signature is wrong"
            )
        return SignatureCheck(name="V3", nonces=(nonce,), body_signed=True)
