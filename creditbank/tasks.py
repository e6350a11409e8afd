from celery import shared_task

from creditbank import services


@shared_task(name="creditbank.expire_outcomes")
def expire_outcomes() -> int:
    """Daily (Celery beat): unused credits of expired certificates leave the balance."""
    return services.outcomes_expire()
