"""Reports: can005.py (the CAN005 figures and the report in text, CSV and SVG), export.py (the
clinical codes for the GP record, CSV and FHIR), retention.py (`outreach purge`)."""
