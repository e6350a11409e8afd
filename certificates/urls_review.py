"""The partner-association reviewers' desk (/review/). Included at the site root; requests and
batches are addressed by their public UUIDs, certificates by their serial numbers."""

from django.urls import path

from certificates.views import review as views
from certificates.views import tokens as token_views

app_name = "review"

desk = "review/"

urlpatterns = [
    path(desk, views.queue, name="queue"),
    path(desk + "bulk/", views.bulk, name="bulk"),
    path(desk + "requests/<uuid:public_id>/", views.request_detail, name="request"),
    path(desk + "batches/<uuid:public_id>/", views.batch, name="batch"),
    path(
        desk + "batches/<uuid:public_id>/progress.json", views.batch_progress, name="batch_progress"
    ),
    path(desk + "certificates/", views.certificates, name="certificates"),
    path(desk + "certificates/<str:serial>/revoke/", views.revoke, name="revoke"),
    # Partner systems' API tokens (certificates.views.tokens).
    path(desk + "tokens/", token_views.token_list, name="tokens"),
    path(desk + "tokens/new/", token_views.token_create, name="token_create"),
    path(desk + "tokens/<uuid:public_id>/revoke/", token_views.token_revoke, name="token_revoke"),
]
