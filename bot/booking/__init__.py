"""Booking a review: slots.py (bookable slots, weekly sessions, slot import, atomic booking and
reminders), routing.py (which additional role a patient is offered, from their concern scores)."""
