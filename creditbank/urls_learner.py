from django.urls import path

from creditbank.views import learner as views

app_name = "credits"
urlpatterns = [
    path("me/credits/", views.home, name="home"),
    path("me/credits/file.json", views.lifelong_file, name="lifelong_file"),
    path("me/credits/outcomes/new/", views.outcome_submit, name="outcome_submit"),
    path("me/credits/outcomes/<uuid:public_id>/", views.outcome_detail, name="outcome_detail"),
    path("me/credits/evidence/<uuid:public_id>/", views.evidence_download, name="evidence_download"),
    path("me/credits/audit/<uuid:public_id>/", views.audit, name="audit"),
    path("me/credits/audit/<uuid:public_id>/what-if/", views.what_if, name="what_if"),
]
