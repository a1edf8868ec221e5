"""Every text to a patient or a member of staff, queued once (queue.py): an idempotency key per text,
a priority (safety nets first), and the delivery status Twilio reports."""
