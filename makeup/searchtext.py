"""Text for searching people (DAY-3): the one folding of names, e-mails and phone numbers that
both the stored search columns and the typed query go through, so "Nováková", "NOVAKOVA" and
"novakova" are the same word on SQLite and PostgreSQL alike, and "+420 777 123 456" is the
digits "420777123456".

Pure functions, no database: the models store :func:`fold` of their names in a
``search_text`` column and the search (``bookings.selectors.search``) matches the folded
query against it.
"""

import re
import unicodedata
from dataclasses import dataclass

#: Letters NFKD does not take apart into a base letter and an accent.
_LETTERS = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i", "þ": "th"}
)
_NOT_KEPT = re.compile(r"[^\w@.+-]+")
_PHONE = re.compile(r"^[0-9\s+()./-]+$")
_DIGITS = re.compile(r"[^0-9]")
_KEY_SPLIT = re.compile(r"[ .@+_-]+")

#: Words shorter than this are matched exactly (as a part of a word), never with a typo.
FUZZY_MIN_LENGTH = 4
#: The most words of a query that are used.
MAX_WORDS = 5
#: A phone number is compared by its last digits (the national number), so "777 123 456"
#: finds "+420 777 123 456" and the other way round.
PHONE_TAIL = 9


def fold(text: str) -> str:
    """Lower case without accents, words separated by single spaces; e-mail characters
    (``@ . + _ -``) are kept so an address stays one word."""
    text = unicodedata.normalize("NFKD", (text or "").casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).translate(_LETTERS)
    return " ".join(_NOT_KEPT.sub(" ", text).split())


def digits(text: str) -> str:
    """Only the digits of a phone number."""
    return _DIGITS.sub("", text or "")


def deletions(word: str) -> set[str]:
    """``word`` with one letter left out, at each place."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def typo_keys(text: str) -> str:
    """The stored typo keys of a folded text: each word of letters (not those of an e-mail
    address), and for words of
    :data:`FUZZY_MIN_LENGTH` letters or more each spelling with one letter left out,
    space-separated with a space at both ends. A word one typo away from a stored word shares
    a key with it (a letter wrong: both without it; one extra or missing: the shorter one;
    two swapped: both without either), so the typo match is a few exact key look-ups."""
    keys: set[str] = set()
    for chunk in text.split():
        if "@" in chunk:
            continue  # an e-mail address is matched as typed
        for word in _KEY_SPLIT.split(chunk):
            if not word.isalpha():
                continue
            keys.add(word)
            if is_fuzzy(word):
                keys |= deletions(word)
    return f" {' '.join(sorted(keys))} " if keys else ""


def query_keys(word: str) -> list[str]:
    """The keys to look up for a typed word (:func:`typo_keys`)."""
    return sorted({word} | deletions(word))


def search_text(*parts: str, phone: str = "") -> str:
    """The stored search column: the folded parts and the phone's digits, one line."""
    words = [fold(part) for part in parts]
    if phone_digits := digits(phone):
        words.append(phone_digits)
    return " ".join(word for word in words if word)


@dataclass(frozen=True)
class Query:
    """A typed search, folded: its words, or the digits of a phone number."""

    words: tuple[str, ...] = ()
    phone: str = ""

    def __bool__(self) -> bool:
        return bool(self.words or self.phone)

    @property
    def phone_tail(self) -> str:
        return self.phone[-PHONE_TAIL:]


def parse(q: str) -> Query:
    """``q`` as typed. Only digits, spaces and ``+ ( ) . / -`` with at least three digits is
    a phone number; anything else is words (at most :data:`MAX_WORDS`)."""
    q = (q or "").strip()
    if _PHONE.match(q) and len(digits(q)) >= 3:
        number = digits(q)
        if number.startswith("00"):  # 00420… is +420…
            number = number[2:]
        return Query(phone=number)
    return Query(words=tuple(fold(q).split()[:MAX_WORDS]))


def is_fuzzy(word: str) -> bool:
    """Whether a word is also matched with one typo: letters only, long enough."""
    return len(word) >= FUZZY_MIN_LENGTH and word.isalpha()


def typo_variants(word: str) -> list[str]:
    """``word`` and every spelling one typo away from it (a letter wrong, missing, extra, or
    two neighbours swapped), as regular-expression branches where ``[a-z…]`` is a letter."""
    any_letter = "[^ .@+_-]"
    variants = {word}
    for i in range(len(word)):
        variants.add(word[:i] + any_letter + word[i + 1 :])  # wrong letter
        variants.add(word[:i] + word[i + 1 :])  # an extra letter was typed
        if i + 1 < len(word):
            variants.add(word[:i] + word[i + 1] + word[i] + word[i + 2 :])  # swapped
    for i in range(len(word) + 1):
        variants.add(word[:i] + any_letter + word[i:])  # a letter was left out
    return sorted(variants, key=lambda v: (-len(v), v))


#: What separates words in a search column for the typo match ("parker-novakova",
#: "jan.novak@example.cz" hold several).
_EDGE = "[ .@+_-]"


def typo_regex(word: str) -> str:
    """A regular expression (the same in PostgreSQL and Python) that finds ``word`` or a
    spelling one typo away as a whole word of a search column. Whole words only: as a
    prefix, "jonh" one typo away would be every name starting "jon"."""
    return f"(^|{_EDGE})(" + "|".join(typo_variants(word)) + f")($|{_EDGE})"
