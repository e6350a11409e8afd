"""Signals the enrolment app sends to the apps above it (the credit bank, certificates).

Receivers run inside the sender's transaction, so what they write commits or rolls back with it.
"""

from django.dispatch import Signal

# Sent once per batch of newly recorded course results; ``results`` is a list of CourseResult.
results_recorded = Signal()
# Sent when an enrolment becomes completed; ``enrolment`` is the Enrolment.
enrolment_completed = Signal()
# Sent when several enrolments become completed at once; ``enrolments`` is a list of Enrolment.
enrolments_completed = Signal()
# Sent when a person becomes a learner; ``learner`` is the new Learner.
learner_registered = Signal()
