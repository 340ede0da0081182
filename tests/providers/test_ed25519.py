"""The integration's own Ed25519 verification: RFC 8032's vectors, ``cryptography``, edge cases.

``cryptography`` (here through Home Assistant) is the reference: on random keys and
messages, genuine and altered, both must agree; the edge cases are those libsodium and
OpenSSL refuse (S not canonical, points off the curve or of small order).
"""

from __future__ import annotations

import base64
import hashlib
import random

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
import pytest

from custom_components.call_transfer.providers import ed25519

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
# RFC 8032 §7.1: TEST 1, 2, 3 and SHA(abc) (public key, message, signature).
RFC_8032_VECTORS = [
    (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        (
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        ),
    ),
    (
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        (
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
            "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        ),
    ),
    (
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        (
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
            "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"
        ),
    ),
    (
        "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        hashlib.sha512(b"abc").hexdigest(),
        (
            "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
            "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"
        ),
    ),
]


def raw(public: Ed25519PublicKey) -> bytes:
    """Return a public key's 32 bytes."""
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def reference(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Verify with ``cryptography`` (OpenSSL)."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except InvalidSignature:
        return False
    return True


@pytest.mark.parametrize(("public_key", "message", "signature"), RFC_8032_VECTORS)
def test_rfc_8032_vectors(public_key: str, message: str, signature: str) -> None:
    """Each vector verifies; one bit changed in the message, key or signature does not."""
    key, text, sig = (bytes.fromhex(v) for v in (public_key, message, signature))
    assert ed25519.verify(key, sig, text)
    assert not ed25519.verify(key, sig, text + b"\x00")
    assert not ed25519.verify(key, bytes([sig[0] ^ 1]) + sig[1:], text)
    assert not ed25519.verify(key, sig[:63] + bytes([sig[63] ^ 0x10]), text)
    other = next(bytes.fromhex(v[0]) for v in RFC_8032_VECTORS if v[0] != public_key)
    assert not ed25519.verify(other, sig, text)


def test_agrees_with_cryptography_on_random_keys_and_messages() -> None:
    """Genuine signatures verify, altered ones do not: exactly as ``cryptography`` says."""
    rng = random.Random(8032)
    for round_ in range(60):
        private = Ed25519PrivateKey.generate()
        public = raw(private.public_key())
        message = rng.randbytes(rng.randrange(0, 300))
        signature = private.sign(message)
        assert ed25519.verify(public, signature, message), round_
        position = rng.randrange(64)
        flipped = bytearray(signature)
        flipped[position] ^= 1 << rng.randrange(8)
        altered_message = message + bytes([rng.randrange(256)])
        for candidate in ((bytes(flipped), message), (signature, altered_message)):
            assert ed25519.verify(public, *candidate) == reference(public, *candidate)
            assert not ed25519.verify(public, *candidate)


def test_s_must_be_canonical() -> None:
    """S + L is the same scalar, but not canonical: refused, as OpenSSL refuses it."""
    private = Ed25519PrivateKey.generate()
    public = raw(private.public_key())
    signature = private.sign(b"message")
    s = int.from_bytes(signature[32:], "little")
    malleable = signature[:32] + (s + L).to_bytes(32, "little")
    assert not reference(public, malleable, b"message")
    assert not ed25519.verify(public, malleable, b"message")


def non_square_y() -> int:
    """Return the smallest y whose x² = (y² - 1) / (d y² + 1) has no root mod p."""
    d = -121665 * pow(121666, -1, P) % P
    y = 2
    while pow((y * y - 1) * pow(d * y * y + 1, -1, P) % P, (P - 1) // 2, P) == 1:
        y += 1
    return y


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ("y = p (not reduced)", P.to_bytes(32, "little")),
        ("y = p + 1 (the identity, not reduced)", (P + 1).to_bytes(32, "little")),
        ("no x for this y", non_square_y().to_bytes(32, "little")),
        ("x = 0 with the sign bit", (1 | 1 << 255).to_bytes(32, "little")),
        ("the identity (small order)", (1).to_bytes(32, "little")),
        ("order 4 (small order)", bytes(32)),
        ("order 2 (small order)", (P - 1).to_bytes(32, "little")),
    ],
)
def test_points_that_are_no_key(name: str, encoded: bytes) -> None:
    """Off the curve, not canonical or of small order: no key, and no R either."""
    assert not ed25519.is_public_key(encoded), name
    private = Ed25519PrivateKey.generate()
    signature = private.sign(b"m")
    assert not ed25519.verify(encoded, signature, b"m"), name
    public = raw(private.public_key())
    assert not ed25519.verify(public, encoded + signature[32:], b"m"), name


def test_lengths_and_base64() -> None:
    """Only 32-byte keys and 64-byte signatures, as padded base64, are read."""
    private = Ed25519PrivateKey.generate()
    public = raw(private.public_key())
    signature = private.sign(b"m")
    assert not ed25519.verify(public[:31], signature, b"m")
    assert not ed25519.verify(public, signature[:63], b"m")
    assert not ed25519.is_public_key(public + b"\x00")
    text = base64.b64encode(public).decode()
    assert ed25519.decode_public_key(f" {text} ") == public
    for bad in (None, "", text[:-1], text + "A", "!" * 44, text.replace("=", "A")):
        assert ed25519.decode_public_key(bad) is None, bad
    assert ed25519.decode_public_key(base64.b64encode(bytes(32)).decode()) is None
    signed = base64.b64encode(signature).decode()
    assert ed25519.decode_signature(signed) == signature
    for bad in ("", signed[:-4], signed + "AAAA", "*" * 88, "A" * 86 + "A="):
        assert ed25519.decode_signature(bad) is None, bad
