"""Replaces personal data in a user's message by placeholders, before anything stores or logs it.

People write phone numbers, e-mail addresses, passport and ID numbers to this assistant, often in
distress, although the page asks them not to. None of it is needed to answer, so it never reaches
NLU, the tracker store, the event broker or a log: `channels/guard.py` calls `redact_message` on
every message of every channel.

What is replaced (docs/privacy.md):
- `[email]`: e-mail addresses, also written `name (at) domain.org`, `name arobase domain.fr`,
  `nombre arroba dominio.es`;
- `[phone]`: phone numbers in international form (`+33 6 12 34 56 78`, `0033 6...`, `+1 (212)
  555-0123`), and in the national forms of the countries our users write from, checked with
  Google's libphonenumber data (`phonenumbers`): `06 12 34 56 78`, `06.12.34.56.78`,
  `07911 123456`, `(212) 555-0123`, `612 34 56 78`, `77 123 45 67`...; a run of 9 to 12 digits
  that starts with a trunk `0` is taken for a phone number even when no region knows it;
- `[number]`: IBANs (checksum, `stdnum.iban`), card numbers (13 to 19 digits passing the Luhn
  check, `stdnum.luhn`), any other run of 12 or more digits (social security and national ID
  numbers), letter-digit runs with 5 or more digits (passports `12AB34567`, DNI `12345678Z`,
  NIE `X1234567L`, `AB 123456`), runs of 7 or more digits, and a number of 4 or more digits
  right after a word such as passport, dossier, número, visa, ID.

What is kept, because people ask about it: years and year ranges (`1951`, `2015-2030`), dates
(`18/12/1990`), counts (`175`, `18 000`, `281 000 000`: round numbers are never phone numbers
here), `10.7`, `COVID-19`, `A/RES/70/1`, `G20`.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Optional

import phonenumbers
from stdnum import iban, luhn

from privacy.identity import ADDRESS, BIRTHDATE, NAME, redact_identity

EMAIL = "[email]"
PHONE = "[phone]"
NUMBER = "[number]"
__all__ = ["ADDRESS", "BIRTHDATE", "EMAIL", "NAME", "NUMBER", "PHONE", "redact", "redact_data",
           "redact_message"]

# National numbers are checked against these regions' numbering plans: the countries whose people
# most often write to IOM in French, English or Spanish, and their neighbours. International
# numbers (+ or 00) need no region. Each region costs ~50 µs, and only on messages with 8+ digits.
PHONE_REGIONS = (
    "FR", "BE", "CH", "LU", "CA", "US", "GB", "IE", "ES", "MX", "CO", "VE", "AR", "PE", "MA",
    "DZ", "TN", "SN", "CI", "CM", "CD", "HT", "NG", "GH", "DE", "IT", "PT",
)
# Regions where a number written the national way always starts with its trunk prefix 0
# (06 12 34 56 78, 07911 123456): without it, 9 or 10 digits are more likely an ID number.
_TRUNK_ZERO = {"FR", "BE", "CH", "LU", "GB", "IE", "MA", "DZ", "NG", "GH", "DE"}

_AT = r"(?:\s?[@＠]\s?|\s?[(\[{]\s?(?:at|arobase|arroba)\s?[)\]}]\s?|\s(?:arobase|arroba)\s)"
_DOT = r"(?:\.|\s?[(\[{]\s?(?:dot|point|punto)\s?[)\]}]\s?)"
# Lengths are bounded (RFC 5321 allows 64 characters before the @) so that no message can make
# the patterns backtrack for long.
_EMAIL = re.compile(
    rf"[\w.+'-]{{0,63}}\w{_AT}[\w-]{{1,63}}(?:{_DOT}[\w-]{{1,63}}){{0,6}}{_DOT}[^\W\d_]{{2,24}}\b",
    re.IGNORECASE,
)
_MAY_HOLD_EMAIL = re.compile(r"[@＠]|[(\[{]\s?at\s?[)\]}]|arobase|arroba|\sat\s", re.IGNORECASE)
# "grace at yahoo.com": " at " is also an everyday word ("look at iom.int"), so only with a
# local part that looks like one (a dot, _, +, - or a digit in it) or a mail provider's domain.
_MAIL_PROVIDERS = (
    r"gmail|googlemail|yahoo|ymail|rocketmail|hotmail|outlook|live|msn|icloud|me|mac|aol"
    r"|orange|wanadoo|free|sfr|laposte|neuf|bbox|gmx|web|protonmail|proton|pm|yandex|mail"
    r"|zoho|tutanota|rediffmail|qq|163|126"
)
_EMAIL_AT_WORD = re.compile(
    r"(?<![\w.+'-])(?:[\w+'-]{1,63}[._+\-\d][\w.+'-]{0,62}\s+at\s+[\w-]{1,63}"
    rf"|[\w+'-]{{1,64}}\s+at\s+(?:{_MAIL_PROVIDERS}))"
    r"(?:\.[\w-]{1,63}){0,5}\.[^\W\d_]{2,24}\b",
    re.IGNORECASE,
)

# IBAN: country, check digits, then the account in groups (or not).
# Case-insensitive: people type IBANs in lower case too ("fr76 3000 ..."), and a half-matched one
# would leave its letters and first digits in the text.
_IBAN = re.compile(
    r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?(?=[A-Z]*\d)[A-Z0-9]{1,4})?\b", re.IGNORECASE)

# Runs of digits with the separators people put in phone, card and ID numbers. \d also matches
# other scripts' digits (Arabic-Indic...), which phonenumbers reads too.
_DIGIT_RUN = re.compile(r"(?<![\w+])(?:\+\s?)?\(?\d[\d\s().\-/]{0,40}\d(?!\w)")
_SEPARATORS = re.compile(r"[\s().\-/+]")

# Phone numbers written with commas or underscores between the groups ("06,12,34,56,78",
# "06_12_34_56_78"): one separator throughout, a leading 0 or +, 9 to 13 digits. (Commas are not
# separators in general: "articles 10, 11, 12 and 13" is a list.)
_SEPARATED_PHONE = re.compile(r"(?<![\w,+])\+?0?\d{1,4}(?:([,_])\d{1,4})(?:\1\d{1,4}){2,6}(?![\w,]?\d)")


def _separated_phone(match: "re.Match[str]") -> str:
    raw = match.group(0)
    digits = sum(c.isdigit() for c in raw)
    if (raw.startswith("0") or raw.startswith("+")) and 9 <= digits <= 13:
        return PHONE
    return raw


# Dates and year ranges, which are questions, not personal data.
_YEAR = r"(?:1[89]|20)\d\d"
_KEEP_SHAPES = re.compile(
    rf"^(?:{_YEAR}\s*[-/–]\s*{_YEAR}|{_YEAR}\s+{_YEAR}"
    rf"|\d{{1,2}}\s*[./ -]\s*\d{{1,2}}\s*[./ -]\s*(?:{_YEAR}|\d\d)"
    rf"|{_YEAR}\s*[./-]\s*\d{{1,2}}\s*[./-]\s*\d{{1,2}})$"
)

# Thousands separators: 1-3 digits, then groups of exactly 3 (space, no-break space, dot, comma).
_THOUSANDS = re.compile(r"^\d{1,3}(?:[\s.,]\d{3})+$")

# Letter-digit runs (passports, ID cards, residence permits): 5+ digits among letters.
_ALNUM_ID = re.compile(
    r"(?<![\w\[])(?=[A-Za-z]{0,23}\d)(?=\d{0,23}[A-Za-z])[A-Za-z0-9]{6,24}(?![\w\]])"
)
_PREFIXED_ID = re.compile(r"(?<![\w\[])([A-Z]{1,3})([ -]?)(\d{6,12}[A-Z]?)(?![\w\]])")

# A shorter number right after a word that says it is an identifier.
_ID_WORDS = (
    r"passeport|passport|pasaporte|dossier|expediente|file|case|caso|n[°º]|no\.|num[ée]ro|número"
    r"|number|id|dni|nie|nir|cni|carte|card|tarjeta|titre|permis|permit|visa|agdref|récépissé"
    r"|matricule|r[ée]f[ée]rence|referencia|ref"
)
_ID_WORD = re.compile(rf"(?i){_ID_WORDS}")
_ID_AFTER_WORD = re.compile(
    rf"(?i)(?<!\w)(?:{_ID_WORDS})(?!\w)(?:\W{{1,3}}[^\W\d]{{1,12}}){{0,3}}\W{{1,3}}"
    r"([A-Za-z]{0,3}-?\d{5,}[A-Za-z]?)(?![\w\]])"
)


def _has_letter_and_digits(token: str, digits: int) -> bool:
    return sum(c.isdigit() for c in token) >= digits and any(c.isalpha() for c in token)


def _is_phone(candidate: str) -> bool:
    """A valid number in international form, or in the national form of one of PHONE_REGIONS."""
    candidate = candidate.strip()
    if candidate.startswith("+"):
        regions: Iterable[Optional[str]] = (None,)
    elif candidate.lstrip("(").startswith("0"):
        regions = PHONE_REGIONS
    else:
        regions = [region for region in PHONE_REGIONS if region not in _TRUNK_ZERO]
    for region in regions:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True
    return False


def _is_count_or_list(candidate: str, international: bool) -> bool:
    """'25 678 901', '12.345.678', '128,134,938' (counts with thousands separators), '1951 1956
    1989' (years), '1 2 3 4 5 6 7' (a list of small numbers): questions, not phone numbers."""
    if international:
        return False
    groups = re.findall(r"\d+", candidate)
    if groups[0].startswith("0") and 9 <= sum(len(group) for group in groups) <= 12:
        return False  # "0 6 1 2 3 4 5 6 7 8", "0 612 345 678": a trunk 0, never a count
    if all(re.fullmatch(_YEAR, group) for group in groups):
        return True
    if sum(len(group) == 1 for group in groups) * 2 > len(groups):
        return True
    return bool(_THOUSANDS.match(candidate)) and (len(groups[0]) <= 2 or "," in candidate)


def _digit_run(match: "re.Match[str]") -> str:
    raw = match.group(0)
    digits = "".join(c for c in raw if c.isdigit())
    count = len(digits)
    stripped = raw.strip()
    international = stripped.startswith("+") or (stripped.startswith("00") and count > 2 and digits[2] != "0")
    if count < 7 or _KEEP_SHAPES.match(stripped) or _is_count_or_list(stripped, international):
        return raw
    ascii_digits = "".join(str(int(c)) for c in digits)  # other scripts' digits, for the checks
    if not international and ascii_digits.endswith("000") and not ascii_digits.startswith("0"):
        return raw  # a round count ("281 000 000"), never a phone number here
    lead = raw[: len(raw) - len(raw.lstrip())]
    if international and count <= 15:
        return lead + PHONE
    if 13 <= count <= 19 and luhn.is_valid(ascii_digits):
        return lead + NUMBER  # a card number
    if 8 <= count <= 15 and _is_phone(stripped):
        return lead + PHONE
    if count >= 12:
        return lead + NUMBER
    if count >= 9 and ascii_digits.startswith("0"):
        return lead + PHONE
    if count >= 9 or not _SEPARATORS.search(stripped):
        return lead + NUMBER  # an ID number (7+ digits in one piece, or 9+)
    return raw  # 7 or 8 digits in groups: a count ("12 345 678") more likely than anything


def _iban(match: "re.Match[str]") -> str:
    raw = match.group(0)
    compact = re.sub(r"[ -]", "", raw).upper()
    if iban.is_valid(compact) or sum(c.isdigit() for c in compact) >= 10:
        return NUMBER
    return raw


def _prefixed_id(match: "re.Match[str]") -> str:
    """'AB 123456' (an ID with its letters apart) -> [number]; 'DNI 12345678' -> 'DNI [number]'."""
    letters, separator, _ = match.groups()
    if separator and _ID_WORD.fullmatch(letters):
        return letters + separator + NUMBER
    return NUMBER


def _id_after_word(match: "re.Match[str]") -> str:
    token = match.group(1)
    digits = "".join(c for c in token if c.isdigit())
    if len(digits) == 4 and re.fullmatch(_YEAR, digits) and digits == token:
        return match.group(0)  # "visa depuis 2019": a year
    start, end = match.span(1)
    base = match.start(0)
    text = match.group(0)
    return text[: start - base] + NUMBER + text[end - base:]


def redact(text: Any) -> Any:
    """`text` with personal data replaced by [email], [name], [address], [birthdate], [phone],
    [number]; non-strings unchanged."""
    if not isinstance(text, str) or not text:
        return text
    if _MAY_HOLD_EMAIL.search(text):
        text = _EMAIL.sub(EMAIL, text)
        text = _EMAIL_AT_WORD.sub(EMAIL, text)
    text = redact_identity(text)
    if not any(c.isdigit() for c in text):
        return text
    text = _SEPARATED_PHONE.sub(_separated_phone, text)
    text = _IBAN.sub(_iban, text)
    text = _DIGIT_RUN.sub(_digit_run, text)
    text = _PREFIXED_ID.sub(_prefixed_id, text)
    text = _ALNUM_ID.sub(lambda m: NUMBER if _has_letter_and_digits(m.group(0), 5) else m.group(0), text)
    text = _ID_AFTER_WORD.sub(_id_after_word, text)
    return text


def redact_data(value: Any, depth: int = 0) -> Any:
    """Every string in a JSON-like value (message metadata) redacted; structure kept."""
    if isinstance(value, str):
        return redact(value)
    if depth >= 8:
        return value
    if isinstance(value, dict):
        return {key: redact_data(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_data(item, depth + 1) for item in value]
    return value


def redact_message(message: Any) -> None:
    """Redacts a Rasa `UserMessage` in place: its text and its metadata (which the tracker store
    keeps with the message)."""
    message.text = redact(message.text)
    if isinstance(getattr(message, "metadata", None), dict):
        message.metadata = redact_data(message.metadata)
