"""NHS numbers: 10 digits whose last is the modulus-11 check digit of the first nine. Its own module
because both the register import and `outreach patients add` check them (and they import each other
otherwise)."""
from __future__ import annotations

from typing import Optional


def nhs_number_problem(text: str) -> Optional[str]:
    """None for a valid NHS number (10 digits, spaces allowed), else what is wrong with it."""
    digits = text.strip().replace(" ", "")
    if not digits:
        return "is required"
    if len(digits) != 10 or not (digits.isascii() and digits.isdigit()):
        return f"{text.strip()!r} is not 10 digits"
    if len(set(digits)) == 1:
        return f"{text.strip()!r} is not an NHS number (all digits the same)"
    total = sum(int(d) * weight for d, weight in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10 or check != int(digits[9]):
        return f"{text.strip()!r} fails the NHS number check digit (modulus 11)"
    return None


def nhs_number_is_valid(text: str) -> bool:
    """True for a valid NHS number: 10 digits (spaces allowed) whose last digit is the modulus-11
    check digit of the first nine. A check digit of 10 means the number is not valid."""
    return nhs_number_problem(text) is None
