"""Forged and malformed callbacks, by the hundred, at each account's callback URL.

The property: a callback is accepted only when it carries a signature made with the
account's auth token for the URL Home Assistant gave out, with a nonce not seen before
(Twilio: no nonce, an event not seen before, a status callback's Timestamp within five
minutes; Telnyx: made with the account's Ed25519 key over a timestamp within five
minutes and the body, whose event id was not seen before; Bland: the hex HMAC-SHA256
of the body with the account's signing secret, for a call not ended before nor more
than ten minutes ago).
Whatever else arrives (made without the token: random bytes, another key, another URL,
altered signatures, nonces, headers and bodies, replays of a genuine callback) is
answered 400, 401 or 405, changes nothing, logs no error and leaves the replay store as
it was. Requests are drawn from a seeded generator, so a failure repeats.
"""

from __future__ import annotations

import base64
from datetime import timedelta
import json
import logging
import random
from typing import Final
from urllib.parse import urlencode

import pytest

from custom_components.call_transfer.providers.callbacks import CallbackRefusal
from sandbox.bland_webhooks import iso_time, post_call_record, webhook_body
from tests.helpers.push import FORM, JSON, PushAccount

# A second a provider (2,000 callbacks in all): with the reliability suite, out of the fast suite.
pytestmark = pytest.mark.slow

CALLBACKS_PER_PROVIDER: Final = 400
SEED: Final = 18
REFUSED: Final = {400, 401, 405}
# Every provider's signature headers, junk: sent to a provider that reads none of them.
OTHER_PROVIDERS_HEADERS: Final = {
    "X-Plivo-Signature-V3": "AAAA",
    "X-Plivo-Signature-V3-Nonce": "1",
    "X-Twilio-Signature": "AAAA",
    "telnyx-signature-ed25519": "AAAA",
    "telnyx-timestamp": "1",
    "X-Webhook-Signature": "00",
}
FIELDS: Final = (
    "Event",
    "CallUUID",
    "From",
    "To",
    "CallStatus",
    "Duration",
    "DialStatus",
    "DialAction",
    "DialALegUUID",
    "StartTime",
    "EndTime",
)
VALUES: Final = (
    "Hangup",
    "StartApp",
    "completed",
    "busy",
    "answer",
    "+14155550100",
    "2026-01-01T00:00:00Z",
    "../../etc",
    "%00",
    "",
    "x" * 600,
    "é✓",
)


def junk(rng: random.Random, most: int) -> bytes:
    """Return random bytes, up to ``most`` of them."""
    return rng.randbytes(rng.randint(0, most))


def random_form(rng: random.Random, push: PushAccount) -> dict[str, str]:
    """Return a plausible callback form: a hangup of a live call, or random fields."""
    call = next(iter(push.sandbox.account_calls(push.case.provider, push.case.account)))
    form = push.hangup(call)
    assert isinstance(form, dict)
    for _ in range(rng.randint(0, 4)):
        form[rng.choice(FIELDS)] = rng.choice(VALUES)
    return form


def forged(
    rng: random.Random, push: PushAccount, spent: tuple[dict[str, str], dict[str, str]]
) -> tuple[str, str, dict[str, str], bytes]:
    """Draw one request made without the account's token: method, URL, headers, body."""
    url = push.callback_url
    form = random_form(rng, push)
    body = urlencode(form).encode()
    headers = push.signed(form, token=f"guess-{rng.randint(0, 10**6)}")
    kind = rng.randrange(12)
    if kind == 0:  # random bytes, random content type
        headers, body = (
            {"Content-Type": rng.choice(["", "text/xml", "a/b"])},
            junk(rng, 3000),
        )
    elif kind == 1:  # the right token, another URL (not just another query: Vobiz
        # signs none, so that is the genuine signature)
        other = rng.choice(
            [
                url.replace("127.0.0.1", "localhost"),
                url.replace("http:", "https:"),
                url + "/",
                url[:-1],
            ]
        )
        headers = push.signed(form, url=other)
    elif kind == 2:  # a replay of the spent genuine callback, as is or altered
        headers, spent_form = spent
        body = urlencode(
            spent_form | ({"Duration": "7"} if rng.random() < 0.5 else {})
        ).encode()
    elif kind == 3:  # signatures altered: truncated, extended, junk, comma lists
        genuine = push.signed(form)
        for name in [n for n in genuine if "Signature" in n and "Nonce" not in n]:
            signature = genuine[name]
            genuine[name] = rng.choice(
                [
                    signature[:-1],
                    signature + "A",
                    base64.b64encode(junk(rng, 40)).decode(),
                    f"{base64.b64encode(junk(rng, 32)).decode()}, ,",
                    "",
                    " " * 3,
                ]
            )
        headers = genuine
        if rng.random() < 0.5:  # and the body changed too
            body = urlencode(random_form(rng, push)).encode()
    elif kind == 4:  # a header missing
        headers = dict(push.signed(form, token="nope"))
        headers.pop(rng.choice([n for n in headers if n != "Content-Type"]))
        if push.provider == "vobiz":  # both versions must go for "missing"
            headers = {n: v for n, v in headers.items() if "V2" not in n}
    elif kind == 5:  # no signature at all
        headers = FORM
    elif kind == 6:  # a nonce reused with a junk signature
        headers = {
            name: value if "Nonce" in name else "AAAA"
            for name, value in spent[0].items()
        }
    elif kind == 7:  # huge headers or body
        if rng.random() < 0.5:
            body = b"a=" + b"b" * 70_000
        else:
            headers = headers | {"X-Filler": "z" * 6000}
    elif kind == 8:  # malformed form encodings
        body = rng.choice([b"\xff\xfe\x00=1", b"a=1&&&", b"=", b"%zz=%", b"a" * 300])
    elif kind == 9:  # JSON and other bodies with a form's signature
        headers = headers | {
            "Content-Type": rng.choice(["application/json", "multipart/form-data"])
        }
        body = rng.choice([b"{}", b"[]", b'{"event": "call.completed"}', b"null"])
    elif kind == 10:  # another provider's headers
        headers = FORM | {
            "X-Twilio-Signature": "AAAA",
            "telnyx-signature-ed25519": "AAAA",
            "telnyx-timestamp": "1",
            "X-Webhook-Signature": "00",
        }
    method = "GET" if kind == 11 else "POST"
    query = rng.choice(["", "", "?transfer=guessed", "?a=1&a=2", "?%zz"])
    return method, url + query, headers, body


def forged_telnyx(
    rng: random.Random, push: PushAccount, spent: tuple[dict[str, str], bytes]
) -> tuple[str, str, dict[str, str], bytes]:
    """Draw one Telnyx webhook made without the account's key (or stale, or a replay)."""
    call = next(iter(push.sandbox.account_calls(push.case.provider, push.case.account)))
    body = push.hangup(call)
    assert isinstance(body, bytes)
    if rng.random() < 0.3:  # fields changed or added
        body = body.replace(
            b'"call.hangup"', rng.choice([b'"call.initiated"', b'"call.bridged"', b"1"])
        )
    headers = push.signed(body, token=f"guess-{rng.randint(0, 10**6)}")
    kind = rng.randrange(12)
    if kind == 0:  # random bytes, random content type
        headers = headers | {"Content-Type": rng.choice(["", "text/xml", "a/b"])}
        body = junk(rng, 3000)
    elif kind == 1:  # the right key, a timestamp more than five minutes away
        offset = rng.choice([-1, 1]) * rng.randint(301, 10**7)
        now = int(push.sandbox_now().timestamp())
        headers = push.signed(body, timestamp=str(now + offset))
    elif kind == 2:  # a replay of the spent genuine webhook, as is or altered
        headers, body = spent
        if rng.random() < 0.5:
            body = body.replace(b"normal_clearing", b"user_busy")
    elif kind == 3:  # signatures altered: truncated, extended, junk, a bit flipped
        genuine = push.signed(body)
        signature = genuine["telnyx-signature-ed25519"]
        raw = bytearray(base64.b64decode(signature))
        raw[rng.randrange(64)] ^= 1 << rng.randrange(8)
        genuine["telnyx-signature-ed25519"] = rng.choice(
            [
                signature[:-1],
                signature + "A",
                base64.b64encode(bytes(raw)).decode(),
                base64.b64encode(junk(rng, 80)).decode(),
                "",
                " " * 3,
            ]
        )
        headers = genuine
    elif kind == 4:  # a header missing
        headers = dict(push.signed(body))
        headers.pop(rng.choice(["telnyx-signature-ed25519", "telnyx-timestamp"]))
    elif kind == 5:  # no signature at all
        headers = JSON
    elif kind == 6:  # the genuine signature, another timestamp
        genuine = push.signed(body)
        stamp = int(genuine["telnyx-timestamp"])
        headers = genuine | {
            "telnyx-timestamp": rng.choice(
                [str(stamp + 1), str(stamp - 1), "١٢٣", "-5", "1e9", "9" * 30, ""]
            )
        }
    elif kind == 7:  # huge headers or body
        if rng.random() < 0.5:
            body = b"{" + b" " * 70_000 + b"}"
        else:
            headers = headers | {"X-Filler": "z" * 6000}
    elif kind == 8:  # signatures of the wrong shape
        headers = headers | {
            "telnyx-signature-ed25519": rng.choice(
                [
                    "%" * 88,
                    "A" * 87,
                    "=" * 88,
                    "é" * 88,
                    base64.b64encode(bytes(63)).decode(),
                ]
            )
        }
    return sent_as(rng, push, kind, headers, body)


def forged_bland(
    rng: random.Random, push: PushAccount, spent: tuple[dict[str, str], bytes]
) -> tuple[str, str, dict[str, str], bytes]:
    """Draw one Bland webhook made without the signing secret (or stale, or a replay)."""
    call = next(iter(push.sandbox.account_calls(push.case.provider, push.case.account)))
    record = post_call_record(call) | {"call_id": f"fuzz-{rng.randrange(10**9)}"}
    if rng.random() < 0.3:  # fields changed or added
        record[rng.choice(["completed", "status", "to", "call_length", "x"])] = (
            rng.choice([True, False, "completed", None, 1, "é✓", [], {"a": 1}])
        )
    body = webhook_body(record)
    headers = push.signed(body, token=f"guess-{rng.randint(0, 10**6)}")
    kind = rng.randrange(12)
    if kind == 0:  # random bytes, random content type
        headers = headers | {"Content-Type": rng.choice(["", "text/xml", "a/b"])}
        body = junk(rng, 3000)
    elif kind == 1:  # the right secret, a call that ended more than ten minutes ago
        length = rng.choice([0, 0.5, 7])
        ended = push.sandbox_now() - timedelta(seconds=rng.randint(601, 10**7))
        started = ended - timedelta(minutes=length)
        body = webhook_body(
            post_call_record(call)
            | {"started_at": iso_time(started), "call_length": length}
        )
        headers = push.signed(body)
    elif kind == 2:  # a replay of the spent genuine webhook, as is or reformatted
        headers, body = spent
        if rng.random() < 0.5:
            body = json.dumps(json.loads(body)).encode()  # spaces: another body
    elif kind == 3:  # signatures altered: truncated, extended, a digit changed, junk
        genuine = push.signed(body)
        signature = genuine["X-Webhook-Signature"]
        at = rng.randrange(64)
        changed = "0" if signature[at] != "0" else "1"
        genuine["X-Webhook-Signature"] = rng.choice(
            [
                signature[:-1],
                signature + "0",
                signature[:at] + changed + signature[at + 1 :],
                base64.b64encode(bytes.fromhex(signature)).decode(),
                "",
                " " * 3,
            ]
        )
        headers = genuine
        if rng.random() < 0.5:  # and the body changed too
            body = body.replace(b'"completed":true', b'"completed":false')
            body = body.replace(b'"from":"', b'"from":"+', 1)
    elif kind == 4:  # the signature header missing
        headers = JSON
    elif kind == 5:  # the signature of another body
        headers = push.signed(body + b" ")
    elif kind == 6:  # a signature made with a blank secret, or the API key
        headers = push.signed(body, token=rng.choice([" ", push.case.account]))
    elif kind == 7:  # huge headers or body
        if rng.random() < 0.5:
            body = b"{" + b" " * 70_000 + b"}"
        else:
            headers = headers | {"X-Filler": "z" * 6000}
    elif kind == 8:  # signatures of the wrong shape
        headers = headers | {
            "X-Webhook-Signature": rng.choice(
                ["z" * 64, "a" * 63, "a" * 65, "é" * 64, "sha256=" + "a" * 64, "a, b"]
            )
        }
    return sent_as(rng, push, kind, headers, body)


def sent_as(
    rng: random.Random,
    push: PushAccount,
    kind: int,
    headers: dict[str, str],
    body: bytes,
) -> tuple[str, str, dict[str, str], bytes]:
    """Finish a JSON webhook drawn: kinds 9 to 11 are the same for each provider.

    9: a form body signed with another key; 10: every other provider's headers; 11: a
    GET. Any may carry a query.
    """
    if kind == 9:
        body = urlencode(random_form_fields(rng)).encode()
        headers = push.signed(body, token="nope") | FORM
    elif kind == 10:
        headers = JSON | {
            name: value
            for name, value in OTHER_PROVIDERS_HEADERS.items()
            if name.lower() not in {n.lower() for n in push.signed(body)}
        }
    method = "GET" if kind == 11 else "POST"
    query = rng.choice(["", "", "?transfer=guessed", "?a=1&a=2", "?%zz"])
    return method, push.callback_url + query, headers, body


def random_form_fields(rng: random.Random) -> dict[str, str]:
    """Return random callback form fields."""
    return {rng.choice(FIELDS): rng.choice(VALUES) for _ in range(rng.randint(0, 4))}


@pytest.mark.parametrize("seed", [SEED])
async def test_forged_and_malformed_callbacks_are_all_refused(
    push: PushAccount, caplog: pytest.LogCaptureFixture, seed: int
) -> None:
    """400 per push provider (2,000 in all): none accepted, none raising, nothing kept."""
    rng = random.Random(f"{seed}-{push.provider}")
    await push.set_up()
    call = await push.start_call()
    genuine_form = push.hangup(call)
    genuine = push.signed(genuine_form)
    assert (await push.post(genuine, genuine_form))[0] == 200  # as the provider's own
    push.sandbox.end_call(call.call_id)
    await push.settle()
    runtime = push.entry.runtime_data.push
    assert runtime is not None
    account = runtime.account
    verified, remembered = account.verified, len(account.replay_guard)
    refused = sum(account.refused.values())  # Twilio: the provider's own, a replay
    started, ended = len(push.started), len(push.ended)
    caplog.clear()

    statuses: dict[int, int] = {}
    for _ in range(CALLBACKS_PER_PROVIDER):
        if push.provider == "bland":
            assert isinstance(genuine_form, bytes)
            drawn = forged_bland(rng, push, (genuine, genuine_form))
        elif isinstance(genuine_form, bytes):
            drawn = forged_telnyx(rng, push, (genuine, genuine_form))
        else:
            drawn = forged(rng, push, (genuine, genuine_form))
        method, url, headers, body = drawn
        async with push.http.request(
            method, url, headers=headers, data=body
        ) as response:
            statuses[response.status] = statuses.get(response.status, 0) + 1
    await push.hass.async_block_till_done(wait_background_tasks=True)

    assert set(statuses) <= REFUSED, statuses
    assert sum(statuses.values()) == CALLBACKS_PER_PROVIDER
    assert account.verified == verified  # 0 accepted
    assert (len(push.started), len(push.ended)) == (started, ended)
    assert push.answered == push.unanswered == []
    # Memory bounded: nothing forged is kept, the counts are per reason.
    assert len(account.replay_guard) == remembered
    assert len(account.outcomes) == 0
    assert len(account.recent_refusals) <= 5
    assert set(account.refused) <= set(CallbackRefusal)
    assert sum(account.refused.values()) - refused == (
        CALLBACKS_PER_PROVIDER - statuses.get(405, 0)
    )
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
