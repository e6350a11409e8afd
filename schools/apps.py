from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchoolsConfig(AppConfig):
    name = "schools"
    verbose_name = _("Industry schools")

    def ready(self) -> None:
        from ouc_portal.accounts.roles import register_staff_role
        from ouc_portal.audit.receivers import audit_grants
        from schools.models import Membership
        from schools.roles import holds_staff_role

        # Memberships are the roles beyond learner: the kernel's second factor and account
        # closing ask through this.
        register_staff_role(holds_staff_role)
        audit_grants(Membership, action="schools.membership", dispatch_uid="audit-membership")
