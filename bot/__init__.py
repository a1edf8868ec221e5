"""CAN005 SMS outreach assistant: the gateway, outbox, database and command line around the Rasa bot.

Data flows one way, one package per step:

    Twilio webhook -> bot.webhook (verify, store, answer) -> bot.inbound (the stored text, processed in
    order per number) -> bot.safety (every text screened first) -> bot.dialogue (keywords, the Rasa turn)
    -> bot.outbox (queued once) -> bot.sender (to Twilio, at most once)

bot.processes holds the two long-running processes (the gateway and the background process) that
run those steps; bot.inbox is the coordinators' web inbox; the rest of bot/ are the nouns the steps
share (patients, practice scripts, check-in, booking, records, reports).
"""
