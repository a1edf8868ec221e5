"""Patients and their invitations: register.py imports the practice's cancer register (CSV), cohort.py
is the CAN005 cohort rule (who is due, who was missed), invitations.py sends the first and second
invitation and the reminders, outreach.py adds a patient and opens a conversation; phones.py,
nhs_numbers.py and dates.py read what patients and registers write."""
