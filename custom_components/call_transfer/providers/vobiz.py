"""Vobiz: transfers redirect a call leg to a URL that answers Vobiz XML."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .callbacks import (
    CallbackRefusal,
    CallbackRefusedError,
    CallbackRequest,
    hmac_sha256_base64,
    signature_matches,
    url_without_query,
)
from .plivo_callbacks import plivo_v3_signed_string
from .plivo_style import PlivoStyleClient, SignatureCheck

VOBIZ_API_URL: Final = "https://api.vobiz.ai/api/v1"
# Signature versions, newest first, and what joins the URL to the nonce in each
# (docs.vobiz.ai/concepts/validating-callbacks). V1 (HMAC-SHA1) is not accepted.
_SIGNATURES: Final = (("V3", "."), ("V2", ""))


class VobizClient(PlivoStyleClient):
    """Client for the Vobiz voice API, a Plivo-style call API."""

    provider_id = "vobiz"
    display_name = "Vobiz"
    default_base_url = VOBIZ_API_URL
    # Non-secret facts from GET /auth/me; never the whole object (it holds auth_secret).
    account_details = ("is_active", "enabled", "concurrent_calls_limit", "cps_limit")
    account_secrets = ("auth_secret",)

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

    def check_signature(
        self, request: CallbackRequest, params: Mapping[str, list[str]]
    ) -> SignatureCheck:
        """Verify ``X-Vobiz-Signature-V3`` or ``-V2`` (each with its ``-Nonce``).

        As documented, each signs the URL without its query, then the nonce:
        base64(HMAC-SHA256(auth token, URL + "." + nonce)) for V3, without the "."
        for V2; the body is not signed. Vobiz's Go SDK computes V3 over Plivo's
        string instead (URL, sorted parameters, nonce), which covers the body: that is
        accepted too, and named so. Every signature that verifies has its nonce
        checked against replays. The main account's (``-MA-``) are not read.
        """
        base = url_without_query(request.url)
        verified: list[tuple[str, str, bool]] = []
        present = False
        for version, joiner in _SIGNATURES:
            nonce = request.header(f"X-Vobiz-Signature-{version}-Nonce")
            signatures = request.header(f"X-Vobiz-Signature-{version}")
            if not nonce or not signatures:
                continue
            present = True
            if signature_matches(
                signatures, hmac_sha256_base64(self._auth_token, base + joiner + nonce)
            ):
                verified.append((version, nonce, False))
            elif version == "V3" and signature_matches(
                signatures,
                hmac_sha256_base64(
                    self._auth_token,
                    f"{plivo_v3_signed_string(request.method, request.url, params)}.{nonce}",
                ),
            ):
                verified.append(("V3 (SDK form)", nonce, True))
        if not present:
            raise CallbackRefusedError(
                CallbackRefusal.MISSING_SIGNATURE,
                "The callback carries no Vobiz signature (V3 or V2 with its nonce)",
            )
        if not verified:
            raise CallbackRefusedError(
                CallbackRefusal.BAD_SIGNATURE, "The callback's Vobiz signature is wrong"
            )
        return SignatureCheck(
            name=verified[0][0],
            nonces=tuple(nonce for _, nonce, _ in verified),
            body_signed=any(signed for _, _, signed in verified),
        )
