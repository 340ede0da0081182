"""Signed callbacks of Vobiz and Plivo: each scheme checked against the published vectors.

The integration's verifiers and the sandbox's signers are separate code; both must
reproduce the vectors of Plivo's SDKs and of the research notes (recomputed there), so a
mistake in one cannot hide behind the same mistake in the other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import aiohttp
import pytest

from custom_components.call_transfer.providers import PlivoClient, VobizClient
from custom_components.call_transfer.providers.callbacks import (
    CallbackKind,
    CallbackRefusal,
    CallbackRefusedError,
    CallbackRequest,
    RegisteredCallback,
    ReplayGuard,
    UnansweredReason,
    form_fields,
    hmac_sha256_base64,
    parse_time,
    seconds,
    signature_matches,
    url_without_query,
)
from custom_components.call_transfer.providers.plivo_callbacks import (
    plivo_v3_signed_string,
)
from custom_components.call_transfer.providers.plivo_style import PlivoStyleClient
from sandbox import signing

TOKEN = "my_auth_token"  # noqa: S105 - the published vectors' token
NONCE = "05429567804466091622"
URL = "https://example.com/api/webhook/abc123"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
# Plivo's SDK vectors (plivo-go utils_test.go TestValidateSignatureV3Pass1..4).
SDK_TOKEN = "Y2Q2ZDgxZmY5YWRiOTI5YmQ1Njg0MTAxZWIyOTc4"  # noqa: S105
SDK_NONCE = "31627761595286130198"
SDK_UUID = "3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36"
SDK_PARAMS = {
    "Direction": "outbound",
    "From": "19792014278",
    "ALegUUID": SDK_UUID,
    "CallStatus": "in-progress",
    "BillRate": "0.002",
    "ParentAuthID": "MANWVLYTK4ZWU1YTY4QA",
    "To": "sip:PlivoSignature382029104058171078704104@phone-qa.voice.plivodev.com",
    "ALegRequestUUID": SDK_UUID,
    "CallUUID": SDK_UUID,
    "RequestUUID": SDK_UUID,
    "SIP-H-To": "<sip:PlivoSignature382029104058171078704104@52.9.11.55;transport=udp>;tag=1",
    "SessionStart": "2020-04-08 11:34:33.238707",
    "Event": "StartApp",
}
SDK_URL = "https://plivobin.non-prod.plivops.com/api/v1/validate_signature03.xml"
SDK_VECTORS = [
    (f"{SDK_URL}/?a=b&c=d", "POST", "k7Pusd4OxCIjR5IfA9iedDNu/h/gbdYqdzG/MiYtd1c="),
    (f"{SDK_URL}/?a=b&c=d", "GET", "UBq8jAtd32wR8EK9VgxbBn4n5rpI/l1H9iN4WfSEHFQ="),
    (SDK_URL, "POST", "iAjE5QqI37mbkYe4w3jTMudqEzbDufdqi7sYwTu64e0="),
    (SDK_URL, "GET", "i/MQsaQSAd6fiKhOh2qeeeLHZ9faldADSb3/7+Akfbc="),
]
HANGUP = {
    "CallUUID": "c0a58e17-9d24-4f6b-8a13-72e5b4c9d806",
    "CallStatus": "completed",
    "Direction": "inbound",
    "Event": "Hangup",
    "From": "+14155551234",
    "To": "+14155556789",
}


def listed(params: dict[str, str]) -> dict[str, list[str]]:
    """Return form fields as parsed: each name with its list of values."""
    return {name: [value] for name, value in params.items()}


@pytest.mark.parametrize(("url", "method", "expected"), SDK_VECTORS)
def test_plivo_v3_sdk_vectors(url: str, method: str, expected: str) -> None:
    """Both Plivo V3 implementations reproduce the four vectors of Plivo's SDKs."""
    params = listed(SDK_PARAMS)
    signed = plivo_v3_signed_string(method, url, params)
    assert hmac_sha256_base64(SDK_TOKEN, f"{signed}.{SDK_NONCE}") == expected
    assert signing.plivo_v3(SDK_TOKEN, method, url, params, SDK_NONCE) == expected
    assert signing.plivo_v3_string(method, url, params) == signed


def test_plivo_v3_in_home_assistants_shape() -> None:
    """A hangup to a webhook URL: the signed string and signature of the research notes."""
    signed = plivo_v3_signed_string("POST", URL, listed(HANGUP))
    assert signed == (
        f"{URL}?CallStatuscompletedCallUUIDc0a58e17-9d24-4f6b-8a13-72e5b4c9d806"
        "DirectioninboundEventHangupFrom+14155551234To+14155556789"
    )
    expected = "IIQFTlxeY2sexrzywiD1EkqwYO0xQkIK7g6s4mPD4Rk="
    assert hmac_sha256_base64(TOKEN, f"{signed}.{NONCE}") == expected
    assert signing.plivo_v3(TOKEN, "POST", URL, listed(HANGUP), NONCE) == expected
    # No parameters and no query: the URL alone.
    assert plivo_v3_signed_string("POST", URL, {}) == URL


def test_vobiz_vectors() -> None:
    """Vobiz V2/V3 as documented sign the URL without its query; V2 is Plivo's V2."""
    url = f"{URL}?x=1"
    v2 = "60ycieXpe0s4AW4bK/MXU7vevRK6GDxnmIQ66BktAKU="
    v3 = "mYfbErstue1xIaUTUge2t/Z+37t1vzeNUnhGQbmXECc="
    assert url_without_query(url) == URL
    assert hmac_sha256_base64(TOKEN, URL + NONCE) == v2
    assert hmac_sha256_base64(TOKEN, f"{URL}.{NONCE}") == v3
    assert signing.vobiz_v2(TOKEN, url, NONCE) == v2
    assert signing.vobiz_v3(TOKEN, url, NONCE) == v3
    # Plivo's SDK V2 vector (plivo-python tests/resources/test_signature.py).
    assert (
        signing.vobiz_v2(TOKEN, "https://answer.url", "12345")
        == "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc="
    )
    assert signing.vobiz_v2("my_auth_tokens", "https://answer.url", "12345") != (
        "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc="
    )


def test_signature_lists_and_constant_time_match() -> None:
    """A header may list several signatures: any one matching is enough."""
    assert signature_matches("abc", "abc")
    assert signature_matches("x, abc ,y", "abc")
    assert not signature_matches("x,y", "abc")
    assert not signature_matches("", "abc")
    assert not signature_matches("abcd", "abc")


def test_replay_guard_is_bounded_in_count_and_age() -> None:
    """Keys are refused within the window, forgotten after it, and never more than kept."""
    guard = ReplayGuard(window=timedelta(minutes=10), max_entries=3)
    guard.check_and_remember("a", NOW)
    with pytest.raises(CallbackRefusedError) as refused:
        guard.check_and_remember("a", NOW + timedelta(minutes=9))
    assert refused.value.reason is CallbackRefusal.REPLAYED
    # Older than the window: forgotten, so new again.
    assert guard.remember("a", NOW + timedelta(minutes=11))
    for key in "bcde":
        assert guard.remember(key, NOW + timedelta(minutes=11))
    assert len(guard) == 3
    # 10,000 keys by default, whatever is sent.
    big = ReplayGuard()
    for index in range(big.max_entries + 500):
        big.remember(str(index), NOW)
    assert len(big) == big.max_entries


def test_replay_guard_gives_back_what_one_callback_spent() -> None:
    """The keys remembered while spending are the callback's; forgotten, they are new again.

    Only those: keys remembered before or after, or by another callback, stay.
    """
    guard = ReplayGuard()
    guard.check_and_remember("before", NOW)
    with guard.spending() as spent:
        guard.check_and_remember("v3-nonce", NOW)
        guard.check_and_remember("v2-nonce", NOW)
        assert not guard.remember("before", NOW)
    guard.check_and_remember("after", NOW)

    assert spent == ["v3-nonce", "v2-nonce"]
    guard.forget(spent)
    assert len(guard) == 2
    assert guard.remember("v3-nonce", NOW)
    assert guard.remember("v2-nonce", NOW)
    for key in ("before", "after"):
        assert not guard.remember(key, NOW)


def test_helpers_read_what_providers_write() -> None:
    """Times with or without a zone (UTC), whole seconds, strict form data."""
    assert parse_time("2020-04-08 11:34:33.238707") == datetime(
        2020, 4, 8, 11, 34, 33, 238707, tzinfo=UTC
    )
    assert parse_time("2026-01-02T03:04:05Z") == NOW
    assert parse_time("2026-01-02T08:34:05+05:30") == NOW
    assert parse_time("yesterday") is None
    assert parse_time(None) is None
    assert seconds("42") == 42
    assert seconds("4²") is None
    assert seconds("-1") is None
    assert seconds("9" * 12) is None
    assert form_fields(b"") == {}
    assert form_fields(b"a=1&a=2&b=") == {"a": ["1", "2"], "b": [""]}
    for malformed in (b"\xff\xfe=1", b"a=1&&b", b"novalue"):
        with pytest.raises(CallbackRefusedError) as refused:
            form_fields(malformed)
        assert refused.value.reason is CallbackRefusal.MALFORMED
    with pytest.raises(CallbackRefusedError):
        form_fields("&".join(f"f{i}=1" for i in range(300)).encode())


def test_registered_callback_round_trips() -> None:
    """What a registration replaced is stored as JSON and read back alike."""
    registered = RegisteredCallback(
        target="app", url=URL, previous={"hangup_url": "", "hangup_method": "GET"}
    )
    assert RegisteredCallback.from_dict(registered.as_dict()) == registered


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """Yield a session for the clients (these tests send nothing)."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def client(
    session: aiohttp.ClientSession, provider: str, token: str = TOKEN
) -> PlivoStyleClient:
    """Return a Vobiz or Plivo client holding ``token``."""
    if provider == "vobiz":
        return VobizClient(session, auth_id="MA_TEST", auth_token=token)
    return PlivoClient(session, auth_id="MAPLIVOTEST000000001", auth_token=token)


def signed(
    provider: str,
    params: dict[str, str],
    *,
    url: str = URL,
    token: str = TOKEN,
    form: str = "docs",
    body: bytes | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> CallbackRequest:
    """Return a callback as the provider signs it (the sandbox's signing code)."""
    nonce = signing.new_nonce()
    if provider == "plivo":
        headers = {
            "X-Plivo-Signature-V3": signing.plivo_v3(
                token, "POST", url, listed(params), nonce
            ),
            "X-Plivo-Signature-V3-Nonce": nonce,
        }
    elif form == "sdk":
        headers = {
            "X-Vobiz-Signature-V3": signing.plivo_v3(
                token, "POST", url, listed(params), nonce
            ),
            "X-Vobiz-Signature-V3-Nonce": nonce,
        }
    else:
        v2_nonce = signing.new_nonce()
        headers = {
            "x-vobiz-signature-v3": signing.vobiz_v3(token, url, nonce),
            "X-Vobiz-Signature-V3-Nonce": nonce,
            "X-Vobiz-Signature-V2": signing.vobiz_v2(token, url, v2_nonce),
            "X-Vobiz-Signature-V2-Nonce": v2_nonce,
        }
    return CallbackRequest(
        method="POST",
        url=url,
        headers=headers | {"Content-Type": content_type},
        body=urlencode(params).encode() if body is None else body,
        received_at=NOW,
    )


def refusal(
    provider_client: PlivoStyleClient,
    request: CallbackRequest,
    guard: ReplayGuard | None = None,
) -> CallbackRefusal:
    """Return why the client refuses a callback."""
    with pytest.raises(CallbackRefusedError) as refused:
        provider_client.verify_callback(request, guard or ReplayGuard())
    return refused.value.reason


@pytest.mark.parametrize("provider", ["vobiz", "plivo"])
async def test_hangup_verifies_and_ends_the_call(
    session: aiohttp.ClientSession, provider: str
) -> None:
    """A signed hangup: the call ended, with its start from the duration; replay refused."""
    params = HANGUP | {"Duration": "42", "EndTime": "2026-01-02T03:04:05Z"}
    request = signed(provider, params)
    guard = ReplayGuard()

    verified = client(session, provider).verify_callback(request, guard)

    [event] = verified.events
    assert event.kind is CallbackKind.CALL_ENDED
    assert event.ended_at == NOW
    assert event.call is not None
    assert event.call.call_id == HANGUP["CallUUID"]
    assert event.call.started == NOW - timedelta(seconds=42)
    assert (event.call.from_number, event.call.to_number) == (
        HANGUP["From"],
        HANGUP["To"],
    )
    assert event.call.direction == "inbound"
    assert verified.signature == "V3"
    assert verified.body_signed is (provider == "plivo")
    assert refusal(client(session, provider), request, guard) is (
        CallbackRefusal.REPLAYED
    )


@pytest.mark.parametrize("provider", ["vobiz", "plivo"])
async def test_forgeries_are_refused(
    session: aiohttp.ClientSession, provider: str
) -> None:
    """Another key, another URL, no headers: refused for what they are."""
    ours = client(session, provider)
    assert refusal(ours, signed(provider, HANGUP, token="another")) is (
        CallbackRefusal.BAD_SIGNATURE
    )
    # Signed for another URL (a proxy, another host) than the one registered.
    for other in (
        "https://example.com/api/webhook/other",
        "http://example.com:80/api/webhook/abc123",
    ):
        moved = signed(provider, HANGUP, url=other)
        assert refusal(ours, replace(moved, url=URL)) is CallbackRefusal.BAD_SIGNATURE
    unsigned = CallbackRequest(
        method="POST", url=URL, headers={}, body=b"Event=Hangup", received_at=NOW
    )
    assert refusal(ours, unsigned) is CallbackRefusal.MISSING_SIGNATURE
    nonce_only = signed(provider, HANGUP)
    headers = {k: v for k, v in nonce_only.headers.items() if "Nonce" in k}
    assert refusal(
        ours,
        CallbackRequest(
            method="POST", url=URL, headers=headers, body=b"", received_at=NOW
        ),
    ) is (CallbackRefusal.MISSING_SIGNATURE)


async def test_plivo_signs_the_body_and_the_query(
    session: aiohttp.ClientSession,
) -> None:
    """Plivo V3: a changed field, or a changed query, no longer verifies."""
    plivo = client(session, "plivo")
    request = signed("plivo", HANGUP, url=f"{URL}?transfer=abc")
    plivo.verify_callback(request, ReplayGuard())
    tampered = CallbackRequest(
        method="POST",
        url=request.url,
        headers=request.headers,
        body=urlencode(HANGUP | {"CallUUID": "another"}).encode(),
        received_at=NOW,
    )
    assert refusal(plivo, tampered) is CallbackRefusal.BAD_SIGNATURE
    requery = CallbackRequest(
        method="POST",
        url=f"{URL}?transfer=abd",
        headers=request.headers,
        body=request.body,
        received_at=NOW,
    )
    assert refusal(plivo, requery) is CallbackRefusal.BAD_SIGNATURE


async def test_vobiz_documented_form_does_not_sign_the_body(
    session: aiohttp.ClientSession,
) -> None:
    """As Vobiz documents it, a changed body or query still verifies (and says so).

    What holds: the nonce is spent (the same signature cannot serve again), and
    ``body_signed`` is False, so Home Assistant confirms an end before applying it.
    """
    vobiz = client(session, "vobiz")
    guard = ReplayGuard()
    request = signed("vobiz", HANGUP, url=f"{URL}?transfer=abc")
    changed = CallbackRequest(
        method="POST",
        url=f"{URL}?transfer=other",
        headers=request.headers,
        body=urlencode(HANGUP | {"CallUUID": "another-call"}).encode(),
        received_at=NOW,
    )

    verified = vobiz.verify_callback(changed, guard)

    assert verified.body_signed is False
    assert verified.events[0].call is not None
    assert verified.events[0].call.call_id == "another-call"
    assert refusal(vobiz, request, guard) is CallbackRefusal.REPLAYED


async def test_vobiz_sdk_form_signs_the_body(session: aiohttp.ClientSession) -> None:
    """V3 as Vobiz's Go SDK computes it (Plivo's string) verifies, and covers the body."""
    vobiz = client(session, "vobiz")
    request = signed("vobiz", HANGUP, form="sdk")

    verified = vobiz.verify_callback(request, ReplayGuard())

    assert (verified.signature, verified.body_signed) == ("V3 (SDK form)", True)
    tampered = CallbackRequest(
        method="POST",
        url=URL,
        headers=request.headers,
        body=urlencode(HANGUP | {"From": "+19005550000"}).encode(),
        received_at=NOW,
    )
    assert refusal(vobiz, tampered) is CallbackRefusal.BAD_SIGNATURE


async def test_vobiz_replay_with_either_nonce_is_refused(
    session: aiohttp.ClientSession,
) -> None:
    """Both V2's and V3's nonces are spent: neither signature alone serves again."""
    vobiz = client(session, "vobiz")
    guard = ReplayGuard()
    request = signed("vobiz", HANGUP)
    vobiz.verify_callback(request, guard)
    for version in ("V2", "V3"):
        only = {
            name: value
            for name, value in request.headers.items()
            if version.lower() in name.lower() or name == "Content-Type"
        }
        alone = CallbackRequest(
            method="POST", url=URL, headers=only, body=request.body, received_at=NOW
        )
        assert refusal(vobiz, alone, guard) is CallbackRefusal.REPLAYED


async def test_vobiz_v2_alone_verifies(session: aiohttp.ClientSession) -> None:
    """A callback with a V2 signature only verifies as V2; V3 wrong but V2 right still does."""
    vobiz = client(session, "vobiz")
    request = signed("vobiz", HANGUP)
    headers = dict(request.headers) | {"x-vobiz-signature-v3": "d3Jvbmc="}
    verified = vobiz.verify_callback(
        CallbackRequest(
            method="POST", url=URL, headers=headers, body=request.body, received_at=NOW
        ),
        ReplayGuard(),
    )
    assert (verified.signature, verified.body_signed) == ("V2", False)


DIAL = {"DialALegUUID": HANGUP["CallUUID"], "DialBLegTo": "+14155550100"}


@pytest.mark.parametrize("provider", ["vobiz", "plivo"])
@pytest.mark.parametrize(
    ("fields", "kind", "reason"),
    [
        ({"DialAction": "answer"}, CallbackKind.TRANSFER_ANSWERED, None),
        ({"DialStatus": "completed"}, CallbackKind.TRANSFER_ANSWERED, None),
        ({"DialStatus": "busy"}, CallbackKind.TRANSFER_UNANSWERED, "busy"),
        ({"DialStatus": "no-answer"}, CallbackKind.TRANSFER_UNANSWERED, "no_answer"),
        ({"DialStatus": "timeout"}, CallbackKind.TRANSFER_UNANSWERED, "no_answer"),
        ({"DialStatus": "failed"}, CallbackKind.TRANSFER_UNANSWERED, "failed"),
        ({"DialStatus": "cancel"}, CallbackKind.TRANSFER_UNANSWERED, "failed"),
        ({"DialStatus": "odd"}, CallbackKind.IGNORED, None),
        ({"DialAction": "hangup"}, CallbackKind.IGNORED, None),
        ({"DialAction": "connected"}, CallbackKind.IGNORED, None),
    ],
)
async def test_dial_outcomes(
    session: aiohttp.ClientSession,
    provider: str,
    fields: dict[str, str],
    kind: CallbackKind,
    reason: str | None,
) -> None:
    """A Dial's callbackUrl and action requests say whether the number answered."""
    request = signed(provider, DIAL | fields, url=f"{URL}?transfer=tok")

    [event] = client(session, provider).verify_callback(request, ReplayGuard()).events

    assert event.kind is kind
    if kind is not CallbackKind.IGNORED:
        assert event.transfer_token == "tok"
        assert event.call is not None
        assert event.call.call_id == HANGUP["CallUUID"]
        assert event.call.to_number == "+14155550100"
        assert event.unanswered_reason == (UnansweredReason(reason) if reason else None)


@pytest.mark.parametrize(
    ("params", "kind", "started"),
    [
        (
            {"Event": "StartApp", "SessionStart": "2026-01-02 03:04:05"},
            CallbackKind.CALL_STARTED,
            NOW,
        ),
        (
            {"Event": "Ring", "StartTime": "2026-01-02T03:04:05+00:00"},
            CallbackKind.CALL_STARTED,
            NOW,
        ),
        # Vobiz's hangup example writes Status; no Event, a final status: the end.
        ({"Status": "busy"}, CallbackKind.CALL_ENDED, None),
        ({"Event": "Redirect"}, CallbackKind.IGNORED, None),
        ({"CallStatus": "in-progress"}, CallbackKind.IGNORED, None),
    ],
)
async def test_call_events(
    session: aiohttp.ClientSession,
    params: dict[str, str],
    kind: CallbackKind,
    started: datetime | None,
) -> None:
    """Starts (StartApp, Ring), ends (Hangup, a final status), and the rest ignored."""
    request = signed("plivo", {"CallUUID": HANGUP["CallUUID"]} | params)

    [event] = client(session, "plivo").verify_callback(request, ReplayGuard()).events

    assert event.kind is kind
    if kind is not CallbackKind.IGNORED:
        assert event.call is not None
        assert event.call.started == started
    if kind is CallbackKind.CALL_ENDED:
        assert event.ended_at == NOW


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"event": "call.completed", "call_id": "c1", "duration": 5}', "json"),
        (b'{"event": "call.initiated", "call_id": "c1"}', "json"),
        (b'{"event": "call.answered", "call_id": "c1"}', "json"),
    ],
)
async def test_vobiz_json_events_of_an_older_revision(
    session: aiohttp.ClientSession, body: bytes, content_type: str
) -> None:
    """JSON events (an older revision of Vobiz's docs) are read once the signature verified."""
    request = signed("vobiz", {}, body=body, content_type=f"application/{content_type}")

    [event] = client(session, "vobiz").verify_callback(request, ReplayGuard()).events

    expected = {
        b"call.completed": CallbackKind.CALL_ENDED,
        b"call.initiated": CallbackKind.CALL_STARTED,
        b"call.answered": CallbackKind.CALL_ANSWERED,
    }
    assert event.kind is next(v for k, v in expected.items() if k in body)
    assert event.call is not None
    assert event.call.call_id == "c1"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"[1, 2]", "application/json"),
        (b"{not json", "application/json"),
        (b"<xml/>", "text/xml"),
        (b"Event=Hangup", "application/x-www-form-urlencoded"),  # no CallUUID
        (b"Event=Hangup&CallUUID=../../x", "application/x-www-form-urlencoded"),
        (b"DialStatus=busy&CallUUID=%2F", "application/x-www-form-urlencoded"),
    ],
)
async def test_signed_but_unreadable_is_malformed(
    session: aiohttp.ClientSession, body: bytes, content_type: str
) -> None:
    """A body that verifies (Vobiz signs none of it) but says nothing readable is refused."""
    request = signed("vobiz", {}, body=body, content_type=content_type)
    assert refusal(client(session, "vobiz"), request) is CallbackRefusal.MALFORMED


async def test_a_dial_callback_without_a_call_still_has_its_token(
    session: aiohttp.ClientSession,
) -> None:
    """A Dial status that names no leg is read; the token alone names the transfer."""
    request = signed("plivo", {"DialStatus": "busy"}, url=f"{URL}?transfer=tok")
    [event] = client(session, "plivo").verify_callback(request, ReplayGuard()).events
    assert (event.kind, event.call, event.transfer_token) == (
        CallbackKind.TRANSFER_UNANSWERED,
        None,
        "tok",
    )


def test_callback_request_reads_headers_without_case() -> None:
    """Header names match whatever their case; the media type drops its parameters."""
    request = CallbackRequest(
        method="POST",
        url=f"{URL}?a=1&a=2",
        headers={"content-TYPE": "Application/JSON; charset=utf-8"},
        body=b"",
        received_at=NOW,
    )
    assert request.media_type == "application/json"
    assert request.header("Content-Type") == "Application/JSON; charset=utf-8"
    assert request.header("X-Missing") is None
    assert request.query == {"a": ["1", "2"]}


async def test_vobiz_json_without_an_event_ends_on_a_final_status(
    session: aiohttp.ClientSession,
) -> None:
    """A JSON body with no event and a final status is an end, as a form's would be."""
    request = signed(
        "vobiz",
        {},
        body=b'{"call_id": "c1", "status": "completed", "extra": {"a": 1}}',
        content_type="application/json",
    )
    [event] = client(session, "vobiz").verify_callback(request, ReplayGuard()).events
    assert event.kind is CallbackKind.CALL_ENDED
