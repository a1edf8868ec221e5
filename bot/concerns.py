"""The concern check-in: the areas a patient can name and the parsers for their replies.

The areas follow the Holistic Needs Assessment domains (../shared/reference/clinical.md); the
wording of every question lives in the practice script.
"""
from __future__ import annotations

# Area key -> short label used in texts and in the coordinator's view. The order is the numbered
# list the patient sees ("1 physical ... 6 lifestyle or information").
AREAS: dict[str, str] = {
    "physical": "physical",
    "emotional": "feelings",
    "practical": "money, work, housing, transport or caring",
    "family": "family and relationships",
    "spiritual": "faith or meaning",
    "lifestyle": "lifestyle or information",
}
