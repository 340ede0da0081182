"""How the providers sign the callbacks they send, written for the sandbox on its own.

Kept apart from the integration's verifiers on purpose (a mistake shared by both would
cancel out); both are checked against the same published vectors. Sources: Vobiz's
docs (docs.vobiz.ai/concepts/validating-callbacks) and its Go SDK
(``internal/utils/helpers.go``: V3 over Plivo's string), Plivo's SDK
(plivo-python ``plivo/utils/signature_v3.py``), Twilio's SDK (twilio-python
``twilio/request_validator.py``: HMAC-SHA1 of the URL and the sorted parameters),
Telnyx's SDKs (telnyx-python ``telnyx/webhook.py``: Ed25519 over ``timestamp|body``,
keys in base64), signed here with ``cryptography`` (the integration verifies with its
own Ed25519), Bland's docs (docs.bland.ai ``tutorials/webhook-signing``: the hex
HMAC-SHA256 of the body with the webhook signing secret).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
import hashlib
import hmac
import secrets
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def new_nonce() -> str:
    """Return a random 20-digit nonce, as Vobiz and Plivo send."""
    return "".join(secrets.choice("0123456789") for _ in range(20))


def _sign(key: str, message: str) -> str:
    mac = hmac.new(key.encode("utf-8"), msg=message.encode("utf-8"), digestmod="sha256")
    return base64.b64encode(mac.digest()).decode()


def vobiz_v2(auth_token: str, url: str, nonce: str) -> str:
    """Vobiz V2: the URL without query or fragment, then the nonce."""
    parts = urlsplit(url)
    return _sign(
        auth_token, urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")) + nonce
    )


def vobiz_v3(auth_token: str, url: str, nonce: str) -> str:
    """Vobiz V3 as documented: the URL without query or fragment, ".", the nonce."""
    parts = urlsplit(url)
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return _sign(auth_token, f"{base}.{nonce}")


def plivo_v3(
    auth_token: str,
    method: str,
    url: str,
    params: Mapping[str, Sequence[str]],
    nonce: str,
) -> str:
    """Plivo V3 (and Vobiz V3 as its Go SDK computes it): URL, sorted params, nonce."""
    return _sign(auth_token, f"{plivo_v3_string(method, url, params)}.{nonce}")


def plivo_v3_string(method: str, url: str, params: Mapping[str, Sequence[str]]) -> str:
    """Build the string Plivo's SDK signs (``construct_get_url``/``construct_post_url``)."""
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    in_query: dict[str, list[str]] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        in_query.setdefault(key, []).append(value)
    if method.upper() == "GET":
        every = {key: list(values) for key, values in params.items()}
        for key, values in in_query.items():
            every[key] = every.get(key, []) + values
        query = _query_text(every)
        return f"{base}?{query}" if query else base
    query = _query_text(in_query)
    head = base
    if query or params:
        head = f"{head}?{query}"
    if query and params:
        head = f"{head}."
    pairs: list[str] = []
    for key in sorted(params):
        pairs.extend(key + value for value in sorted(params[key]))
    return head + "".join(pairs)


def _query_text(params: Mapping[str, Sequence[str]]) -> str:
    pairs: list[str] = []
    for key in sorted(params):
        pairs.extend(f"{key}={value}" for value in sorted(params[key]))
    return "&".join(pairs)


def twilio(auth_token: str, url: str, params: Mapping[str, Sequence[str]]) -> str:
    """Twilio: the URL as requested, then each parameter's name and value, by name."""
    message = url
    for name in sorted(params):
        for value in sorted(set(params[name])):
            message += name + value
    mac = hmac.new(auth_token.encode("utf-8"), message.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def ed25519_public_key(seed: bytes) -> str:
    """Return the base64 public key of the Ed25519 key pair made from a 32-byte seed."""
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return base64.b64encode(
        public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    ).decode()


def telnyx_ed25519(seed: bytes, timestamp: str, body: bytes) -> str:
    """Telnyx: base64 of the Ed25519 signature of ``timestamp|body``."""
    private = Ed25519PrivateKey.from_private_bytes(seed)
    return base64.b64encode(private.sign(f"{timestamp}|".encode() + body)).decode()


def bland(signing_secret: str, body: bytes) -> str:
    """Bland: the hex HMAC-SHA256 of the body, keyed with the webhook signing secret."""
    return hmac.new(signing_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
