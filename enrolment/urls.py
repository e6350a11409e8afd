from django.urls import path

from enrolment.views import learner as views

app_name = "enrolment"
urlpatterns = [
    path("programmes/", views.programme_list, name="programme_list"),
    path("programmes/<slug:slug>/", views.programme_detail, name="programme_detail"),
    path("intakes/<uuid:public_id>/apply/", views.intake_apply, name="intake_apply"),
    path("me/", views.my_dashboard, name="my_dashboard"),
    path("me/profile/", views.my_profile, name="my_profile"),
    path("me/enrolments/<uuid:public_id>/", views.my_enrolment, name="my_enrolment"),
]
