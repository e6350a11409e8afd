# The Celery app is loaded with Django so that @shared_task binds to it and
# transaction-aware queueing works from the first request.
from ouc_portal.celery import app as celery_app

__all__ = ["celery_app"]
