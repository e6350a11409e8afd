from django.urls import path
from rest_framework.routers import SimpleRouter

from certificates.api import review, views

app_name = "certificates-api"

# The reviewers' desk, for reviewers and partner systems' API tokens.
router = SimpleRouter()
router.register("review/requests", review.ReviewRequestViewSet, basename="review-request")
router.register("review/certificates", review.ReviewCertificateViewSet, basename="review-certificate")

urlpatterns = [
    path("verify/<str:code>/", views.VerifyView.as_view(), name="verify"),
    *router.urls,
]
