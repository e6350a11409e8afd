from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ouc_portal import health
from ouc_portal.accounts.views import admin_login

# The admin's own log-in form would sign staff in with the password alone (issue 14): every way
# in goes through allauth's log-in and its second-factor step.
admin.site.login = admin_login

urlpatterns = [
    path("healthz/", health.healthz, name="healthz"),
    path("readyz/", health.readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("ouc_portal.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("manage/", include("enrolment.staff_urls")),
    path("", include("certificates.urls_public")),
    path("", include("certificates.urls_review")),
    path("", include("certificates.urls_learner")),
    path("", include("creditbank.urls_learner")),
    path("", include("creditbank.urls_officer")),
    path("", include("ouc_portal.accounts.urls")),
    path("", include("enrolment.urls")),
    path("", include("schools.urls")),
]

# With DEBUG off: a friendly page, and a 503 with Retry-After when the database is unreachable.
handler500 = "ouc_portal.errors.server_error"

admin.site.site_header = settings.PORTAL_NAME
admin.site.site_title = settings.PORTAL_NAME
