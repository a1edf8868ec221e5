"""A practice's outreach script: loader.py reads and validates practices/*.yml over the defaults in
default_script.yml (every patient-facing text is rendered there); check.py is `outreach scripts check`
and `scripts preview`."""
