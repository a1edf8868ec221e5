"""Stored texts, processed in order per number: store.py writes each webhook's text once (by Twilio's
MessageSid); processor.py takes each text through the safety screen, then keywords, then the dialogue,
and queues the replies."""
