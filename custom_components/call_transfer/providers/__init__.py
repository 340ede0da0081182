"""Clients for cloud telephony providers that can transfer live calls.

Pure aiohttp + standard library: nothing here imports Home Assistant, every
client takes an injected ``aiohttp.ClientSession``, and every failure is a
``CallTransferError``. To add a provider, write one module with a
``TransferProvider`` subclass and add it to ``PROVIDERS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .base import TransferProvider
from .bland import BlandClient
from .capabilities import PlanRefusal, TransferCapabilities, TransferPlanError
from .errors import (
    CallNotFoundError,
    CallTransferError,
    CannotConnectError,
    ForbiddenError,
    InvalidAuthError,
    InvalidBaseUrlError,
    InvalidCredentialsError,
    InvalidOptionError,
    InvalidRequestError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitedError,
    TransferCancelledError,
    UnexpectedResponseError,
)
from .http import DEFAULT_TIMEOUT, normalize_base_url
from .models import (
    LEG_FIELDS,
    XML_URL_FIELDS,
    AccountInfo,
    ConfirmedCall,
    CredentialField,
    LiveCall,
    NumberTransfer,
    OptionField,
    OptionKind,
    TransferLegs,
    TransferRequest,
    TransferResult,
    XmlUrlMethod,
)
from .plivo import PlivoClient
from .telnyx import TelnyxClient
from .twilio import TwilioClient
from .vobiz import VobizClient

PROVIDERS: Final[Mapping[str, type[TransferProvider]]] = {
    client.provider_id: client
    for client in (VobizClient, BlandClient, TwilioClient, TelnyxClient, PlivoClient)
}

__all__ = [
    "DEFAULT_TIMEOUT",
    "LEG_FIELDS",
    "PROVIDERS",
    "XML_URL_FIELDS",
    "AccountInfo",
    "BlandClient",
    "CallNotFoundError",
    "CallTransferError",
    "CannotConnectError",
    "ConfirmedCall",
    "CredentialField",
    "ForbiddenError",
    "InvalidAuthError",
    "InvalidBaseUrlError",
    "InvalidCredentialsError",
    "InvalidOptionError",
    "InvalidRequestError",
    "LiveCall",
    "NumberTransfer",
    "OptionField",
    "OptionKind",
    "PlanRefusal",
    "PlivoClient",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitedError",
    "TelnyxClient",
    "TransferCancelledError",
    "TransferCapabilities",
    "TransferLegs",
    "TransferPlanError",
    "TransferProvider",
    "TransferRequest",
    "TransferResult",
    "TwilioClient",
    "UnexpectedResponseError",
    "VobizClient",
    "XmlUrlMethod",
    "normalize_base_url",
]
