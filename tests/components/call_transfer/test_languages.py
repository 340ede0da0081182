"""Every language English has: the same texts, the same voice sentences, Assist answering in it.

The texts (translations/<language>.json) have exactly English's keys, placeholders and
markup (scripts/translations.py lists what a language lacks). The custom sentences
(config/custom_sentences/<language>/call_transfer.yaml) parse as Home Assistant parses
them (hassil), with English's intents, slots and lists, and understand what people say in
that language; Assist, set up with them, transfers and answers in that language.
"""

from __future__ import annotations

from pathlib import Path
import re
import shutil
import sys
from typing import Any

from hassil import Intents, recognize
from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent, translation
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml
import pytest
import yaml

from custom_components.call_transfer.const import DOMAIN
from tests.helpers.destinations import add_destination, fields_of
from tests.helpers.live_calls import LiveAccount

from .test_blueprint import use_blueprint
from .test_translations import MENU_TITLE_MAX_LENGTH, texts_breaking_hassfest_rules

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
import dev_instance  # noqa: E402
import translations  # noqa: E402

VOICE_BLUEPRINT = "call_transfer/voice_transfer.yaml"

LANGUAGES = ["de", "es", "fr", "nl"]


def test_the_languages_are_english_and_the_translated_ones() -> None:
    """A translations file and a sentences file for each language, and no other."""
    assert translations.languages() == ["en", *LANGUAGES]
    assert sorted(translations.sentence_files()) == sorted(["en", *LANGUAGES])


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_translated_with_its_placeholders(language: str) -> None:
    """Exactly English's keys (none missing, none extra), same placeholders and markup."""
    assert translations.report(language) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_texts_follow_the_rules_english_follows(language: str) -> None:
    """The rules hassfest has for texts, and the menu title beside the help icon."""
    strings = translations.load(language)
    assert texts_breaking_hassfest_rules(strings) == []
    title = strings["config"]["step"]["user"]["title"]
    assert len(title) <= MENU_TITLE_MAX_LENGTH


def test_the_dev_instance_installs_every_language(tmp_path: Path) -> None:
    """scripts/develop's Home Assistant has the sentences of each language."""
    dev_instance.prepare(tmp_path)

    for language, path in translations.sentence_files().items():
        installed = tmp_path / "custom_sentences" / language / path.name
        assert installed.read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_what_a_language_lacks_is_listed() -> None:
    """The helper catches a missing, an extra, a changed placeholder and lost markup."""
    english = {
        "a": {"b": "Transfer {call_id} to {to}", "c": "Use `sip:x@y`"},
        "d": "**Transfer call**",
        "e": "Done",
    }
    translated = {
        "a": {"b": "Weiterleiten {call_id} an {ziel}", "c": "Verwende sip:x@y"},
        "d": "**Anruf weiterleiten**",
        "e": "",
        "f": "Extra",
    }
    missing = dict(english, g={"h": "Not yet"})

    gaps = translations.text_gaps(missing, translated)

    assert gaps.missing == {"g.h": "Not yet"}
    assert gaps.extra == ["f"]
    assert gaps.placeholders == ["a.b"]
    assert gaps.markup == ["a.c"]
    assert gaps.not_text == ["e"]
    assert translations.nested(gaps.missing) == {"g": {"h": "Not yet"}}
    assert not translations.text_gaps(english, english)


def load_sentences(language: str) -> dict[str, Any]:
    """Read a language's custom sentences file."""
    path = translations.sentence_files()[language]
    sentences: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return sentences


def unique_placeholders(text: str) -> list[str]:
    """Return a text's placeholders, each once."""
    return sorted(set(translations.placeholders(text)))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_the_english_sentence_sets(language: str) -> None:
    """The same intents, each sentence group with the same slots, the same lists."""
    sentences = load_sentences(language)
    assert sentences["language"] == language

    def groups(sentences: dict[str, Any]) -> dict[str, list[Any]]:
        return {
            name: sorted(
                (
                    sorted(
                        {tuple(unique_placeholders(text)) for text in data["sentences"]}
                    ),
                    sorted(data.get("slots", {}).items()),
                )
                for data in intent["data"]
            )
            for name, intent in sentences["intents"].items()
        }

    assert groups(sentences) == groups(load_sentences("en"))
    assert sentences["lists"] == load_sentences("en")["lists"]
    assert Intents.from_dict(sentences).slot_lists.keys() == {
        "destination",
        "account",
        "caller",
    }


# What a native speaker says; the slots Home Assistant's parser takes from it.
TRANSFER = "CallTransferTransfer"
LIVE_CALLS = "CallTransferLiveCalls"
SAID = [
    ("en", "Transfer the call to reception", TRANSFER, {"destination": "reception"}),
    (
        "de",
        "Verbinde den Anruf mit der Rezeption",
        TRANSFER,
        {"destination": "der Rezeption"},
    ),
    (
        "de",
        "Stell den Anruf zur Rezeption durch",
        TRANSFER,
        {"destination": "Rezeption"},
    ),
    (
        "de",
        "Leite den Anruf an die Zentrale weiter",
        TRANSFER,
        {"destination": "die Zentrale"},
    ),
    ("de", "Anruf an Rezeption weiterleiten", TRANSFER, {"destination": "Rezeption"}),
    (
        "de",
        "Leite den Anruf von 0142 an die Rezeption weiter",
        TRANSFER,
        {"caller": "0142", "destination": "die Rezeption"},
    ),
    (
        "de",
        "Verbinde den neuesten Anruf mit dem Empfang",
        TRANSFER,
        {"destination": "dem Empfang", "newest": True},
    ),
    (
        "de",
        "Verbinde den Anruf auf Vobiz mit der Rezeption",
        TRANSFER,
        {"account": "Vobiz", "destination": "der Rezeption"},
    ),
    ("de", "Wie viele Anrufe laufen gerade?", LIVE_CALLS, {}),
    ("de", "Zeig mir die aktiven Anrufe", LIVE_CALLS, {}),
    ("fr", "Transfère l'appel à l'accueil", TRANSFER, {"destination": "l'accueil"}),
    ("fr", "Passe l'appel au standard", TRANSFER, {"destination": "standard"}),
    ("fr", "Transférer l'appel vers Marie", TRANSFER, {"destination": "Marie"}),
    (
        "fr",
        "Transfère l'appel de 0142 à l'accueil",
        TRANSFER,
        {"caller": "0142", "destination": "l'accueil"},
    ),
    (
        "fr",
        "Transfère le dernier appel à l'accueil",
        TRANSFER,
        {"destination": "l'accueil", "newest": True},
    ),
    (
        "fr",
        "Transfère l'appel sur Vobiz à l'accueil",
        TRANSFER,
        {"account": "Vobiz", "destination": "l'accueil"},
    ),
    ("fr", "Combien d'appels sont en cours ?", LIVE_CALLS, {}),
    ("fr", "Quels sont les appels en cours", LIVE_CALLS, {}),
    ("es", "Transfiere la llamada a recepción", TRANSFER, {"destination": "recepción"}),
    ("es", "Pasa la llamada a la recepción", TRANSFER, {"destination": "la recepción"}),
    (
        "es",
        "Transfiere la llamada del 0142 a recepción",
        TRANSFER,
        {"caller": "0142", "destination": "recepción"},
    ),
    (
        "es",
        "Transfiere la última llamada a recepción",
        TRANSFER,
        {"destination": "recepción", "newest": True},
    ),
    (
        "es",
        "Transfiere la llamada en Vobiz a recepción",
        TRANSFER,
        {"account": "Vobiz", "destination": "recepción"},
    ),
    ("es", "¿Cuántas llamadas hay en curso?", LIVE_CALLS, {}),
    ("es", "Dime las llamadas activas", LIVE_CALLS, {}),
    (
        "nl",
        "Verbind het gesprek door met de receptie",
        TRANSFER,
        {"destination": "de receptie"},
    ),
    (
        "nl",
        "Zet het gesprek door naar de receptie",
        TRANSFER,
        {"destination": "de receptie"},
    ),
    (
        "nl",
        "Gesprek naar receptie doorverbinden",
        TRANSFER,
        {"destination": "receptie"},
    ),
    (
        "nl",
        "Verbind het gesprek van 0142 door met de receptie",
        TRANSFER,
        {"caller": "0142", "destination": "de receptie"},
    ),
    (
        "nl",
        "Verbind het nieuwste gesprek door met de receptie",
        TRANSFER,
        {"destination": "de receptie", "newest": True},
    ),
    (
        "nl",
        "Verbind het gesprek op Vobiz door met de receptie",
        TRANSFER,
        {"account": "Vobiz", "destination": "de receptie"},
    ),
    ("nl", "Hoeveel gesprekken zijn er actief?", LIVE_CALLS, {}),
    ("nl", "Noem de actieve gesprekken", LIVE_CALLS, {}),
]


@pytest.mark.parametrize(("language", "text", "intent", "slots"), SAID)
def test_what_people_say_is_understood(
    language: str, text: str, intent: str, slots: dict[str, Any]
) -> None:
    """Home Assistant's sentence parser matches the intent with the right slots."""
    result = recognize(text, Intents.from_dict(load_sentences(language)))

    assert result is not None, text
    assert result.intent.name == intent
    assert {name: entity.value for name, entity in result.entities.items()} == slots


def test_every_language_has_examples_here() -> None:
    """Each language's sentences are tried above, both intents."""
    tried = {(language, intent) for language, _, intent, _ in SAID}
    assert {
        (language, intent)
        for language in LANGUAGES
        for intent in (TRANSFER, LIVE_CALLS)
    } <= tried


# Said to Assist in each language: the destination's name, what is said, the answer when
# the call is transferred, and when it is refused (no call is live).
ASSIST = {
    "de": (
        "Rezeption",
        "Verbinde den Anruf mit der Rezeption",
        "Der Anruf wurde an Rezeption weitergeleitet.",
        "Auf {title} läuft kein Anruf, daher wurde nichts weitergeleitet.",
    ),
    "fr": (
        "Accueil",
        "Transfère l'appel à l'accueil",
        "L'appel a été transféré vers Accueil.",
        "Aucun appel n'est en cours sur {title}, rien n'a donc été transféré.",
    ),
    "es": (
        "Recepción",
        "Transfiere la llamada a recepción",
        "La llamada se ha transferido a Recepción.",
        "No hay ninguna llamada en curso en {title}, así que no se ha transferido nada.",
    ),
    "nl": (
        "Receptie",
        "Verbind het gesprek door met de receptie",
        "Het gesprek is doorverbonden met Receptie.",
        "Er is geen gesprek actief op {title}, dus er is niets doorverbonden.",
    ),
}


@pytest.fixture
async def assist(live: LiveAccount, tmp_path: Path) -> LiveAccount:
    """Assist with every language's custom sentences, and the account set up."""
    hass = live.hass
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    assert await async_setup_component(hass, "intent", {})
    for language, path in translations.sentence_files().items():
        installed = tmp_path / "custom_sentences" / language / path.name
        installed.parent.mkdir(parents=True)
        shutil.copy(path, installed)
    hass.config.config_dir = str(tmp_path)
    await live.set_up()
    return live


async def converse(hass: HomeAssistant, text: str, language: str) -> str:
    """Say something to Assist in a language; return its answer."""
    result = await conversation.async_converse(
        hass, text, None, Context(), language=language
    )
    return str(result.response.speech["plain"]["speech"])


@pytest.mark.parametrize("provider", ["twilio"])
@pytest.mark.parametrize("language", LANGUAGES)
async def test_assist_transfers_and_answers_in_the_language(
    assist: LiveAccount, language: str
) -> None:
    """A transfer said in the language is made and told in it; so is a refusal."""
    name, said, transferred, refused = ASSIST[language]
    await add_destination(assist.hass, assist.entry, name, **fields_of(assist.case))
    [only] = assist.leave_live(1)

    assert await converse(assist.hass, said, language) == transferred
    assert assist.sandbox.calls[only].transferred_to is not None

    assist.leave_live(0)
    assert await converse(assist.hass, said, language) == refused.format(
        title=assist.entry.title
    )


@pytest.mark.parametrize("provider", ["twilio"])
@pytest.mark.parametrize(
    ("variant", "answer"),
    [
        ("de-CH", "Der Anruf wurde an Rezeption weitergeleitet."),
        ("nl-BE", "Het gesprek is doorverbonden met Rezeption."),
        ("es-419", "La llamada se ha transferido a Rezeption."),
    ],
)
async def test_a_regional_variant_hears_its_language(
    assist: LiveAccount, variant: str, answer: str
) -> None:
    """Home Assistant has no texts of de-CH: they are German's, not English's."""
    await add_destination(
        assist.hass, assist.entry, "Rezeption", **fields_of(assist.case)
    )
    assist.leave_live(1)

    response = await intent.async_handle(
        assist.hass,
        "conversation",
        TRANSFER,
        {"destination": {"value": "Rezeption"}},
        language=variant,
    )

    assert response.speech["plain"]["speech"] == answer


# The voice blueprint with sentences of one's own, in each language: what is said, its
# answer when the call is transferred, and when none is live (the reason is in Home
# Assistant's language, the same).
BLUEPRINT_SAID = {
    "de": (
        "stell [den] Anruf (zu|zur|zum) {destination} durch",
        "Stell den Anruf zur Rezeption durch",
        "Der Anruf wurde an Rezeption weitergeleitet.",
        (
            "Ich konnte den Anruf nicht an Rezeption weiterleiten: "
            "Auf {title} läuft kein Anruf, daher wurde nichts weitergeleitet."
        ),
    ),
    "fr": (
        "passe [l'appel] à {destination}",
        "Passe l'appel à l'accueil",
        "L'appel a été transféré vers Accueil.",
        (
            "Je n'ai pas pu transférer l'appel vers l'accueil : "
            "Aucun appel n'est en cours sur {title}, rien n'a donc été transféré."
        ),
    ),
    "es": (
        "pasa [la llamada] a {destination}",
        "Pasa la llamada a recepción",
        "La llamada se ha transferido a Recepción.",
        (
            "No he podido transferir la llamada a recepción: "
            "No hay ninguna llamada en curso en {title}, así que no se ha transferido nada."
        ),
    ),
    "nl": (
        "zet [het gesprek] door naar {destination}",
        "Zet het gesprek door naar de receptie",
        "Het gesprek is doorverbonden met Receptie.",
        (
            "Ik kon het gesprek niet doorverbinden met de receptie: "
            "Er is geen gesprek actief op {title}, dus er is niets doorverbonden."
        ),
    ),
}


@pytest.mark.parametrize("provider", ["twilio"])
@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_voice_blueprint_answers_in_the_language(
    assist: LiveAccount, tmp_path: Path, language: str
) -> None:
    """The blueprint's example sentence of the language; its answers in it too."""
    sentence, said, transferred, refused = BLUEPRINT_SAID[language]
    hass = assist.hass
    blueprint = dev_instance.REPO_ROOT / "blueprints" / "automation" / VOICE_BLUEPRINT
    read = await hass.async_add_executor_job(load_yaml, blueprint)
    description = read["blueprint"]["input"]["sentences"]["description"]
    assert f'"{sentence}"' in description
    # Home Assistant's language is the same; it loads the texts when it changes.
    await hass.config.async_update(language=language)
    await translation.async_load_integrations(hass, {DOMAIN})
    dev_instance.prepare(tmp_path)
    name = ASSIST[language][0]
    await add_destination(hass, assist.entry, name, **fields_of(assist.case))
    await use_blueprint(hass, VOICE_BLUEPRINT, {"sentences": [sentence]})
    [only] = assist.leave_live(1)

    assert await converse(hass, said, language) == transferred
    assert assist.sandbox.calls[only].transferred_to is not None

    assist.leave_live(0)
    assert await converse(hass, said, language) == refused.format(
        title=assist.entry.title
    )


def test_the_documented_sentences_are_understood() -> None:
    """What docs/voice.md shows people saying in each language is understood."""
    page = (dev_instance.REPO_ROOT / "docs" / "voice.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| \w+ \| \[`config/custom_sentences/(\w+)/.*\| (.+) \|$", page, re.MULTILINE
    )
    assert sorted(language for language, _ in rows) == LANGUAGES
    for language, said in rows:
        intents = Intents.from_dict(load_sentences(language))
        for text in re.findall(r'"([^"]+)"', said):
            assert recognize(text, intents) is not None, text
