"""The sending end of the message path: texts from the outbox to Twilio, at most once (sender.py),
through the twilio library (twilio_client.py), within the practice's send window (send_window.py),
counted in SMS parts (segments.py)."""
