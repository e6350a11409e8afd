"""Enrolment pages: the public catalogue and learner area (learner.py), the school staff area (staff.py)."""
