"""The interface every provider client implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar, Self

import aiohttp

from .http import DEFAULT_TIMEOUT
from .models import (
    AccountInfo,
    CredentialField,
    LiveCall,
    TransferRequest,
    TransferResult,
)


class TransferProvider(ABC):
    """A cloud telephony provider that can transfer live calls.

    A new provider is one module with a subclass of this and one line in the
    registry (``providers/__init__.py``).
    """

    provider_id: ClassVar[str]
    display_name: ClassVar[str]
    default_base_url: ClassVar[str]
    credential_fields: ClassVar[tuple[CredentialField, ...]]
    # What a transfer can point at: a phone number, and/or a URL answering call XML.
    supports_destination_number: ClassVar[bool]
    supports_xml_urls: ClassVar[bool]
    # True when the API names no account, so ``AccountInfo.account_id`` fingerprints the key:
    # a rotated key then looks like another account and cannot be told apart from one.
    account_id_is_key_fingerprint: ClassVar[bool] = False

    @abstractmethod
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        **credentials: str,
    ) -> None:
        """Create a client; each provider names its credentials as keyword arguments."""

    @classmethod
    def from_credentials(
        cls,
        session: aiohttp.ClientSession,
        credentials: Mapping[str, str],
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Self:
        """Build a client from a mapping holding (at least) ``credential_fields``."""
        keys = [cred.key for cred in cls.credential_fields]
        return cls(
            session,
            base_url=base_url,
            timeout=timeout,
            **{key: credentials[key] for key in keys},
        )

    @abstractmethod
    async def async_validate(self) -> AccountInfo:
        """Check the credentials and return who they belong to."""

    @abstractmethod
    async def async_transfer(self, request: TransferRequest) -> TransferResult:
        """Transfer a live call; raise a ``CallTransferError`` on any failure."""

    @abstractmethod
    async def async_live_calls(self) -> list[LiveCall]:
        """List the calls in progress on the account."""
