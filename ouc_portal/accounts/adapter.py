from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site


class AccountAdapter(DefaultAccountAdapter):
    """Keeps email addresses in one case so the same person cannot sign up twice, and sends
    allauth's emails through the outbox."""

    def clean_email(self, email: str) -> str:
        return super().clean_email(email).lower()

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render the email in the request (its language and links are the request's), then queue
        it through the outbox instead of sending it here: an SMTP server that is away never fails
        the sign-up, reset or change, and the email is retried and visible to staff (issue 8).

        With eager Celery (no Redis: ``make run``, a bare machine) the task runs at once, in the
        request, as allauth would send it; otherwise a worker sends it after the commit."""
        from celery import current_app

        from ouc_portal.accounts.tasks import message_data, send_rendered_email
        from ouc_portal.outbox.services import enqueue

        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        message = self.render_mail(template_prefix, email, ctx)
        # Holds a confirmation key or a reset link: hidden from logs, blanked once sent.
        enqueue(
            send_rendered_email, message_data(message), sensitive=True,
            on_commit=not current_app.conf.task_always_eager,
        )  # fmt: skip
