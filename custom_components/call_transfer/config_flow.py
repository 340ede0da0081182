"""Config flow: connect, reauthenticate and reconfigure a provider account; its destinations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentry,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    Selector,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .const import (
    CONF_BASE_URL,
    CONF_LEGS,
    CONF_METHOD,
    CONF_NUMBER,
    CONF_PROVIDER,
    CONF_PUSH,
    CONF_PUSH_REGISTER,
    CONF_SCAN_INTERVAL,
    CONF_URL,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
    MAX_SCAN_INTERVAL,
    MIN_SCAN_INTERVAL,
    SUBENTRY_DESTINATION,
)
from .data import CallTransferConfigEntry, create_client
from .destinations import Destination, account_destinations, same_name
from .phone import async_to_e164
from .providers import (
    PROVIDERS,
    AccountInfo,
    CallTransferError,
    CredentialField,
    InvalidAuthError,
    InvalidBaseUrlError,
    InvalidCredentialsError,
    InvalidOptionError,
    InvalidRequestError,
    OptionField,
    OptionKind,
    TransferLegs,
    TransferPlanError,
    TransferProvider,
    XmlUrlMethod,
    normalize_base_url,
)
from .providers.ed25519 import decode_public_key
from .providers.validation import is_sip_uri, require_http_url
from .push import async_callback_url, push_docs_url

_SECRET = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_TEXT = TextSelector()
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_MULTILINE = TextSelector(TextSelectorConfig(multiline=True))
_PHONE = TextSelector(TextSelectorConfig(type=TextSelectorType.TEL))
# What the options show for a callback URL when there is none the provider can reach.
NO_URL = "—"


class CallTransferConfigFlow(ConfigFlow, domain=DOMAIN):
    """Connect an account of any registered provider."""

    VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(
        config_entry: CallTransferConfigEntry,
    ) -> CallTransferOptionsFlow:
        """Return the options flow of an account."""
        return CallTransferOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Every account has destinations: named places to transfer calls to."""
        return {SUBENTRY_DESTINATION: DestinationSubentryFlow}

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user pick the provider."""
        return self.async_show_menu(step_id="user", menu_options=list(PROVIDERS))

    # The menu's choices: one step per provider in PROVIDERS, each the account form.
    async def async_step_vobiz(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Connect a Vobiz account."""
        return await self._async_step_account("vobiz", user_input)

    async def async_step_bland(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Connect a Bland AI API key."""
        return await self._async_step_account("bland", user_input)

    async def async_step_twilio(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Connect a Twilio account."""
        return await self._async_step_account("twilio", user_input)

    async def async_step_telnyx(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Connect a Telnyx API key."""
        return await self._async_step_account("telnyx", user_input)

    async def async_step_plivo(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Connect a Plivo account."""
        return await self._async_step_account("plivo", user_input)

    async def _async_step_account(
        self, provider_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Ask for the provider's credentials and connect the account they belong to."""
        provider = PROVIDERS[provider_id]
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {CONF_PROVIDER: provider.provider_id, **_flat(user_input)}
            account, errors = await self._async_try_connect(data)
            if account is not None:
                await self.async_set_unique_id(_unique_id(provider, account))
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=_title(provider, account), data=data
                )
        schema = _credentials_schema(
            provider.credential_fields, base_url=_BaseUrlSection.COLLAPSED
        )
        return self.async_show_form(
            step_id=provider.provider_id,
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
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
                _credentials_schema(asked, base_url=_BaseUrlSection.NONE),
                _typed_or_stored(provider, user_input, entry.data),
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
            # A secret left empty keeps the stored one (an optional one, if there is
            # one): changing only the base URL must not mean typing the key again.
            kept = {
                cred.key: entry.data[cred.key]
                for cred in provider.credential_fields
                if cred.secret
                and not user_input.get(cred.key)
                and cred.key in entry.data
            }
            data = {CONF_PROVIDER: provider.provider_id, **_flat(user_input), **kept}
            account, errors = await self._async_try_connect(data)
            if account is not None:
                return await self._async_update_entry(entry, provider, account, data)
        schema = _credentials_schema(
            provider.credential_fields,
            base_url=_BaseUrlSection.OPEN
            if CONF_BASE_URL in entry.data
            else _BaseUrlSection.COLLAPSED,
            keep_secrets=True,
        )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                schema,
                _typed_or_stored(provider, user_input, _nested(entry.data)),
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
        if entry.state is not ConfigEntryState.LOADED:
            return self.async_update_reload_and_abort(
                entry, unique_id=unique_id, data=data
            )
        # The loaded account takes the new credentials without a reload (its update
        # listener), which would replay its event entities' last events.
        if (
            not self.hass.config_entries.async_update_entry(
                entry, unique_id=unique_id, data=data
            )
            and (coordinator := entry.runtime_data.coordinator) is not None
        ):
            # The same credentials, which the provider takes again: polling, which
            # stopped when it refused them, starts again.
            await coordinator.async_refresh()
        return self.async_abort(
            reason="reconfigure_successful"
            if self.source == SOURCE_RECONFIGURE
            else "reauth_successful"
        )

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
            return None, {"base": "invalid_base_url"}
        except InvalidCredentialsError:
            return None, {"base": "invalid_credentials"}
        except InvalidAuthError:
            return None, {"base": "invalid_auth"}
        except CallTransferError as err:
            LOGGER.debug("Cannot connect to %s: %s", data[CONF_PROVIDER], err.message)
            # The base URL is named only where one is used: with none, the provider's
            # public API was not reachable, and the user has no URL to check.
            if CONF_BASE_URL in data:
                return None, {"base": "cannot_connect_base_url"}
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
        # The callback URL heads the form: in the switch's description a URL this long
        # widens its row past the dialog, hiding the switch.
        placeholders = {"provider": provider.display_name, "callback_url": NO_URL}
        if provider.push is not None:
            callback_url = await async_callback_url(self.hass, entry)
            placeholders["callback_url"] = callback_url or NO_URL
            placeholders["push_docs_url"] = push_docs_url(provider.provider_id)
        if user_input is not None:
            options, errors = await _async_normalize_options(
                self.hass, provider, user_input, entry.options
            )
            if options.get(CONF_PUSH) and placeholders["callback_url"] == NO_URL:
                errors[CONF_PUSH] = "no_public_url"
            if not errors:
                errors = await self._async_check_with_provider(provider, options)
            if not errors:
                return self.async_create_entry(data=options)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                _options_schema(provider),
                _without_secrets(provider, user_input or entry.options),
            ),
            description_placeholders=placeholders | _seconds_ranges(provider),
            errors=errors,
        )

    async def _async_check_with_provider(
        self, provider: type[TransferProvider], options: dict[str, Any]
    ) -> dict[str, str]:
        """Ask the provider about changed identifier options (one request); return errors.

        Answer-first turned on asks too: the provider may refuse what registration sets
        it up on (a number whose calls another application answers).
        """
        answer_first = provider.push.answer_first_option if provider.push else None
        changed = [
            field.key
            for field in provider.option_fields
            if (field.kind is OptionKind.IDENTIFIER or field.key == answer_first)
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


# The poll interval, as the options form asks for it beside the provider's options.
_SCAN_INTERVAL_FIELD = OptionField(
    key=CONF_SCAN_INTERVAL,
    kind=OptionKind.SECONDS,
    minimum=MIN_SCAN_INTERVAL,
    maximum=MAX_SCAN_INTERVAL,
)
# A number of seconds. Its range is checked by the flow, not by the selector: the
# selector's own check would answer "Value 200.0 is too large", untranslated and
# without the range; the flow's error (``<key>_out_of_range``) gives it.
_SECONDS = NumberSelector(
    NumberSelectorConfig(step=1, mode=NumberSelectorMode.BOX, unit_of_measurement="s")
)


def _options_schema(provider: type[TransferProvider]) -> vol.Schema:
    """Return the options schema: the provider's, the polling interval, then push.

    The provider's options keep the order it declares them in, the one push registers
    the URL on among them (an application: Telnyx lists its calls too, so it comes
    first; Vobiz's and Plivo's, and Twilio's number, the last, right above polling
    and push). What verifies the callbacks (a public key) follows the push switch,
    then registration, then answer-first (which registration sets up).
    """
    push = provider.push
    verification = push.verification_option if push else None
    answer_first = push.answer_first_option if push else None
    fields = {field.key: field for field in provider.option_fields}
    schema: dict[vol.Marker, Selector[Any]] = {
        vol.Optional(key): _option_selector(field)
        for key, field in fields.items()
        if key not in (verification, answer_first)
    }
    schema[vol.Required(CONF_SCAN_INTERVAL, default=DEFAULT_SCAN_INTERVAL)] = _SECONDS
    if push is not None:
        schema[vol.Optional(CONF_PUSH, default=False)] = BooleanSelector()
        if verification is not None:
            schema[vol.Optional(verification)] = _option_selector(fields[verification])
        if push.registration_option is not None:
            schema[vol.Optional(CONF_PUSH_REGISTER, default=False)] = BooleanSelector()
            if answer_first is not None:  # registration sets the answer URL up
                schema[vol.Optional(answer_first, default=False)] = BooleanSelector()
    return vol.Schema(schema)


def _option_selector(field: OptionField) -> Selector[Any]:
    match field.kind:
        case OptionKind.PHONE_NUMBER:
            return _PHONE
        case OptionKind.SECONDS:
            return _SECONDS
        case OptionKind.TEXT:
            return _MULTILINE
        case OptionKind.SECRET:
            return _SECRET
        case _:
            return _TEXT


def _without_secrets(
    provider: type[TransferProvider], values: Mapping[str, Any]
) -> dict[str, Any]:
    """Return the values a form suggests: a secret option's is never sent back."""
    secret = {f.key for f in provider.option_fields if f.kind is OptionKind.SECRET}
    return {key: value for key, value in values.items() if key not in secret}


def _seconds_fields(provider: type[TransferProvider]) -> list[OptionField]:
    return [
        *(f for f in provider.option_fields if f.kind is OptionKind.SECONDS),
        _SCAN_INTERVAL_FIELD,
    ]


def _seconds_ranges(provider: type[TransferProvider]) -> dict[str, str]:
    """Return the placeholders of each seconds field's range: ``<key>_min``, ``<key>_max``."""
    ranges: dict[str, str] = {}
    for field in _seconds_fields(provider):
        ranges[f"{field.key}_min"] = str(field.minimum)
        ranges[f"{field.key}_max"] = str(field.maximum)
    return ranges


async def _async_normalize_options(
    hass: HomeAssistant,
    provider: type[TransferProvider],
    user_input: Mapping[str, Any],
    stored: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return the options as stored (numbers in E.164, whole seconds) and form errors.

    Push and its registration are stored only when on. Registration needs what the
    provider sets the URL on (an application). A secret left empty keeps the one
    ``stored`` (the form never shows it).
    """
    options: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for flag in (CONF_PUSH, CONF_PUSH_REGISTER):
        if user_input.get(flag):
            options[flag] = True
    for field in (*provider.option_fields, _SCAN_INTERVAL_FIELD):
        value = user_input.get(field.key)
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "" or value is False:
            if field.kind is OptionKind.SECRET and field.key in stored:
                options[field.key] = stored[field.key]
            continue
        match field.kind:
            case OptionKind.PHONE_NUMBER:
                try:
                    value = await async_to_e164(hass, value, hass.config.country)
                except ValueError:
                    errors[field.key] = "invalid_phone_number"
            case OptionKind.SECONDS:
                value = int(value)
                if not field.minimum <= value <= field.maximum:
                    errors[field.key] = f"{field.key}_out_of_range"
            case OptionKind.TEXT if (
                field.max_length is not None and len(value) > field.max_length
            ):
                errors[field.key] = "too_long"
            case OptionKind.PUBLIC_KEY if decode_public_key(value) is None:
                errors[field.key] = "invalid_public_key"
        options[field.key] = value
    push = provider.push
    registration = push.registration_option if push else None
    if options.get(CONF_PUSH_REGISTER) and registration not in options:
        errors[str(registration)] = "registration_target_required"
    answer_first = push.answer_first_option if push else None
    if answer_first in options and not options.get(CONF_PUSH_REGISTER):
        errors[str(answer_first)] = "answer_first_needs_registration"
    verification = push.verification_option if push else None
    if options.get(CONF_PUSH) and verification and verification not in options:
        errors[verification] = "verification_key_required"
    return options, errors


# The section of the destination form with the fields of a transfer URL.
_TRANSFER_URL = "transfer_url"
# The destination form's number field where the provider takes SIP URIs as well: its
# label and help say so (stored as CONF_NUMBER all the same).
_NUMBER_OR_SIP_URI = "number_or_sip_uri"


def _number_field(provider: type[TransferProvider]) -> str:
    """Return the key of the destination form's number field for the provider."""
    if provider.capabilities.sip_destinations:
        return _NUMBER_OR_SIP_URI
    return CONF_NUMBER


class DestinationSubentryFlow(ConfigSubentryFlow):
    """Add or change a destination: a name and a number, or a URL that answers call XML."""

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Add a destination to the account."""
        return await self._async_step_destination("user", user_input, None)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a destination's name or where it sends calls."""
        return await self._async_step_destination(
            "reconfigure", user_input, self._get_reconfigure_subentry()
        )

    async def _async_step_destination(
        self,
        step_id: str,
        user_input: dict[str, Any] | None,
        current: ConfigSubentry | None,
    ) -> SubentryFlowResult:
        entry: CallTransferConfigEntry = self._get_entry()
        provider = PROVIDERS[entry.data[CONF_PROVIDER]]
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = await _async_read_destination(
                self.hass, entry, provider, user_input, current
            )
            if not errors:
                name = user_input[CONF_NAME].strip()
                if current is None:
                    return self.async_create_entry(
                        title=name,
                        data=data,
                        description_placeholders={"name": name, "title": entry.title},
                    )
                return self.async_update_and_abort(
                    entry, current, title=name, data=data
                )
        shown = user_input or _destination_form_values(provider, current)
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                _destination_schema(
                    provider, url_first=CONF_URL in shown.get(_TRANSFER_URL, {})
                ),
                shown,
            ),
            description_placeholders={
                "title": entry.title,
                "provider": provider.display_name,
            },
            errors=errors,
        )


def _destination_schema(
    provider: type[TransferProvider], *, url_first: bool
) -> vol.Schema:
    """Ask for a name and what the provider can transfer to: a number, a URL or either.

    Where the provider takes both, the URL's fields wait in a collapsed section
    (open when the destination being changed has a URL).
    """
    capabilities = provider.capabilities
    takes_number = capabilities.takes_number
    schema: dict[vol.Marker, Any] = {vol.Required(CONF_NAME): _TEXT}
    if takes_number:
        number = vol.Optional if capabilities.takes_xml_urls else vol.Required
        field = _number_field(provider)
        schema[number(field)] = _PHONE if field == CONF_NUMBER else _TEXT
    if capabilities.takes_xml_urls:
        url_fields: dict[vol.Marker, Selector[Any]] = {
            (vol.Optional if takes_number else vol.Required)(CONF_URL): _URL,
            vol.Required(CONF_METHOD, default=XmlUrlMethod.POST.value): _select(
                [method.value for method in XmlUrlMethod]
            ),
        }
        if len(capabilities.legs_choices) > 1:
            url_fields[vol.Required(CONF_LEGS, default=TransferLegs.ALEG.value)] = (
                _select(
                    [leg.value for leg in capabilities.legs_choices],
                    translation_key=CONF_LEGS,
                )
            )
        schema[vol.Required(_TRANSFER_URL)] = section(
            vol.Schema(url_fields), {"collapsed": takes_number and not url_first}
        )
    return vol.Schema(schema)


def _select(options: list[str], translation_key: str | None = None) -> SelectSelector:
    config = SelectSelectorConfig(options=options, mode=SelectSelectorMode.DROPDOWN)
    if translation_key is not None:
        config["translation_key"] = translation_key
    return SelectSelector(config)


def _destination_form_values(
    provider: type[TransferProvider], current: ConfigSubentry | None
) -> dict[str, Any]:
    """Return the form's values for a destination being changed (none for a new one)."""
    if current is None:
        return {}
    destination = Destination.from_subentry(current)
    if destination.url is None:
        return {
            CONF_NAME: destination.name,
            _number_field(provider): destination.number,
        }
    return {
        CONF_NAME: destination.name,
        _TRANSFER_URL: {
            CONF_URL: destination.url,
            CONF_METHOD: destination.method.value,
            CONF_LEGS: destination.legs.value,
        },
    }


async def _async_read_destination(
    hass: HomeAssistant,
    entry: CallTransferConfigEntry,
    provider: type[TransferProvider],
    user_input: Mapping[str, Any],
    current: ConfigSubentry | None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return the destination's data as stored (numbers in E.164) and form errors."""
    errors: dict[str, str] = {}
    name = user_input[CONF_NAME].strip()
    others = [
        dest
        for dest in account_destinations(entry)
        if current is None or dest.subentry_id != current.subentry_id
    ]
    if not name:
        errors[CONF_NAME] = "name_required"
    elif any(same_name(dest.name, name) for dest in others):
        errors[CONF_NAME] = "name_taken"
    number_field = _number_field(provider)
    number = str(user_input.get(number_field) or "").strip()
    url_input: Mapping[str, Any] = user_input.get(_TRANSFER_URL) or {}
    url = str(url_input.get(CONF_URL) or "").strip()
    if number and url:
        return {}, errors | {"base": "number_or_url"}
    if url:
        try:
            require_http_url(url, CONF_URL)
        except InvalidRequestError:
            return {}, errors | {"base": "invalid_url"}
        return {
            CONF_URL: url,
            CONF_METHOD: url_input.get(CONF_METHOD, XmlUrlMethod.POST.value),
            CONF_LEGS: url_input.get(CONF_LEGS, TransferLegs.ALEG.value),
        }, errors
    if not number:
        return {}, errors | {"base": "number_or_url_required"}
    try:
        if is_sip_uri(number):
            number = provider.capabilities.sip_destination(
                number, provider=provider.display_name
            )
        else:
            number = await async_to_e164(hass, number, hass.config.country)
    except TransferPlanError as err:
        return {}, errors | {number_field: err.refusal.value}
    except ValueError:
        return {}, errors | {number_field: "invalid_phone_number"}
    return {CONF_NUMBER: number}, errors


# The section of the account forms with the API base URL, which few users need (a proxy,
# a regional endpoint, the sandbox): collapsed unless the account has one.
_ADVANCED_OPTIONS = "advanced_options"


class _BaseUrlSection(Enum):
    """Whether an account form asks for the API base URL, and how it shows the field."""

    NONE = "none"
    COLLAPSED = "collapsed"
    OPEN = "open"


def _flat(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Return a submitted account form's values with its section's fields at the top."""
    values = dict(user_input)
    advanced: dict[str, Any] = values.pop(_ADVANCED_OPTIONS, {})
    return values | advanced


def _nested(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return an account's stored values as the account form shows them."""
    nested = dict(values)
    if CONF_BASE_URL in nested:
        nested[_ADVANCED_OPTIONS] = {CONF_BASE_URL: nested.pop(CONF_BASE_URL)}
    return nested


def _credentials_schema(
    fields: Iterable[CredentialField],
    *,
    base_url: _BaseUrlSection,
    keep_secrets: bool = False,
) -> vol.Schema:
    """Ask for the credentials; with ``keep_secrets`` a secret may stay empty."""
    schema: dict[vol.Marker, TextSelector | section] = {
        (
            vol.Optional
            if not cred.required or (keep_secrets and cred.secret)
            else vol.Required
        )(cred.key): (_SECRET if cred.secret else _TEXT)
        for cred in fields
    }
    if base_url is not _BaseUrlSection.NONE:
        schema[vol.Optional(_ADVANCED_OPTIONS)] = section(
            vol.Schema({vol.Optional(CONF_BASE_URL): _URL}),
            {"collapsed": base_url is _BaseUrlSection.COLLAPSED},
        )
    return vol.Schema(schema)


def _typed_or_stored(
    provider: type[TransferProvider],
    user_input: Mapping[str, Any] | None,
    stored: Mapping[str, Any],
) -> Mapping[str, Any]:
    """Return the values a credentials form shows.

    After a failed submit, what the user typed, secrets included (as Home Assistant's
    own flows do: the browser sent them, and a password field shows them masked), so
    one wrong field does not mean typing every key again. Before, the stored values
    without their secrets: a stored secret never goes back to a browser.
    """
    if user_input is not None:
        return user_input
    secrets = {cred.key for cred in provider.credential_fields if cred.secret}
    return {key: value for key, value in stored.items() if key not in secrets}


def _unique_id(provider: type[TransferProvider], account: AccountInfo) -> str:
    return f"{provider.provider_id}_{account.account_id}"


def _title(provider: type[TransferProvider], account: AccountInfo) -> str:
    return f"{provider.display_name} ({account.name})"
