from rest_framework.routers import SimpleRouter

app_name = "creditbank-api"
router = SimpleRouter()
urlpatterns = router.urls
