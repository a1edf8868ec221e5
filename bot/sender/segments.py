"""SMS length rules: GSM-7 versus UCS-2 and how many parts a message is sent in."""
from __future__ import annotations

# GSM 03.38 basic character set (one septet each) and its extension table (two septets each).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")
MAX_BODY = 1600


def is_gsm7(text: str) -> bool:
    """True when every character fits GSM-7; one emoji or smart quote makes the whole text UCS-2."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def _pack(unit_sizes: list[int], single_limit: int, part_limit: int) -> int:
    # Multi-part texts lose room to the concatenation header, and a character (a GSM escape
    # pair, a UTF-16 surrogate pair) is never split across parts.
    if sum(unit_sizes) <= single_limit:
        return 1
    parts, used = 1, 0
    for size in unit_sizes:
        if used + size > part_limit:
            parts, used = parts + 1, 0
        used += size
    return parts


def segment_count(text: str) -> int:
    """How many SMS parts `text` is sent as (160/153 for GSM-7, 70/67 for UCS-2)."""
    if is_gsm7(text):
        return _pack([2 if ch in GSM7_EXTENDED else 1 for ch in text], 160, 153)
    # UCS-2 counts UTF-16 code units: an emoji outside the BMP takes two.
    return _pack([2 if ord(ch) > 0xFFFF else 1 for ch in text], 70, 67)
