"""Call XML as the sandbox reads it: the ``Speak`` and ``Dial`` a transfer URL answers.

Parsed with expat directly, refusing any DOCTYPE (so no entity can be declared), and
checked against the elements and attributes a provider documents for them: its
``XmlDialect``. Vobiz XML (docs.vobiz.ai/xml/speak, /xml/dial, /xml/dial/number,
/xml/dial/user) is here; a provider whose XML differs declares its own dialect. Stricter
than the providers on purpose, so an integration bug shows: numbers and ``callerId``
must be E.164, and ``Speak`` must hold plain text (the sandbox does not model SSML).
Any other element is refused as one the sandbox does not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
import re
from typing import Final
from xml.parsers import expat

E164: Final = re.compile(r"\+[1-9]\d{6,14}")
# The values an attribute may take, where the docs list them (Vobiz, Plivo).
CHOICES: Final[Mapping[str, frozenset[str]]] = {
    "voice": frozenset({"WOMAN", "MAN"}),
    "method": frozenset({"GET", "POST"}),
    "hangupOnStar": frozenset({"true", "false"}),
    "sendOnPreanswer": frozenset({"true", "false"}),
    "callbackMethod": frozenset({"GET", "POST"}),
    "redirect": frozenset({"true", "false"}),
}
# The Dial attributes that ask for its outcome (docs.vobiz.ai/xml/dial/dial-status-reporting,
# plivo.com/docs/voice/xml/dial): kept on the plan, so the sandbox can report it.
REPORT_ATTRIBUTES: Final = frozenset(
    {"action", "method", "callbackUrl", "callbackMethod", "redirect"}
)
_URL_ATTRIBUTES: Final = frozenset({"action", "callbackUrl"})


@dataclass(frozen=True, slots=True)
class XmlDialect:
    """One provider's call XML: its name, and per element its attributes and children."""

    provider: str  # who fetches it, as logs name them: "Vobiz"
    name: str  # "Vobiz XML"
    elements: Mapping[str, tuple[frozenset[str], frozenset[str]]]
    speak: str = "Speak"  # the element that speaks its text
    choices: Mapping[str, frozenset[str]] = field(default_factory=lambda: CHOICES)
    sip_elements: frozenset[str] = frozenset({"User"})  # dial a sip: URI

    def with_attributes(
        self, provider: str, name: str, **attributes: frozenset[str]
    ) -> XmlDialect:
        """Return another provider's dialect: these elements, some with more attributes."""
        return replace(
            self,
            provider=provider,
            name=name,
            elements={
                tag: (documented | attributes.get(tag, frozenset()), children)
                for tag, (documented, children) in self.elements.items()
            },
        )


# Element -> (its documented attributes, the elements it may contain).
VOBIZ_ELEMENTS: Final[dict[str, tuple[frozenset[str], frozenset[str]]]] = {
    "Response": (frozenset(), frozenset({"Speak", "Dial"})),
    "Speak": (frozenset({"voice", "language", "loop"}), frozenset()),
    "Dial": (
        frozenset(
            {
                "action",
                "method",
                "hangupOnStar",
                "timeLimit",
                "timeout",
                "callerId",
                "confirmSound",
                "confirmKey",
                "dialMusic",
                "redirect",
                "callbackUrl",
                "callbackMethod",
            }
        ),
        frozenset({"Number", "User"}),
    ),
    "Number": (frozenset({"sendDigits", "sendOnPreanswer"}), frozenset()),
    "User": (frozenset({"sendDigits", "sendOnPreanswer", "sipHeaders"}), frozenset()),
}
VOBIZ_XML: Final = XmlDialect("Vobiz", "Vobiz XML", VOBIZ_ELEMENTS)
_POSITIVE_INTEGERS: Final = frozenset({"timeout", "timeLimit"})
_DIGITS: Final = re.compile(r"[0-9]+")


class CallXmlError(ValueError):
    """The document is not call XML the sandbox accepts; the message says why."""


@dataclass(slots=True)
class Element:
    """One parsed element: its attributes, its own text and its child elements."""

    tag: str
    attributes: dict[str, str]
    text: str = ""
    children: list[Element] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CallPlan:
    """What a call does with the XML: speak, then dial (if it has a ``Dial``)."""

    announcement: str | None
    numbers: tuple[str, ...]
    caller_id: str | None
    ring_timeout: int | None
    report: dict[str, str] = field(default_factory=dict)


def parse_call_xml(body: bytes, dialect: XmlDialect = VOBIZ_XML) -> CallPlan:
    """Parse and check call XML; raise ``CallXmlError`` naming the first problem."""
    root = parse(body)
    if root.tag != "Response":
        raise CallXmlError(f"the root element is <{root.tag}>, not <Response>")
    check(root, dialect)
    spoken: list[str] = []
    for child in root.children:
        if child.tag == dialect.speak:
            spoken.append(child.text.strip())
            continue
        return CallPlan(
            announcement=" ".join(spoken) or None,
            numbers=tuple(number.text.strip() for number in child.children),
            caller_id=child.attributes.get("callerId"),
            ring_timeout=_int_or_none(child.attributes.get("timeout")),
            report=_report(child.attributes),
        )
    return CallPlan(
        announcement=" ".join(spoken) or None,
        numbers=(),
        caller_id=None,
        ring_timeout=None,
    )


def parse(body: bytes) -> Element:
    """Parse a document into elements; refuse a DOCTYPE and anything not well-formed."""
    parser = expat.ParserCreate()
    stack: list[Element] = []
    roots: list[Element] = []

    def start(tag: str, attributes: dict[str, str]) -> None:
        element = Element(tag, attributes)
        (stack[-1].children if stack else roots).append(element)
        stack.append(element)

    def end(tag: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        stack[-1].text += data

    def doctype(*_: object) -> None:
        raise CallXmlError("a DOCTYPE is not allowed")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(body, True)
    except expat.ExpatError as err:
        raise CallXmlError(f"not well-formed ({err})") from None
    return roots[0]


def check(element: Element, dialect: XmlDialect) -> None:
    """Check an element and everything in it against the dialect's documented rules."""
    attributes, allowed_children = dialect.elements[element.tag]
    if unknown := sorted(set(element.attributes) - attributes):
        raise CallXmlError(
            f"<{element.tag}> has no attribute {', '.join(unknown)} in {dialect.name}"
        )
    for name, value in element.attributes.items():
        _check_attribute(element.tag, name, value, dialect.choices)
    for child in element.children:
        if child.tag not in dialect.elements:
            raise CallXmlError(f"<{child.tag}> is not a {dialect.name} element")
        if child.tag not in allowed_children:
            raise CallXmlError(f"<{child.tag}> cannot be inside <{element.tag}>")
        check(child, dialect)
    text = element.text.strip()
    tag = element.tag
    if tag in ("Response", "Dial") and text:
        raise CallXmlError(f"<{tag}> holds text: {text[:40]!r}")
    if tag == dialect.speak and not text:
        raise CallXmlError(f"<{tag}> has nothing to say")
    if tag == "Dial" and not element.children:
        dialed = " or ".join(f"<{child}>" for child in sorted(allowed_children))
        raise CallXmlError(f"<Dial> has no {dialed} to dial")
    if tag == "Number" and not E164.fullmatch(text):
        raise CallXmlError(f"<Number> {text!r} is not an E.164 number")
    if tag in dialect.sip_elements and not text.startswith("sip:"):
        raise CallXmlError(f"<{tag}> {text!r} is not a sip: URI")


def _check_attribute(
    tag: str, name: str, value: str, choices_of: Mapping[str, frozenset[str]]
) -> None:
    if name in choices_of and value not in choices_of[name]:
        choices = ", ".join(sorted(choices_of[name]))
        raise CallXmlError(f'{name}="{value}" on <{tag}> is not one of {choices}')
    if name in _POSITIVE_INTEGERS and (not _DIGITS.fullmatch(value) or int(value) < 1):
        raise CallXmlError(f'{name}="{value}" on <{tag}> is not a positive integer')
    if name == "loop" and not _DIGITS.fullmatch(value):
        raise CallXmlError(f'loop="{value}" on <{tag}> is not a whole number')
    if name == "callerId" and not E164.fullmatch(value):
        raise CallXmlError(f'callerId="{value}" is not an E.164 number')
    if name in _URL_ATTRIBUTES and not re.fullmatch(r"https?://\S+", value):
        raise CallXmlError(
            f'{name}="{value}" on <{tag}> is not an absolute http(s) URL'
        )


def _report(attributes: Mapping[str, str]) -> dict[str, str]:
    """Return the Dial's attributes asking for its outcome, if it asks (action, callbackUrl)."""
    if not _URL_ATTRIBUTES & set(attributes):
        return {}
    return {name: attributes[name] for name in REPORT_ATTRIBUTES & set(attributes)}


def _int_or_none(value: str | None) -> int | None:
    return None if value is None else int(value)
