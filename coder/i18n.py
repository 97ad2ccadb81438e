"""One message catalogue for what the web app and the reports show: Danish by default, English on request.

Strings are marked with ``_()`` (Python) or ``{{ _() }}`` / ``{% trans %}`` (Jinja) in English, the
gettext source language; Babel extracts them into ``locale/coder.pot`` and the Danish translation
lives in ``locale/da/LC_MESSAGES/coder.po``, compiled to ``coder.mo`` and shipped as package data, so
translations load offline with the standard library's `gettext` alone (Babel is a dev tool).
English needs no catalogue: gettext returns the English source string itself.
Regenerate after changing a marked string: ``scripts/messages.sh`` (extract, update, compile).
"""

from __future__ import annotations

import functools
import gettext
from collections.abc import Callable
from pathlib import Path

from .errors import CoderError

LANGUAGES = ("da", "en")
DEFAULT_LANGUAGE = "da"
DOMAIN = "coder"
LOCALE_DIR = Path(__file__).parent / "locale"

Translate = Callable[[str], str]


def N_(message: str) -> str:
    """Mark a string for extraction where it is defined; translate it later where it is shown."""
    return message


def check_language(lang: str) -> str:
    """``lang`` if the catalogue has it, else a `CoderError` that lists the choices."""
    if lang not in LANGUAGES:
        raise CoderError(f"Unknown language '{lang}'; use one of: {', '.join(LANGUAGES)}.")
    return lang


@functools.cache
def translations(lang: str = DEFAULT_LANGUAGE) -> gettext.NullTranslations:
    """The catalogue of one language; English is the source language, so it translates to itself."""
    if check_language(lang) == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])  # a missing .mo is a packaging bug: loud


def translator(lang: str = DEFAULT_LANGUAGE) -> Translate:
    """``gettext`` of ``lang``'s catalogue, to pass as ``_`` to code that formats user-facing text."""
    return translations(lang).gettext


def english(message: str) -> str:
    """The identity translation: library defaults stay in the source language."""
    return message
