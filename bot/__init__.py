"""CAN005 SMS outreach assistant: the gateway, outbox, database and command line around the Rasa bot.

Data flows one way: Twilio webhook -> store (``bot.inbound.store``) -> safety screen (``bot.safety``) and keywords ->
dialogue (Rasa) -> outbox (``bot.outbox.queue``) -> sender (``bot.sender.sender``) -> Twilio.
"""
