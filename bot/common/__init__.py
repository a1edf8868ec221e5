"""What every package shares: clock.py (the one clock, London time and English bank holidays),
csv_files.py (the one CSV reader for registers and slots), log_privacy.py (no personal data in logs)."""
