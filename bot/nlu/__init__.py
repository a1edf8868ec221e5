"""Reading patients' words without a downloaded model: english.py (spaCy's blank English pipeline
with lookup lemmas from spacy-lookups-data), spelling.py (the fallback for misspelt key words)."""
