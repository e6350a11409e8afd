"""The credit-bank officers' desk (/credit-bank/), and a school's read-only view of its learners'
programme audits. Included at the site root; standards and rules are addressed by code and version."""

from django.urls import path

from creditbank.views import officer as views

app_name = "creditbank"

desk = "credit-bank/"
standard = desk + "standards/<str:code>/<int:version>/"
rule = desk + "rules/<str:code>/<int:version>/"

urlpatterns = [
    path(desk, views.home, name="home"),
    path(desk + "outcomes/<uuid:public_id>/", views.outcome_review, name="outcome_review"),
    path(desk + "outcomes/<uuid:public_id>/revoke/", views.outcome_revoke, name="outcome_revoke"),
    path(desk + "evidence/<uuid:public_id>/", views.evidence_download, name="evidence_download"),
    path(desk + "standards/", views.standard_list, name="standard_list"),
    path(desk + "standards/new/", views.standard_create, name="standard_create"),
    path(standard + "edit/", views.standard_edit, name="standard_edit"),
    path(standard + "new-version/", views.standard_new_version, name="standard_new_version"),
    path(desk + "rules/", views.rule_list, name="rule_list"),
    path(desk + "rules/new/", views.rule_create, name="rule_create"),
    path(rule + "edit/", views.rule_edit, name="rule_edit"),
    path(rule + "new-version/", views.rule_new_version, name="rule_new_version"),
    path(desk + "learners/<uuid:public_id>/", views.learner, name="learner"),
    path(
        "manage/<slug:school_slug>/enrolments/<uuid:public_id>/audit/",
        views.school_audit,
        name="school_audit",
    ),
]
