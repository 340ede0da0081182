"""Dial XML: built with an XML library, so what users type stays text."""

from __future__ import annotations

from xml.etree.ElementTree import Element, fromstring

import pytest

from custom_components.call_transfer.providers import InvalidRequestError
from custom_components.call_transfer.providers.callxml import dial_xml


def parse(xml: str) -> Element:
    """Parse XML this module built itself (trusted, no entity tricks to defuse)."""
    return fromstring(xml)  # noqa: S314


def test_dial_with_every_option() -> None:
    """Announcement first, then the Dial with the caller id and ring timeout."""
    xml = dial_xml(
        "+14155550100",
        caller_id="+14155550123",
        announcement="Please hold.",
        ring_timeout=30,
    )

    assert xml == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Speak>Please hold.</Speak>'
        '<Dial callerId="+14155550123" timeout="30"><Number>+14155550100</Number>'
        "</Dial></Response>"
    )


def test_dial_without_options_and_with_another_speech_verb() -> None:
    """Nothing optional is written when unset; TwiML says Say where Vobiz says Speak."""
    assert dial_xml("+14155550100", speak_verb="Say").endswith(
        "<Response><Dial><Number>+14155550100</Number></Dial></Response>"
    )
    assert "<Say>Hi</Say>" in dial_xml(
        "+14155550100", announcement="Hi", speak_verb="Say"
    )


@pytest.mark.parametrize(
    "announcement",
    [
        "</Speak><Dial><Number>+19005550000</Number></Dial><Speak>",
        "<![CDATA[ <Hangup/> ]]>",
        '"><Redirect>https://evil.example</Redirect>',
        "&lt;Hangup/&gt; &amp; more",
        "bell \x07 and \x00 null",
    ],
)
def test_announcement_stays_text(announcement: str) -> None:
    """Markup in an announcement parses back as the same text, and nothing else."""
    root = parse(dial_xml("+14155550100", announcement=announcement))

    assert [child.tag for child in root] == ["Speak", "Dial"]
    assert root[0].text == announcement.replace("\x07", "").replace("\x00", "").strip()
    assert [number.text for number in root.iter("Number")] == ["+14155550100"]


def test_blank_announcement_is_left_out() -> None:
    """An announcement of nothing speakable adds no empty Speak."""
    root = parse(dial_xml("+14155550100", announcement=" \x00 "))
    assert [child.tag for child in root] == ["Dial"]


@pytest.mark.parametrize(
    ("number", "caller_id"),
    [("4155550100", None), ("+14155550100", "<x/>"), ("+1 415 555 0100", None)],
)
def test_numbers_must_be_e164(number: str, caller_id: str | None) -> None:
    """Only E.164 numbers reach the XML, never something to escape."""
    with pytest.raises(InvalidRequestError):
        dial_xml(number, caller_id=caller_id)
