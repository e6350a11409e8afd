"""Public verification, no login: the pages, the signed credential, issuer profiles, status lists."""

from django.urls import path

from certificates.views import public

app_name = "verify"
urlpatterns = [
    path("verify/", public.lookup, name="lookup"),
    path("verify/<str:code>/", public.page, name="page"),
    path("verify/<str:code>/credential.json", public.credential, name="credential"),
    path("credentials/issuers/<slug:slug>/", public.issuer, name="issuer"),
    path("credentials/achievements/<path:path>", public.achievement, name="achievement"),
    path("credentials/issuers/<slug:slug>/keys/<int:version>/", public.issuer_key, name="issuer_key"),
    path(
        "credentials/issuers/<slug:slug>/status/<slug:purpose>/<int:list_number>/",
        public.issuer_status_list, name="issuer_status_list",
    ),
    path("credentials/status/<int:list_number>/", public.status_list, name="status_list"),
]
