"""Signals the credit bank sends to the apps above it (certificates)."""

from django.dispatch import Signal

# Sent inside the revoking transaction; receivers flag what was built on the outcome.
# Arguments: outcome, conversions, transfers, reason.
outcome_revoked = Signal()
