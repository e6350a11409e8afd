from rest_framework.routers import SimpleRouter

from schools.api import views

app_name = "schools-api"

router = SimpleRouter()
router.register("schools", views.SchoolViewSet, basename="school")
router.register("associations", views.AssociationViewSet, basename="association")
router.register("centres", views.CentreViewSet, basename="centre")

urlpatterns = router.urls
