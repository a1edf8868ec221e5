"""The long-running processes: gateway.py (the Sanic app Twilio and staff reach: webhooks, the inbox,
the spool replay) and background.py (the processor, the sender, escalations and the wake-up listener).
Both are started by `outreach gateway` and `outreach processor` (bot/cli.py)."""
