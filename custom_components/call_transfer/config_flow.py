"""Config flow: connect, reauthenticate and reconfigure a provider account."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Mapping
from functools import partial
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    Selector,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .const import (
    CONF_BASE_URL,
    CONF_PROVIDER,
    CONF_SCAN_INTERVAL,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
    MAX_SCAN_INTERVAL,
    MIN_SCAN_INTERVAL,
)
from .data import CallTransferConfigEntry, create_client
from .phone import to_e164
from .providers import (
    PROVIDERS,
    AccountInfo,
    CallTransferError,
    CredentialField,
    InvalidAuthError,
    InvalidBaseUrlError,
    InvalidCredentialsError,
    InvalidOptionError,
    OptionField,
    OptionKind,
    TransferProvider,
    normalize_base_url,
)

_SECRET = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_TEXT = TextSelector()
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_MULTILINE = TextSelector(TextSelectorConfig(multiline=True))
_PHONE = TextSelector(TextSelectorConfig(type=TextSelectorType.TEL))


type _StepHandler = Callable[
    [dict[str, Any] | None], Coroutine[Any, Any, ConfigFlowResult]
]
_PROVIDER_STEP_PREFIX = "async_step_"


class CallTransferConfigFlow(ConfigFlow, domain=DOMAIN):
    """Connect an account of any registered provider."""

    VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> CallTransferOptionsFlow:
        """Return the options flow of an account."""
        return CallTransferOptionsFlow()

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user pick the provider."""
        return self.async_show_menu(step_id="user", menu_options=list(PROVIDERS))

    def __getattr__(self, name: str) -> _StepHandler:
        """Serve ``async_step_<provider id>``: the menu's choice of each registered provider.

        Home Assistant runs a step by looking up its method, so one generic step
        serves every provider in ``PROVIDERS`` and a new provider needs no code here.
        """
        provider_id = name.removeprefix(_PROVIDER_STEP_PREFIX)
        if provider_id == name or provider_id not in PROVIDERS:
            raise AttributeError(name)
        return partial(self._async_step_account, PROVIDERS[provider_id])

    async def _async_step_account(
        self, provider: type[TransferProvider], user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {CONF_PROVIDER: provider.provider_id, **user_input}
            account, errors = await self._async_try_connect(data)
            if account is not None:
                await self.async_set_unique_id(_unique_id(provider, account))
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=_title(provider, account), data=data
                )
        schema = _schema(
            provider.credential_fields, with_base_url=self.show_advanced_options
        )
        return self.async_show_form(
            step_id=provider.provider_id,
            data_schema=self.add_suggested_values_to_schema(
                schema, _public(provider, user_input)
            ),
            errors=errors,
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Start reauthentication after the provider rejected the credentials."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask only for the new secret of the same account."""
        entry = self._get_reauth_entry()
        provider = PROVIDERS[entry.data[CONF_PROVIDER]]
        errors: dict[str, str] = {}
        # The secrets, and the optional credentials that may change with them.
        asked = [
            cred
            for cred in provider.credential_fields
            if cred.secret or not cred.required
        ]
        if user_input is not None:
            kept = {
                key: value
                for key, value in entry.data.items()
                if key not in {cred.key for cred in asked}
            }
            data = kept | user_input
            account, errors = await self._async_try_connect(data)
            if account is not None:
                return await self._async_update_entry(entry, provider, account, data)
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=self.add_suggested_values_to_schema(
                _schema(asked, with_base_url=False),
                _public(provider, user_input or entry.data),
            ),
            description_placeholders={
                "title": entry.title,
                "provider": provider.display_name,
            },
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the credentials or base URL of the same account."""
        entry = self._get_reconfigure_entry()
        provider = PROVIDERS[entry.data[CONF_PROVIDER]]
        errors: dict[str, str] = {}
        if user_input is not None:
            # A secret left empty keeps the stored one: changing only the base URL
            # must not mean typing the key again.
            kept = {
                cred.key: entry.data[cred.key]
                for cred in provider.credential_fields
                if cred.secret and not user_input.get(cred.key)
            }
            data = {CONF_PROVIDER: provider.provider_id, **user_input, **kept}
            account, errors = await self._async_try_connect(data)
            if account is not None:
                return await self._async_update_entry(entry, provider, account, data)
        with_base_url = self.show_advanced_options or CONF_BASE_URL in entry.data
        schema = _schema(
            provider.credential_fields, with_base_url=with_base_url, keep_secrets=True
        )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                schema, _public(provider, user_input or entry.data)
            ),
            description_placeholders={
                "title": entry.title,
                "provider": provider.display_name,
            },
            errors=errors,
        )

    async def _async_update_entry(
        self,
        entry: ConfigEntry,
        provider: type[TransferProvider],
        account: AccountInfo,
        data: dict[str, Any],
    ) -> ConfigFlowResult:
        unique_id = _unique_id(provider, account)
        if provider.account_id_is_key_fingerprint:
            # A new key cannot be tied to the old one; only refuse a key another entry uses.
            other = self.hass.config_entries.async_entry_for_domain_unique_id(
                DOMAIN, unique_id
            )
            if other is not None and other.entry_id != entry.entry_id:
                return self.async_abort(reason="already_configured")
        else:
            await self.async_set_unique_id(unique_id)
            self._abort_if_unique_id_mismatch(reason="wrong_account")
        return self.async_update_reload_and_abort(entry, unique_id=unique_id, data=data)

    async def _async_try_connect(
        self, data: dict[str, Any]
    ) -> tuple[AccountInfo | None, dict[str, str]]:
        """Check the credentials against the provider; return the account or form errors."""
        for cred in PROVIDERS[data[CONF_PROVIDER]].credential_fields:
            if not cred.required and not str(data.get(cred.key) or "").strip():
                data.pop(cred.key, None)  # left empty: the provider's default applies
        try:
            if base_url := data.pop(CONF_BASE_URL, "").strip():
                data[CONF_BASE_URL] = normalize_base_url(base_url)
            return await create_client(self.hass, data).async_validate(), {}
        except InvalidBaseUrlError:
            return None, {CONF_BASE_URL: "invalid_base_url"}
        except InvalidCredentialsError:
            return None, {"base": "invalid_credentials"}
        except InvalidAuthError:
            return None, {"base": "invalid_auth"}
        except CallTransferError as err:
            LOGGER.debug("Cannot connect to %s: %s", data[CONF_PROVIDER], err.message)
            return None, {"base": "cannot_connect"}
        except Exception:  # noqa: BLE001 - any bug must still end in a form error
            LOGGER.exception(
                "Unexpected error while checking %s credentials", data[CONF_PROVIDER]
            )
            return None, {"base": "unknown"}


class CallTransferOptionsFlow(OptionsFlow):
    """Change what the provider declares as options, and the live-call polling interval."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the account's options; check them (with the provider where it must agree)."""
        entry: CallTransferConfigEntry = self.config_entry
        provider = PROVIDERS[entry.data[CONF_PROVIDER]]
        errors: dict[str, str] = {}
        if user_input is not None:
            options, errors = _normalize_options(
                provider, user_input, self.hass.config.country
            )
            if not errors:
                errors = await self._async_check_with_provider(provider, options)
            if not errors:
                return self.async_create_entry(data=options)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                _options_schema(provider), user_input or entry.options
            ),
            description_placeholders={"provider": provider.display_name},
            errors=errors,
        )

    async def _async_check_with_provider(
        self, provider: type[TransferProvider], options: dict[str, Any]
    ) -> dict[str, str]:
        """Ask the provider about changed identifier options (one request); return errors."""
        changed = [
            field.key
            for field in provider.option_fields
            if field.kind is OptionKind.IDENTIFIER
            and options.get(field.key) is not None
            and options.get(field.key) != self.config_entry.options.get(field.key)
        ]
        if not changed:
            return {}
        try:
            await create_client(
                self.hass, self.config_entry.data, options
            ).async_validate_options()
        except InvalidOptionError as err:
            return {err.option: f"invalid_{err.option}"}
        except InvalidAuthError:
            return {"base": "invalid_auth"}
        except CallTransferError as err:
            LOGGER.debug("Cannot check the options: %s", err.message)
            return {"base": "cannot_connect"}
        return {}


def _options_schema(provider: type[TransferProvider]) -> vol.Schema:
    schema: dict[vol.Marker, Selector[Any]] = {
        vol.Optional(field.key): _option_selector(field)
        for field in provider.option_fields
    }
    schema[vol.Required(CONF_SCAN_INTERVAL, default=DEFAULT_SCAN_INTERVAL)] = _seconds(
        MIN_SCAN_INTERVAL, MAX_SCAN_INTERVAL
    )
    return vol.Schema(schema)


def _option_selector(field: OptionField) -> Selector[Any]:
    match field.kind:
        case OptionKind.PHONE_NUMBER:
            return _PHONE
        case OptionKind.SECONDS:
            return _seconds(field.minimum, field.maximum)
        case OptionKind.TEXT:
            return _MULTILINE
        case _:
            return _TEXT


def _seconds(minimum: int, maximum: int) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=1,
            mode=NumberSelectorMode.BOX,
            unit_of_measurement="s",
        )
    )


def _normalize_options(
    provider: type[TransferProvider], user_input: Mapping[str, Any], country: str | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return the options as stored (numbers in E.164, whole seconds) and form errors."""
    options: dict[str, Any] = {CONF_SCAN_INTERVAL: int(user_input[CONF_SCAN_INTERVAL])}
    errors: dict[str, str] = {}
    for field in provider.option_fields:
        value = user_input.get(field.key)
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            continue
        match field.kind:
            case OptionKind.PHONE_NUMBER:
                try:
                    value = to_e164(value, country)
                except ValueError:
                    errors[field.key] = "invalid_phone_number"
            case OptionKind.SECONDS:
                value = int(value)
            case OptionKind.TEXT if (
                field.max_length is not None and len(value) > field.max_length
            ):
                errors[field.key] = "too_long"
        options[field.key] = value
    return options, errors


def _schema(
    fields: Iterable[CredentialField],
    *,
    with_base_url: bool,
    keep_secrets: bool = False,
) -> vol.Schema:
    """Ask for the credentials; with ``keep_secrets`` a secret may stay empty."""
    schema: dict[vol.Marker, TextSelector] = {
        (
            vol.Optional
            if not cred.required or (keep_secrets and cred.secret)
            else vol.Required
        )(cred.key): (_SECRET if cred.secret else _TEXT)
        for cred in fields
    }
    if with_base_url:
        schema[vol.Optional(CONF_BASE_URL)] = _URL
    return vol.Schema(schema)


def _public(
    provider: type[TransferProvider], values: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Return the values safe to show again in a form (never a secret)."""
    secrets = {cred.key for cred in provider.credential_fields if cred.secret}
    return {key: value for key, value in (values or {}).items() if key not in secrets}


def _unique_id(provider: type[TransferProvider], account: AccountInfo) -> str:
    return f"{provider.provider_id}_{account.account_id}"


def _title(provider: type[TransferProvider], account: AccountInfo) -> str:
    return f"{provider.display_name} ({account.name})"
