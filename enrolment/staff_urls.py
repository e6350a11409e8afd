"""The school staff area, /manage/: one school's programmes, intakes, applications, results, reports."""

from django.urls import path

from enrolment.views import staff as views

app_name = "manage"

school = "<slug:school_slug>/"
programme = school + "programmes/<slug:programme_slug>/"
group = programme + "groups/<int:group_id>/"
intake = school + "intakes/<uuid:intake_id>/"

urlpatterns = [
    path("", views.home, name="home"),
    path(school, views.school_dashboard, name="school"),
    path(school + "programmes/new/", views.programme_create, name="programme_create"),
    path(programme, views.programme_detail, name="programme_detail"),
    path(programme + "edit/", views.programme_edit, name="programme_edit"),
    path(programme + "status/", views.programme_status, name="programme_status"),
    path(programme + "groups/new/", views.group_create, name="group_create"),
    path(group + "edit/", views.group_edit, name="group_edit"),
    path(group + "delete/", views.group_delete, name="group_delete"),
    path(group + "courses/add/", views.group_course_add, name="group_course_add"),
    path(
        group + "courses/<str:course_code>/remove/",
        views.group_course_remove,
        name="group_course_remove",
    ),
    path(school + "courses/", views.course_list, name="course_list"),
    path(school + "courses/new/", views.course_create, name="course_create"),
    path(school + "courses/<str:course_code>/edit/", views.course_edit, name="course_edit"),
    path(school + "intakes/new/", views.intake_create, name="intake_create"),
    path(intake + "edit/", views.intake_edit, name="intake_edit"),
    path(intake + "results/", views.intake_results, name="intake_results"),
    path(intake + "results/upload/", views.intake_results_upload, name="intake_results_upload"),
    path(
        intake + "results/template.csv",
        views.intake_results_template,
        name="intake_results_template",
    ),
    path(school + "applications/", views.application_queue, name="application_queue"),
    path(school + "enrolments/<uuid:public_id>/", views.enrolment_detail, name="enrolment_detail"),
    path(school + "reports/", views.reports, name="reports"),
]
