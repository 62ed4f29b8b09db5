"""Messages of the edges (CLI, later the HTTP API) in the chosen language, through gettext.

The source language is Vietnamese: every msgid is the Vietnamese text itself, so Vietnamese needs
no catalog and a missing translation shows Vietnamese, never a key. English lives in
``access_api/locale/en/LC_MESSAGES/khoso.po``; its compiled ``khoso.mo`` is committed beside it
(``tests/unit/test_i18n.py`` fails when the two differ, and when a msgid used in
``access_api/cli/`` has no English translation). Issue-code messages are not here: they come
with their code from ``preservation/data/issues/*.json`` (``KhosoError.message(lang)``).

How a command module uses it (the language is set once by the root group from ``--lang`` or
``KHOSO_LANGUAGE``; help texts are plain Vietnamese strings that ``KhosoCommand`` and
``KhosoGroup`` in ``access_api/cli/base.py`` translate when they print ``--help``)::

    from access_api.i18n import N_, _

    @agency.command("add")
    @click.argument("organ_id")
    @click.option("--email", help=N_("Thư điện tử liên hệ."))     # N_: extracted, shown translated
    @click.pass_obj
    def agency_add(obj: Context, organ_id: str, email: str | None) -> None:
        \"\"\"Thêm cơ quan theo mã định danh.\"\"\"                  # docstring: add it to khoso.po
        ...
        click.echo(_("Đã thêm cơ quan: {organ_id}").format(organ_id=organ_id))

One language per line: never write "vi / en" pairs. Format placeholders AFTER translating
(``_("… {x}").format(x=…)``), never inside the msgid with an f-string, or extraction misses it.
After adding a message: add its English ``msgstr`` to ``khoso.po`` and recompile with
``pybabel compile -D khoso -d access_api/locale`` (babel is in the test extras). When a module's
help texts are all Vietnamese msgids, add it to ``SWEPT`` in ``tests/unit/test_i18n.py``: from
then on every help text of its commands and options must have a translation.

A ``KhosoError`` needs nothing here: ``KhosoCommand`` prints it in the chosen language, and a
problem the core reports on a field named like a parameter of the command (``total_doc``) is
shown on the option the user typed (``--total-doc``). In the core, name the missing thing with
``preservation.issues.Noun`` (``NotFound("GEN002", what=Noun.AGENCY, …)``) and give a reason in
both languages with ``preservation.issues.Text(vi, en)``.
"""

from __future__ import annotations

import gettext as _gettext
import importlib
from contextvars import ContextVar
from enum import StrEnum
from functools import cache
from importlib import resources

DOMAIN = "khoso"


class Language(StrEnum):
    VI = "vi"
    EN = "en"


SOURCE = Language.VI
_current: ContextVar[Language] = ContextVar("khoso_language", default=SOURCE)


def _catalog(lang: Language, domain: str) -> _gettext.GNUTranslations:
    mo = resources.files("access_api") / "locale" / lang.value / "LC_MESSAGES" / f"{domain}.mo"
    with mo.open("rb") as f:
        return _gettext.GNUTranslations(f)


@cache
def translations(lang: Language) -> _gettext.NullTranslations:
    """The catalog for ``lang``; the source language has none (msgids are Vietnamese)."""
    return _gettext.NullTranslations() if lang is SOURCE else _catalog(lang, DOMAIN)


def set_language(lang: str) -> None:
    """Choose the language of every later ``_()`` in this context (the CLI's ``--lang``)."""
    _current.set(Language(lang))


def current_language() -> Language:
    return _current.get()


def gettext(message: str, lang: str | None = None) -> str:
    """``message`` (Vietnamese) in ``lang``, by default the current language."""
    chosen = Language(lang) if lang is not None else _current.get()
    return translations(chosen).gettext(message)


_ = gettext


def N_(message: str) -> str:
    """Marks ``message`` for extraction only; it is translated where it is shown (click help)."""
    return message


# click writes its own words (usage errors, "Usage:") in English through gettext; its msgids are
# English, so they get a Vietnamese catalog of their own (locale/vi/LC_MESSAGES/click.po).
CLICK_DOMAIN = "click"
_CLICK_MODULES = ("click.core", "click.decorators", "click.exceptions", "click.formatting",
                  "click.parser", "click.termui", "click.types")


@cache
def _click_vi() -> _gettext.GNUTranslations:
    return _catalog(Language.VI, CLICK_DOMAIN)


def click_gettext(message: str) -> str:
    return _click_vi().gettext(message) if _current.get() is Language.VI else message


def click_ngettext(singular: str, plural: str, n: int) -> str:
    if _current.get() is Language.VI:
        return _click_vi().ngettext(singular, plural, n)
    return singular if n == 1 else plural


def translate_click() -> None:
    """Let click's own words follow the chosen language. click's modules call the ``_`` and
    ``ngettext`` they import from ``gettext`` at call time, so they are replaced there; English
    is what click said before, unchanged."""
    for name in _CLICK_MODULES:
        module = importlib.import_module(name)
        if getattr(module, "_", None) is _gettext.gettext:
            module._ = click_gettext  # type: ignore[attr-defined]
        if getattr(module, "ngettext", None) is _gettext.ngettext:
            module.ngettext = click_ngettext  # type: ignore[attr-defined]
