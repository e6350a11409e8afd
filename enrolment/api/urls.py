from django.urls import path
from rest_framework.routers import SimpleRouter

from enrolment.api import views

app_name = "enrolment-api"

router = SimpleRouter()
router.register("programmes", views.ProgrammeViewSet, basename="programme")
router.register("courses", views.CourseViewSet, basename="course")
router.register("intakes", views.IntakeViewSet, basename="intake")
router.register("me/enrolments", views.MyEnrolmentViewSet, basename="my-enrolment")
router.register(
    r"manage/schools/(?P<school_slug>[-\w]+)/enrolments", views.SchoolApplicationViewSet, basename="school-enrolment"
)

urlpatterns = router.urls + [
    path(
        "manage/intakes/<uuid:intake_public_id>/results/",
        views.IntakeResultsViewSet.as_view({"post": "create"}),
        name="intake-results",
    ),
]
