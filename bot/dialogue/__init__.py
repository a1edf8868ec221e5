"""Who speaks, and the Rasa turn: keywords.py reads STOP, START and HELP before anything else;
endings.py (phrases that end a conversation), contact.py (may the assistant text this patient now?);
rasa_client.py runs a turn on the Rasa servers (round robin, skipping one that is down)."""
