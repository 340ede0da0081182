"""Checks on user-supplied values that every provider shares."""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import quote, urlsplit

from .errors import InvalidRequestError

E164: Final = re.compile(r"\+[1-9]\d{6,14}")
# sip:user@host[:port][;param=value...] (RFC 3261 user and parameter characters,
# a host name or an IP address); nothing that could break out of a JSON string or XML.
SIP_URI: Final = re.compile(
    r"sips?:[A-Za-z0-9\-_.!~*'()&=+$,;?/%]+"
    r"@(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)"
    r"(?::\d{1,5})?(?:;[A-Za-z0-9\-_.!~*'()%=+:]+)*",
    re.IGNORECASE,
)
SIP_URI_MAX_LENGTH: Final = 256
_PATH_SEGMENT: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")


def path_segment(value: str, what: str) -> str:
    """Return ``value`` quoted for use as one URL path segment, or refuse it.

    Ids come from users and automations: anything that could change the path
    (``/``, ``..``, ``?``, ``#``, ``%``, white space) is rejected before any request.
    """
    if not _PATH_SEGMENT.fullmatch(value):
        raise InvalidRequestError(
            f"The {what} may only contain letters, digits and _ . : - and must start with a letter or digit"
        )
    return quote(value, safe=":")


def require_call_id(call_id: str) -> str:
    """Return ``call_id`` if it is safe to use in a request path, else refuse it."""
    path_segment(call_id, "call ID")
    return call_id


def text_or_none(value: object) -> str | None:
    """Return ``value`` if it is a non-empty string (for reading untrusted JSON)."""
    return value if isinstance(value, str) and value else None


def require_http_url(url: str, field: str) -> str:
    """Return ``url`` if it is an absolute http(s) URL with a host, else refuse it."""
    try:
        parts = urlsplit(url)
        usable = (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and not any(char.isspace() for char in url)
        )
        parts.port  # noqa: B018 - raises ValueError when out of range
    except ValueError:  # an unclosed IPv6 bracket, a port out of range...
        usable = False
    if not usable:
        raise InvalidRequestError(f"{field} must be an absolute http or https URL")
    return url


def require_e164(number: str | None, field: str) -> str:
    """Return ``number`` if it is an E.164 phone number (``+`` and 7 to 15 digits)."""
    if number is None or not E164.fullmatch(number):
        raise InvalidRequestError(
            f"{field} must be a phone number in E.164 form, such as +14155550100"
        )
    return number


def is_sip_uri(value: str) -> bool:
    """Say whether a destination is meant as a SIP URI (``sip:`` or ``sips:``)."""
    return value.strip().lower().startswith(("sip:", "sips:"))


def require_sip_uri(value: str | None, field: str) -> str:
    """Return ``value`` if it is a SIP URI such as ``sip:alice@pbx.example.com``."""
    if value is None or len(value) > SIP_URI_MAX_LENGTH or not SIP_URI.fullmatch(value):
        raise InvalidRequestError(
            f"{field} must be a SIP URI such as sip:alice@pbx.example.com"
        )
    return value
