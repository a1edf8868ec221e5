"""Rasa custom actions (rasa-sdk). Every patient-facing text comes from the practice script."""
