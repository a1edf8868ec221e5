"""The coordinator inbox: web pages under /inbox on the gateway, where practice staff pick up safety
flags, conversations handed to a person and open tasks. See `bot/inbox/app.py`."""
from bot.inbox.app import inbox_blueprint

__all__ = ["inbox_blueprint"]
