"""Turning push on in an account's options: the URL shown, what is checked, Cloud's URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.components import cloud
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.call_transfer.providers import PROVIDERS, CallTransferError
from sandbox import (
    SANDBOX_BLAND_ORG_ID,
    SANDBOX_BLAND_SIGNING_SECRET,
    SANDBOX_TELNYX_PUBLIC_KEY,
)
from tests.helpers.hass import transfer
from tests.helpers.push import (
    APPS,
    DIAL_XML_PROVIDERS,
    REGISTERING_PROVIDERS,
    REGISTRATION_OPTIONS,
    PushAccount,
)

from .test_dial import relayer  # noqa: F401 - the stand-in for Cloud's relayer

HOOK_PATH = "/api/webhook/"


async def open_options(push: PushAccount) -> dict[str, Any]:
    """Open the account's options form."""
    result = await push.hass.config_entries.options.async_init(push.entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    return dict(result)


async def submit(account: PushAccount, fields: dict[str, Any]) -> dict[str, Any]:
    """Open the options form and submit it with ``fields``."""
    form = await open_options(account)
    result = await account.hass.config_entries.options.async_configure(
        form["flow_id"], {"scan_interval": 10} | fields
    )
    await account.hass.async_block_till_done()
    return dict(result)


@pytest.mark.parametrize("push_provider", REGISTERING_PROVIDERS)
async def test_the_options_show_the_url_and_turn_push_on(push: PushAccount) -> None:
    """The form shows the callback URL to paste; saving sets it at the provider.

    Push and what it needs come last: the switch, the public key that verifies the
    callbacks (Telnyx), registration; the application (Twilio: number) it sets the URL
    on keeps its place among the provider's options (first on Telnyx, whose calls it
    lists too; last on the others).
    """
    option = REGISTRATION_OPTIONS[push.provider]
    await push.set_up(push=False, push_register=False, **{option: None})
    form = await open_options(push)
    url = form["description_placeholders"]["callback_url"]
    assert url.startswith("http://127.0.0.1:")
    assert HOOK_PATH in url
    keys = [str(key) for key in form["data_schema"].schema]
    # The application keeps its place; Telnyx's public key comes with the switch;
    # answer-first (Vobiz, Plivo) follows registration, which sets it up.
    capabilities = PROVIDERS[push.provider].push
    assert capabilities is not None
    answer_first = capabilities.answer_first_option
    pushed = (
        ["push", "webhook_public_key"] if push.telnyx else ["scan_interval", "push"]
    )
    expected = [*pushed, "push_register", *([answer_first] if answer_first else [])]
    assert keys[-len(expected) :] == expected
    assert keys.index(option) == (0 if push.telnyx else len(keys) - len(expected) - 1)

    result = await submit(
        push, push_fields(push) | {"push_register": True, option: APPS[push.provider]}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert push.entry.options == {
        "scan_interval": 10,
        "push": True,
        "push_register": True,
        option: APPS[push.provider],
    } | ({"webhook_public_key": SANDBOX_TELNYX_PUBLIC_KEY} if push.telnyx else {})
    assert push.target[0] == url
    placeholders = (await open_options(push))["description_placeholders"]
    assert placeholders["provider"] == push.case.title.split(" ")[0]
    assert placeholders["callback_url"] == url
    assert placeholders["push_docs_url"].endswith(
        f"/docs/providers/{push.provider}.md#instant-call-events-signed-callbacks"
    )
    # The URL shown is the one callbacks verify against.
    call = await push.start_call()
    push.sandbox.end_call(call.call_id)
    await push.settle()
    assert [e.data["source"] for e in push.ended] == ["push"]


def push_fields(push: PushAccount) -> dict[str, Any]:
    """Return the form fields that turn push on (Telnyx, Bland: with what verifies)."""
    return {"push": True} | push.verification


@pytest.mark.parametrize("push_provider", REGISTERING_PROVIDERS)
@pytest.mark.parametrize(
    "target", [None, "404404", "PN5a4db0c00000000000000000000000ff"]
)
async def test_registration_needs_an_application_the_provider_knows(
    push: PushAccount, target: str | None
) -> None:
    """Setting the URL needs an application (Twilio: a number), checked with the provider.

    Nothing is saved.
    """
    option = REGISTRATION_OPTIONS[push.provider]
    before = push.target
    await push.set_up(push=False, push_register=False, **{option: None})
    fields = push_fields(push) | {"push_register": True}
    if target is not None:
        fields[option] = target
    result = await submit(push, fields)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {
        option: "registration_target_required"
        if target is None
        else f"invalid_{option}"
    }
    assert not push.entry.options.get("push")
    assert push.target == before


@pytest.mark.parametrize("push_provider", ["telnyx"])
@pytest.mark.parametrize(
    ("key", "error"),
    [
        (None, "verification_key_required"),
        ("not a key", "invalid_public_key"),
        ("A" * 43 + "=", "invalid_public_key"),  # 32 bytes, but no point of the curve
        (SANDBOX_TELNYX_PUBLIC_KEY[:-4] + "====", "invalid_public_key"),
    ],
)
async def test_push_needs_the_public_key_that_verifies_callbacks(
    push: PushAccount, key: str | None, error: str
) -> None:
    """Telnyx: push needs the account's public key, 32 bytes of base64 on the curve."""
    await push.set_up(push=False, push_register=False, webhook_public_key=None)
    fields: dict[str, Any] = {"push": True}
    if key is not None:
        fields["webhook_public_key"] = key
    result = await submit(push, fields)
    assert result["errors"] == {"webhook_public_key": error}
    assert not push.entry.options.get("push")


@pytest.mark.parametrize("push_provider", ["bland"])
async def test_bland_push_takes_the_signing_secret_and_never_shows_it(
    push: PushAccount, hass_client: ClientSessionGenerator
) -> None:
    """Bland: no registration; push needs the webhook signing secret, a password field.

    The form never sends the secret back, and left empty keeps the one saved; the URL
    shown, pasted as the inbound number's webhook, receives the calls' ends; diagnostics
    redact the secret.
    """
    await push.set_up(push=False, webhook_signing_secret=None)
    form = await open_options(push)
    schema = form["data_schema"].schema
    assert [str(key) for key in schema] == [
        "org_id",
        "scan_interval",
        "push",
        "webhook_signing_secret",
    ]
    [secret_key] = [key for key in schema if str(key) == "webhook_signing_secret"]
    assert schema[secret_key].config["type"] == "password"
    push.hass.config_entries.options.async_abort(form["flow_id"])
    lives = {"org_id": SANDBOX_BLAND_ORG_ID}

    result = await submit(push, lives | {"push": True})
    assert result["errors"] == {"webhook_signing_secret": "verification_key_required"}
    result = await submit(push, lives | {"push": True} | push.verification)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert push.entry.options == {
        "scan_interval": 10,
        "push": True,
        "org_id": SANDBOX_BLAND_ORG_ID,
        "webhook_signing_secret": SANDBOX_BLAND_SIGNING_SECRET,
    }

    form = await open_options(push)
    suggested = {
        str(key): (key.description or {}).get("suggested_value")
        for key in form["data_schema"].schema
    }
    assert suggested == {
        "org_id": SANDBOX_BLAND_ORG_ID,
        "scan_interval": 10,
        "push": True,
        "webhook_signing_secret": None,
    }
    assert SANDBOX_BLAND_SIGNING_SECRET not in str(form)
    push.hass.config_entries.options.async_abort(form["flow_id"])
    result = await submit(push, lives | {"push": True, "scan_interval": 20})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert push.entry.options["webhook_signing_secret"] == SANDBOX_BLAND_SIGNING_SECRET

    await push.paste_callback_url()
    assert HOOK_PATH in push.callback_url
    call = await push.start_call()
    push.sandbox.end_call(call.call_id)
    await push.settle()
    assert [(e.data["call_id"], e.data["source"]) for e in push.ended] == [
        (call.call_id, "push")
    ]
    diagnostics = await get_diagnostics_for_config_entry(
        push.hass, hass_client, push.entry
    )
    assert diagnostics["entry"]["options"]["webhook_signing_secret"] == "**REDACTED**"
    assert SANDBOX_BLAND_SIGNING_SECRET not in str(diagnostics)
    assert diagnostics["push"] | {"last_callback": None} == {
        "enabled": True,
        "register": False,
        "reports_call_starts": False,
        "reconciling": False,
        "url_kinds": ["loopback"],
        "verified": 1,
        "signatures": {"hmac-sha256": 1},
        "refused": {},
        "last_callback": None,
        "healthy": True,
        "outcomes_awaited": 0,
        "registration_error": None,
    }


async def test_push_needs_a_url_the_provider_can_reach(
    push: PushAccount, hass: HomeAssistant
) -> None:
    """Without a public URL the form says so (the URL shown is "—") and saves nothing."""
    await push.set_up(push=False, push_register=False)
    await hass.config.async_update(external_url=None)

    result = await submit(push, push_fields(push))

    assert result["description_placeholders"]["callback_url"] == "—"
    assert result["errors"] == {"push": "no_public_url"}
    assert not push.entry.options.get("push")


@pytest.mark.parametrize("push_provider", REGISTERING_PROVIDERS)
async def test_a_failed_registration_is_told_and_tried_again(
    push: PushAccount, hass: HomeAssistant
) -> None:
    """The provider refusing the update: logged, shown in diagnostics, set at the next setup."""
    before = push.target
    with patch.object(
        PROVIDERS[push.provider],
        "async_register_callback_url",
        side_effect=CallTransferError("Provider error: HTTP 503"),
    ):
        await push.set_up()
    runtime = push.entry.runtime_data.push
    assert runtime is not None
    assert runtime.account.registration_error == "Provider error: HTTP 503"
    assert push.target == before

    assert await hass.config_entries.async_reload(push.entry.entry_id)
    await hass.async_block_till_done()
    assert HOOK_PATH in push.target[0]
    runtime = push.entry.runtime_data.push
    assert runtime is not None
    assert runtime.account.registration_error is None


@pytest.mark.parametrize("push_provider", REGISTERING_PROVIDERS)
async def test_a_new_url_is_registered_keeping_the_users_one(
    push: PushAccount, hass: HomeAssistant, hass_url: str
) -> None:
    """Home Assistant's URL changes: the application gets the new one; removal puts the user's back.

    Callbacks verify against the last four URLs given out (Telnyx's signature covers
    no URL: against any); one lost (no URL at all) leaves the last one set.
    """
    push.set_target("https://mine.example.com/h", push.target[1])
    await push.set_up()
    first = push.target[0]
    call = await push.start_call()

    for index, host in enumerate(("[::1]", "127.0.0.2", "127.0.0.3", "127.0.0.4")):
        await hass.config.async_update(external_url=hass_url.replace("127.0.0.1", host))
        await push.settle()
        assert push.target[0] == first.replace("127.0.0.1", host)
        # Signed for the first URL: verifies while it is among the last four.
        form = push.hangup(call, first)
        if isinstance(form, dict):
            # Each callback another (Twilio tells events apart by their SequenceNumber).
            form |= {"Duration": str(index), "SequenceNumber": str(index)}
        status, _ = await push.post(push.signed(form, url=first), form, url=first)
        assert status == (200 if index < 3 or push.telnyx else 401), host
    await hass.config.async_update(external_url=None)
    await push.settle()
    assert push.target[0] == first.replace("127.0.0.1", "127.0.0.4")
    await hass.config_entries.async_remove(push.entry.entry_id)
    await hass.async_block_till_done()
    assert push.target[0] == "https://mine.example.com/h"


@pytest.mark.parametrize("push_provider", REGISTERING_PROVIDERS)
async def test_another_application_gets_the_url_the_first_its_own_back(
    push: PushAccount, hass: HomeAssistant
) -> None:
    """Naming another application (number): the first gets its old URL back, the second the callback URL."""
    before = push.target
    await push.set_up()
    url = push.callback_url
    other, registered_on_other = push.add_registration_target()

    hass.config_entries.async_update_entry(
        push.entry,
        options=push.entry.options | {REGISTRATION_OPTIONS[push.provider]: other},
    )
    await hass.async_block_till_done()

    assert push.target == before
    assert registered_on_other() == url


async def test_callbacks_through_home_assistant_cloud(
    push: PushAccount,
    hass: HomeAssistant,
    relayer: dict[str, Any],  # noqa: F811
) -> None:
    """With Cloud connected the cloudhook is registered, and callbacks through it verify.

    The relayer passes on the body, headers and query only (the request's own URL is
    empty): the signature is checked against the cloudhook URL given to the provider.
    """
    hass.config.components.add("cloud")
    with cloud_connected(relayer) as delete:
        await push.set_up()
        assert HOOK_PATH not in push.target[0]  # the cloudhook
        call = await push.start_call()
        push.sandbox.end_call(call.call_id)
        await push.settle()
        statuses = [sent.status for sent in push.sandbox.callbacks_sent]
        assert statuses == [200] * (3 if push.reports_call_starts else 1)
        assert [e.data["source"] for e in push.ended] == ["push"]

        await hass.config_entries.async_remove(push.entry.entry_id)
        await hass.async_block_till_done()
    # Each of the account's webhooks had a cloudhook (callbacks, and Dial XML where
    # the provider fetches it: Twilio and Telnyx dial in the request): each is deleted.
    assert delete.await_count == (2 if push.provider in DIAL_XML_PROVIDERS else 1)


@contextmanager
def cloud_connected(
    relayer: dict[str, Any],  # noqa: F811
    create: Any = None,
) -> Iterator[AsyncMock]:
    """Home Assistant Cloud connected, its cloudhooks made by the relayer (or ``create``).

    Yields the deletion of cloudhooks.
    """
    with (
        patch.object(cloud, "async_active_subscription", return_value=True),
        patch.object(cloud, "async_is_connected", return_value=True),
        patch.object(
            cloud,
            "async_get_or_create_cloudhook",
            side_effect=create or relayer["create"],
        ),
        patch.object(cloud, "async_delete_cloudhook") as delete,
        patch.object(cloud, "async_listen_connection_change"),
    ):
        yield delete


@pytest.mark.parametrize("push_provider", DIAL_XML_PROVIDERS)
async def test_no_cloudhook_for_callbacks_awaits_no_outcome(
    push: PushAccount,
    hass: HomeAssistant,
    relayer: dict[str, Any],  # noqa: F811
) -> None:
    """Cloud makes the Dial XML's cloudhook but not the callbacks': the transfer goes on.

    Without an external URL the callbacks have no URL: no outcome is asked for.
    """
    hass.config.components.add("cloud")
    await hass.config.async_update(external_url=None)

    async def create(hass: HomeAssistant, webhook_id: str) -> str:
        # A dict on older Home Assistant releases, a WebhookData on newer ones.
        registered = hass.data["webhook"][webhook_id]
        name = registered["name"] if isinstance(registered, dict) else registered.name
        if name.endswith("callbacks"):
            raise cloud.CloudNotConnected
        url: str = await relayer["create"](hass, webhook_id)
        return url

    with cloud_connected(relayer, create):
        await push.set_up()
        await transfer(push.hass, call_id=push.case.call_id, to="+14155550100")
        await push.settle()
    [fetched] = push.sandbox.leg_fetches
    assert fetched.numbers == ("+14155550100",)
    assert fetched.report == {}


@pytest.mark.parametrize("push_provider", ["plivo"])
async def test_a_provider_whose_url_is_pasted_offers_no_registration(
    push: PushAccount,
) -> None:
    """A client that cannot set its callback URL: the form has no registration switch."""
    capabilities = PROVIDERS[push.provider].push
    assert capabilities is not None
    with patch.object(
        PROVIDERS[push.provider],
        "push",
        replace(capabilities, registration_option=None),
    ):
        await push.set_up(push=False, push_register=False)
        keys = [str(key) for key in (await open_options(push))["data_schema"].schema]
    assert keys[-2:] == ["scan_interval", "push"]
