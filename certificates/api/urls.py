from django.urls import path

from certificates.api import views

app_name = "certificates-api"

urlpatterns = [
    path("verify/<str:code>/", views.VerifyView.as_view(), name="verify"),
]
