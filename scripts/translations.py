"""What each language lacks beside English: texts (translations/*.json) and voice sentences.

translations/en.json is the source of every text; each other translations/<language>.json
must have exactly its keys, with the same placeholders ({name}, {count}, …) and the same
markup (`code`, **bold**, links) in each text. Assist's custom sentences
(config/custom_sentences/<language>/call_transfer.yaml) must have English's intents, with
the same slots and lists. Run it after adding English texts:

    python scripts/translations.py            # every language: what is missing or extra
    python scripts/translations.py --todo de  # German's missing texts in English, as JSON
                                              # to translate and merge into de.json

It exits with 1 while any language lacks something. Standard library only.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
import json
from pathlib import Path
import re
import sys
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = REPO_ROOT / "custom_components" / "call_transfer" / "translations"
SENTENCES = REPO_ROOT / "config" / "custom_sentences"
SENTENCES_FILE = "call_transfer.yaml"
ENGLISH = "en"

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
# Markup a translation keeps as it is: code spans, link targets and bold markers.
_MARKUP = re.compile(r"`[^`]*`|\]\([^)]*\)|\*\*")


def languages() -> list[str]:
    """Return the languages with a translations file, English first."""
    others = sorted(path.stem for path in TRANSLATIONS.glob("*.json"))
    others.remove(ENGLISH)
    return [ENGLISH, *others]


def load(language: str) -> dict[str, Any]:
    """Read a language's translations file."""
    strings: dict[str, Any] = json.loads(
        (TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8")
    )
    return strings


def flatten(strings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Return every text of a translations file by its dotted key."""
    flat: dict[str, Any] = {}
    for key, value in strings.items():
        if isinstance(value, dict):
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def placeholders(text: str) -> list[str]:
    """Return a text's placeholders, sorted, each as often as it appears."""
    return sorted(_PLACEHOLDER.findall(text))


def markup(text: str) -> list[str]:
    """Return what a translation must keep of a text's markup, in order."""
    return _MARKUP.findall(text)


@dataclass
class Gaps:
    """How a language's texts differ from English's keys, placeholders and markup."""

    missing: dict[str, str] = field(default_factory=dict)
    extra: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    markup: list[str] = field(default_factory=list)
    not_text: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        """Whether anything is missing or wrong."""
        return any(
            (self.missing, self.extra, self.placeholders, self.markup, self.not_text)
        )


def text_gaps(english: dict[str, Any], translated: dict[str, Any]) -> Gaps:
    """Compare a language's texts with English's."""
    source, target = flatten(english), flatten(translated)
    gaps = Gaps(
        missing={key: text for key, text in source.items() if key not in target},
        extra=[key for key in target if key not in source],
    )
    for key in source.keys() & target.keys():
        if not isinstance(target[key], str) or not target[key].strip():
            gaps.not_text.append(key)
        elif placeholders(target[key]) != placeholders(source[key]):
            gaps.placeholders.append(key)
        elif markup(target[key]) != markup(source[key]):
            gaps.markup.append(key)
    for found in (gaps.placeholders, gaps.markup, gaps.not_text):
        found.sort()
    return gaps


def nested(flat: dict[str, str]) -> dict[str, Any]:
    """Turn dotted keys back into a translations file's nesting."""
    tree: dict[str, Any] = {}
    for key, text in flat.items():
        *parents, leaf = key.split(".")
        branch = tree
        for parent in parents:
            branch = branch.setdefault(parent, {})
        branch[leaf] = text
    return tree


def sentence_files() -> dict[str, Path]:
    """Return each language's custom sentences file, where there is one."""
    return {
        path.parent.name: path for path in sorted(SENTENCES.glob(f"*/{SENTENCES_FILE}"))
    }


def report(language: str) -> list[str]:
    """Return the lines that say what a language lacks (none when it is complete)."""
    gaps = text_gaps(load(ENGLISH), load(language))
    lines = [f"{language}: missing {key}" for key in gaps.missing]
    lines += [f"{language}: not in en.json {key}" for key in gaps.extra]
    lines += [f"{language}: other placeholders {key}" for key in gaps.placeholders]
    lines += [f"{language}: other markup {key}" for key in gaps.markup]
    lines += [f"{language}: empty {key}" for key in gaps.not_text]
    if language not in sentence_files():
        lines.append(f"{language}: no {SENTENCES.name}/{language}/{SENTENCES_FILE}")
    return lines


def main() -> None:
    """Print what each language lacks, or one language's missing texts to translate."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--todo", metavar="LANGUAGE", help="print its missing texts (English) as JSON"
    )
    args = parser.parse_args()
    if args.todo:
        todo = text_gaps(load(ENGLISH), load(args.todo)).missing
        print(json.dumps(nested(todo), ensure_ascii=False, indent=2))
        sys.exit(1 if todo else 0)
    lines = [line for language in languages()[1:] for line in report(language)]
    print(
        "\n".join(lines) or f"Every language has every text: {', '.join(languages())}"
    )
    sys.exit(1 if lines else 0)


if __name__ == "__main__":
    main()
