"""Twilio -> us: the gateway verifies each webhook, stores it and answers in milliseconds. intake.py
writes texts and delivery callbacks in batches on one thread, spool.py keeps them on disk while the
database is down, wake.py tells the background process that work has arrived."""
