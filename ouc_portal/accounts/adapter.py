from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from django.contrib.sites.shortcuts import get_current_site
from django.utils.translation import gettext_lazy as _


class AccountAdapter(DefaultAccountAdapter):
    """Keeps email addresses in one case so the same person cannot sign up twice, counts failed
    log-ins per account *and address*, and sends allauth's emails through the outbox."""

    def clean_email(self, email: str) -> str:
        return super().clean_email(email).lower()

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """Failed log-ins are counted per account from one client address (settings'
        ``login_failed``: ``…/key``), besides allauth's count per address (``…/ip``).

        allauth counts them per account alone, so five wrong passwords from anywhere lock the
        account for everyone, renewably: a stranger could keep any staff member out for good.
        Counted per account and address, a stranger only locks themself out, the owner signs in
        from their own address, and guessing from many addresses is still bounded by each
        address's own budget (and, for staff, useless without the second factor, whose code
        tries allauth counts per account). tests/accounts/test_login_limits.py holds it to that.
        """
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}@{self.get_client_ip(request)}"

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


class SecondFactorAdapter(DefaultMFAAdapter):
    """allauth's second-factor messages in the portal's words: a wrong code is a wrong
    *verification code* ("incorrect code" read as "error code" in Chinese)."""

    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "incorrect_code": _("That verification code is not right. Check the six digits in your authenticator app and try again."),
    }
