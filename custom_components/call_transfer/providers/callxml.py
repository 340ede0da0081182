"""Call-control XML that dials a number: Vobiz/Plivo XML and Twilio's TwiML share its shape."""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import Final, TypedDict
from xml.etree.ElementTree import Element, SubElement, tostring

from .models import OptionField, OptionKind
from .validation import require_e164

XML_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>'
# Characters XML 1.0 cannot carry at all, not even escaped.
_NOT_XML_CHAR: Final = re.compile(
    "[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


class DialOptions(TypedDict, total=False):
    """How an account's transfers to a number dial: its caller id, announcement, ring timeout."""

    caller_id: str | None
    announcement: str | None
    ring_timeout: int | None


def dial_option_fields(*, max_ring_timeout: int) -> tuple[OptionField, ...]:
    """Return the account options ``DialOptions`` carries, as a provider declares them."""
    return (
        OptionField(key="caller_id", kind=OptionKind.PHONE_NUMBER),
        OptionField(key="announcement", kind=OptionKind.TEXT, max_length=500),
        OptionField(
            key="ring_timeout",
            kind=OptionKind.SECONDS,
            minimum=5,
            maximum=max_ring_timeout,
        ),
    )


def dial_xml(
    number: str,
    *,
    caller_id: str | None = None,
    announcement: str | None = None,
    ring_timeout: int | None = None,
    speak_verb: str = "Speak",
    report: Mapping[str, str] | None = None,
    number_report: Mapping[str, str] | None = None,
) -> str:
    """Return ``<Response>[<Speak>…</Speak>]<Dial …><Number>…</Number></Dial></Response>``.

    Built with an XML library, so text can never become markup; characters XML
    cannot carry are dropped from the announcement. ``speak_verb`` is the dialect's
    text-to-speech element (``Speak`` for Vobiz and Plivo, ``Say`` for Twilio).
    ``report`` holds more ``Dial`` attributes, ``number_report`` more ``Number``
    attributes: where the dialect reports the dialled leg's outcome.
    """
    response = Element("Response")
    if announcement and (spoken := _NOT_XML_CHAR.sub("", announcement).strip()):
        SubElement(response, speak_verb).text = spoken
    dial = SubElement(response, "Dial")
    if caller_id:
        dial.set("callerId", require_e164(caller_id, "caller_id"))
    if ring_timeout:
        dial.set("timeout", str(int(ring_timeout)))
    for name, value in (report or {}).items():
        dial.set(name, value)
    SubElement(dial, "Number", dict(number_report or {})).text = require_e164(
        number, "number"
    )
    return XML_DECLARATION + tostring(response, encoding="unicode")


def redirect_xml(url: str, method: str) -> str:
    """Return ``<Response><Redirect method>url</Redirect></Response>`` (URL escaped).

    What sends a call on to the answer URL that answer-first registration replaced.
    """
    response = Element("Response")
    SubElement(response, "Redirect", method=method).text = url
    return XML_DECLARATION + tostring(response, encoding="unicode")
