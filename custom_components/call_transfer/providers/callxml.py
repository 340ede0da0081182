"""Call-control XML that dials a number: Vobiz/Plivo XML and Twilio's TwiML share its shape."""

from __future__ import annotations

import re
from typing import Final
from xml.etree.ElementTree import Element, SubElement, tostring

from .validation import require_e164

XML_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>'
# Characters XML 1.0 cannot carry at all, not even escaped.
_NOT_XML_CHAR: Final = re.compile(
    "[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def dial_xml(
    number: str,
    *,
    caller_id: str | None = None,
    announcement: str | None = None,
    ring_timeout: int | None = None,
    speak_verb: str = "Speak",
) -> str:
    """Return ``<Response>[<Speak>…</Speak>]<Dial …><Number>…</Number></Dial></Response>``.

    Built with an XML library, so text can never become markup; characters XML
    cannot carry are dropped from the announcement. ``speak_verb`` is the dialect's
    text-to-speech element (``Speak`` for Vobiz and Plivo, ``Say`` for Twilio).
    """
    response = Element("Response")
    if announcement and (spoken := _NOT_XML_CHAR.sub("", announcement).strip()):
        SubElement(response, speak_verb).text = spoken
    dial = SubElement(response, "Dial")
    if caller_id:
        dial.set("callerId", require_e164(caller_id, "caller_id"))
    if ring_timeout:
        dial.set("timeout", str(int(ring_timeout)))
    SubElement(dial, "Number").text = require_e164(number, "number")
    return XML_DECLARATION + tostring(response, encoding="unicode")
