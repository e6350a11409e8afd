from django.urls import path
from rest_framework.routers import SimpleRouter

from creditbank.api import views

app_name = "creditbank-api"

router = SimpleRouter()
# The learner's own.
router.register("me/ledger", views.MyLedgerViewSet, basename="my-ledger")
router.register("me/outcomes", views.MyOutcomeViewSet, basename="my-outcome")
router.register("me/audits", views.MyAuditViewSet, basename="my-audit")
# A school's learners, read-only.
router.register(r"manage/schools/(?P<school_slug>[-\w]+)/audits", views.SchoolAuditViewSet, basename="school-audit")
# Credit-bank officers.
router.register("credit-bank/outcomes", views.OfficerOutcomeViewSet, basename="officer-outcome")
router.register("credit-bank/conversions", views.ConversionViewSet, basename="conversion")
router.register("credit-bank/transfers", views.TransferViewSet, basename="transfer")
router.register("credit-bank/accounts", views.AccountViewSet, basename="account")


def versioned(prefix: str, viewset, name: str) -> list:
    """Standards and rules are addressed by code and version, never by a database id."""
    return [
        path(f"{prefix}/", viewset.as_view({"get": "list", "post": "create"}), name=f"{name}-list"),
        path(
            f"{prefix}/<str:code>/<int:version>/",
            viewset.as_view({"get": "retrieve", "put": "update"}),
            name=f"{name}-detail",
        ),
        path(
            f"{prefix}/<str:code>/<int:version>/new-version/",
            viewset.as_view({"post": "new_version"}),
            name=f"{name}-new-version",
        ),
    ]


urlpatterns = [
    path("me/credit-account/", views.MyCreditAccountViewSet.as_view({"get": "retrieve"}), name="my-credit-account"),
    *versioned("credit-bank/standards", views.StandardViewSet, "standard"),
    *versioned("credit-bank/rules", views.RuleViewSet, "rule"),
    *router.urls,
]
