"""Every app's API under /api/v1/."""

from django.urls import include, path

urlpatterns = [
    path("", include("schools.api.urls")),
    path("", include("enrolment.api.urls")),
    path("", include("creditbank.api.urls")),
    path("", include("certificates.api.urls")),
]
