"""Who speaks, and the Rasa turn: keywords.py reads STOP, START and HELP before anything else;
rasa_client.py runs a turn on the Rasa servers (round robin, skipping one that is down)."""
