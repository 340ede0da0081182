"""Ed25519 signature verification (RFC 8032 §5.1.7), verify only, in pure Python.

The providers package uses nothing but aiohttp and the standard library, which has no
Ed25519; Telnyx signs its webhooks with it. This checks a signature the way libsodium
and OpenSSL (``cryptography``) do: the public key and R must decode to points of the
curve (y < p, x recoverable, no "negative zero") that are not of small order (as
libsodium refuses them), S must be canonical (S < L), and
``[S]B - [k]A`` must encode to exactly the bytes of R (the cofactorless equation; a
non-canonical R never matches). Nothing here is secret (a public key, a signature and a
message), so the arithmetic need not be constant time. Tested against RFC 8032 §7.1's
vectors and against ``cryptography`` on random keys and messages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Final

PUBLIC_KEY_BYTES: Final = 32
SIGNATURE_BYTES: Final = 64
_P: Final = 2**255 - 19
_L: Final = 2**252 + 27742317777372353535851937790883648493
_D: Final = -121665 * pow(121666, -1, _P) % _P
_D2: Final = 2 * _D % _P
_SQRT_M1: Final = pow(2, (_P - 1) // 4, _P)

type _Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T)


def _add(a: _Point, b: _Point) -> _Point:
    """Add two points (RFC 8032 §5.1.4; complete: it doubles as well)."""
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    e1 = (y1 - x1) * (y2 - x2) % _P
    h1 = (y1 + x1) * (y2 + x2) % _P
    c = t1 * _D2 * t2 % _P
    d = z1 * 2 * z2 % _P
    e, f, g, h = h1 - e1, d - c, d + c, h1 + e1
    return e * f % _P, g * h % _P, f * g % _P, e * h % _P


def _decode(encoded: bytes) -> _Point | None:
    """Decode a point (RFC 8032 §5.1.3); None when the bytes name no point of the curve."""
    y = int.from_bytes(encoded, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, -1, _P) % _P
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
        if (x * x - x2) % _P:
            return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = _P - x
    return x, y, 1, x * y % _P


def _small_order(point: _Point) -> bool:
    """Whether a point's order divides the cofactor 8 (libsodium refuses such keys and Rs)."""
    for _ in range(3):
        point = _add(point, point)
    x, y, z, _ = point
    return x % _P == 0 and (y - z) % _P == 0


def _encode(point: _Point) -> bytes:
    x, y, z, _ = point
    z_inv = pow(z, -1, _P)
    x, y = x * z_inv % _P, y * z_inv % _P
    return (y | (x & 1) << 255).to_bytes(32, "little")


_BASE: Final = _decode((4 * pow(5, -1, _P) % _P).to_bytes(32, "little"))
_IDENTITY: Final[_Point] = (0, 1, 1, 0)


def _double_scalar(s: int, base: _Point, k: int, other: _Point) -> _Point:
    """Return ``[s]base + [k]other`` (Straus: one doubling per bit for both)."""
    both = _add(base, other)
    table: dict[tuple[int, int], _Point] = {
        (1, 0): base,
        (0, 1): other,
        (1, 1): both,
    }
    result = _IDENTITY
    for bit in reversed(range(max(s.bit_length(), k.bit_length()))):
        result = _add(result, result)
        pick = ((s >> bit) & 1, (k >> bit) & 1)
        if pick != (0, 0):
            result = _add(result, table[pick])
    return result


def verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Return whether ``signature`` is ``public_key``'s Ed25519 signature of ``message``."""
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    r_bytes = signature[:32]
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    a = _decode(public_key)
    r = _decode(r_bytes)
    if a is None or r is None or _small_order(a) or _small_order(r):
        return False
    k = (
        int.from_bytes(
            hashlib.sha512(r_bytes + public_key + message).digest(), "little"
        )
        % _L
    )
    x, y, z, t = a
    minus_a = (_P - x) % _P, y, z, (_P - t) % _P
    assert _BASE is not None  # the base point's encoding decodes
    return _encode(_double_scalar(s, _BASE, k, minus_a)) == r_bytes


def is_public_key(public_key: bytes) -> bool:
    """Whether 32 bytes encode a point of the curve that is not of small order."""
    if len(public_key) != PUBLIC_KEY_BYTES:
        return False
    point = _decode(public_key)
    return point is not None and not _small_order(point)


def decode_public_key(text: str | None) -> bytes | None:
    """Return a base64 public key's 32 bytes; None when it is not a point of the curve."""
    key = _base64((text or "").strip(), PUBLIC_KEY_BYTES)
    return key if key is not None and is_public_key(key) else None


def decode_signature(text: str) -> bytes | None:
    """Return a base64 signature's 64 bytes; None for text of any other form."""
    return _base64(text, SIGNATURE_BYTES)


def _base64(text: str, size: int) -> bytes | None:
    """Decode padded base64 of exactly ``size`` bytes (its length is checked first)."""
    if len(text) != 4 * -(-size // 3):
        return None
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if len(decoded) == size else None
