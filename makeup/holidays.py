"""Public holidays from the maintained ``holidays`` library (CLO-1): the countries and
regions a company can choose (named in the reader's language by Babel's CLDR data), and a
company's holidays over a span of days."""

import unicodedata
from datetime import date
from functools import cache

import holidays as holidays_lib
from babel import Locale, UnknownLocaleError
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext as _
from holidays.registry import COUNTRIES

from .errors import DomainError


@cache
def supported_countries() -> dict[str, tuple[str, ...]]:
    """{country code: its subdivision codes}, as the library knows them."""
    return {
        code: tuple(subs)
        for code, subs in holidays_lib.list_supported_countries(include_aliases=False).items()
    }


def country_choices() -> list[tuple[str, str]]:
    """(code, name) of every supported country for a settings form, named and sorted in the
    active language ("Austrálie (AU)" in Czech), from the CLDR data Babel keeps."""
    return _country_choices(get_language() or "en")


def _sort_key(name: str) -> str:
    # Accents folded: "Česko" sorts among the C's, "Ålandy" among the A's.
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))


@cache
def _country_choices(language: str) -> list[tuple[str, str]]:
    try:
        territories = Locale.parse(to_locale(language)).territories
    except (ValueError, UnknownLocaleError):
        territories = {}
    names = {codes[1]: module.replace("_", " ").title() for module, codes in COUNTRIES.items()}
    choices = [
        (code, f"{territories.get(code) or names.get(code, code)} ({code})")
        for code in supported_countries()
    ]
    return sorted(choices, key=lambda choice: _sort_key(choice[1]).casefold())


def check_holiday_region(country: str, subdivision: str) -> None:
    """Refuse a country or state the library does not know (the settings service calls it)."""
    if not country:
        if subdivision:
            raise DomainError(_("Choose the country before its state or region."))
        return
    subdivisions = supported_countries().get(country)
    if subdivisions is None:
        raise DomainError(_("Public holidays of {code} are not available.").format(code=country))
    if subdivision and subdivision not in subdivisions:
        raise DomainError(
            _("{sub} is not a state or region of {code}. Choose one of: {all}.").format(
                sub=subdivision, code=country, all=", ".join(subdivisions) or "—"
            )
        )


def public_holidays(
    country: str, subdivision: str, first: date, last: date
) -> list[tuple[date, str]]:
    """(day, name) of every public holiday of the region between two days, inclusive."""
    if not country:
        return []
    calendar = holidays_lib.country_holidays(
        country, subdiv=subdivision or None, years=range(first.year, last.year + 1)
    )
    return sorted((day, name) for day, name in calendar.items() if first <= day <= last)
