"""The check-in: replies.py reads the concern scores (0-10), the areas of worry and the slot choice
from what patients text back."""
