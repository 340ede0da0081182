"""The sandbox reads Vobiz XML strictly: documented elements and attributes only."""

from __future__ import annotations

import pytest

from sandbox.callxml import CallPlan, CallXmlError, parse_call_xml


def plan(xml: str) -> CallPlan:
    """Parse a document given as text."""
    return parse_call_xml(xml.encode())


def test_speak_then_dial() -> None:
    """The announcement is every Speak before the Dial; the Dial gives numbers and options."""
    assert plan(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Response>\n  <Speak voice="MAN" loop="2">Hello &amp; welcome.</Speak>'
        "<Speak language='en-GB'>Hold on.</Speak>"
        '<Dial callerId="+14155550123" timeout="25" timeLimit="600" method="GET">'
        '<Number sendDigits="ww12">+14155550100</Number><User>sip:desk@example.com</User>'
        "</Dial><Speak>Never reached.</Speak></Response>"
    ) == CallPlan(
        announcement="Hello & welcome. Hold on.",
        numbers=("+14155550100", "sip:desk@example.com"),
        caller_id="+14155550123",
        ring_timeout=25,
    )


def test_speak_only_dials_nobody() -> None:
    """Valid XML without a Dial: the call speaks and then ends."""
    assert plan("<Response><Speak>Goodbye.</Speak></Response>") == CallPlan(
        announcement="Goodbye.", numbers=(), caller_id=None, ring_timeout=None
    )
    assert plan("<Response/>").announcement is None


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        ("<Response><Speak>x</Speak>", "not well-formed"),
        ("not xml at all", "not well-formed"),
        (
            '<!DOCTYPE r [<!ENTITY e "x">]><Response><Speak>&e;</Speak></Response>',
            "a DOCTYPE is not allowed",
        ),
        ("<Dial><Number>+14155550100</Number></Dial>", "the root element is <Dial>"),
        ('<Response version="1"/>', "<Response> has no attribute version"),
        ("<Response><Play>https://a.example/x.mp3</Play></Response>", "<Play> is not"),
        ("<Response><Number>+14155550100</Number></Response>", "<Number> cannot be"),
        ("<Response>hello</Response>", "<Response> holds text"),
        ("<Response><Speak> </Speak></Response>", "<Speak> has nothing to say"),
        (
            "<Response><Speak>a<break time='1s'/>b</Speak></Response>",
            "<break> is not a Vobiz XML element",
        ),
        ('<Response><Speak voice="ROBOT">x</Speak></Response>', 'voice="ROBOT"'),
        ('<Response><Speak loop="-1">x</Speak></Response>', 'loop="-1"'),
        ("<Response><Dial/></Response>", "<Dial> has no <Number> or <User>"),
        ("<Response><Dial>+1415</Dial></Response>", "<Dial> holds text"),
        (
            "<Response><Dial><Number>4155550100</Number></Dial></Response>",
            "'4155550100' is not an E.164 number",
        ),
        (
            "<Response><Dial><User>desk@example.com</User></Dial></Response>",
            "is not a sip: URI",
        ),
        (
            (
                '<Response><Dial callerId="4155550123"><Number>+14155550100</Number>'
                "</Dial></Response>"
            ),
            'callerId="4155550123" is not an E.164 number',
        ),
        (
            '<Response><Dial timeout="0"><Number>+14155550100</Number></Dial></Response>',
            'timeout="0" on <Dial> is not a positive integer',
        ),
        (
            '<Response><Dial timeout="²"><Number>+14155550100</Number></Dial></Response>',
            "is not a positive integer",
        ),
        (
            (
                '<Response><Dial callerName="Desk"><Number>+14155550100</Number></Dial>'
                "</Response>"
            ),
            "<Dial> has no attribute callerName",
        ),
        (
            (
                '<Response><Dial hangupOnStar="yes"><Number>+14155550100</Number></Dial>'
                "</Response>"
            ),
            "is not one of false, true",
        ),
    ],
)
def test_refused(xml: str, reason: str) -> None:
    """Each broken or undocumented document is refused with the first problem named."""
    with pytest.raises(CallXmlError) as raised:
        plan(xml)
    assert reason in str(raised.value)
