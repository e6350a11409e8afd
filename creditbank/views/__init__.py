"""Credit-bank pages: the learner's (learner.py) and the officers' (officer.py)."""
