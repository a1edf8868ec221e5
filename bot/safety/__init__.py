"""The safety screen and the whole safety policy: every inbound text is screened before anything
else reads it.

triggers.py  what the rules look for: every trigger by category and severity (data)
vocabulary.py  word classes, idioms, negation and resolving words, misspellings (data)
rules.py     compiles the vocabulary (spaCy) and screens a text; `screen`, `warm_up`, `Flag`
context.py   what sets a rule's hit aside (past and over, vaccine fevers, hypotheticals)
model.py     the trained second net (models/safety.pkl; `python -m bot.safety.model train`)
screen.py    the live screen: the rules, then the model; a review when unsure or unreadable
review.py    a text that is not the answer but says something goes to a person
nets.py      which safety-net text a flag gets, the register's urgency, which net raised it,
             the early look at a waiting text
feedback.py  coordinators' marks on the screen (missed flags, false alarms) for the corpus
flag_limits.py  each flag's owner and time limit by severity, per practice (then the escalation ladder)

Kept light on purpose: importing bot.safety loads neither spaCy nor scikit-learn.
"""
