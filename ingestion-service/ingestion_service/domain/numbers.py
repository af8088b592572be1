"""Numbers as planners' exports write them, parsed straight to Decimal (casebook C07).

Accepted: surrounding spaces, full-width digits and punctuation (１２，３４５．６), thousands
separators in their proper places, a currency sign (¥ ￥ $) or a trailing 元, a leading minus.
Blank means "no value" (None). Anything else is refused with a reason: a number is never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from functools import lru_cache

_PLAIN = re.compile(r"^(\d+(\.\d*)?|\.\d+)$")
_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d*)?$")
_CURRENCY_SIGNS = ("¥", "$", "元")
_UNIT_SUFFIXES = ("°c", "℃", "°")


class NumberError(ValueError):
    pass


def normalize_text(value: str) -> str:
    """NFKC folds full-width digits, commas, dots, ￥ and ideographic spaces to their ASCII forms."""
    return unicodedata.normalize("NFKC", value).strip()


def parse_decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise NumberError(f"not a number: {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    return _parse_decimal_text(value)


@lru_cache(maxsize=65536)
def _parse_decimal_text(value: str) -> Decimal | None:
    """Cached: real files repeat the same few thousand cell texts (Decimal is immutable)."""
    text = normalize_text(value)
    if text == "":
        return None
    negative = False
    if text.startswith("-"):
        negative, text = True, text[1:].strip()
    for sign in _CURRENCY_SIGNS:
        if text.startswith(sign):
            text = text[len(sign):].strip()
        if text.endswith(sign):
            text = text[: -len(sign)].strip()
    if not negative and text.startswith("-"):
        negative, text = True, text[1:].strip()
    if _GROUPED.match(text):
        text = text.replace(",", "")
    elif "," in text:
        raise NumberError(f"misplaced thousands separator in {value!r}")
    if not _PLAIN.match(text):
        raise NumberError(f"not a number: {value!r}")
    number = Decimal(text)
    return -number if negative else number


def parse_count(value: object) -> int | None:
    """A whole, non-negative count (orders, units, quantities)."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    number = parse_decimal(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise NumberError(f"not a whole number: {value!r}")
    if number < 0:
        raise NumberError(f"a count cannot be negative: {value!r}")
    return int(number)


def parse_temperature(value: object) -> Decimal | None:
    """Degrees Celsius, with or without a trailing ℃ / °C / °."""
    if isinstance(value, str):
        text = normalize_text(value)
        lowered = text.lower()
        for suffix in _UNIT_SUFFIXES:
            if lowered.endswith(suffix):
                text = text[: -len(suffix)]
                break
        value = text
    return parse_decimal(value)
