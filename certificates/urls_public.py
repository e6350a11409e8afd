from django.urls import path

from certificates.views import public

app_name = "verify"
urlpatterns = [
    path("verify/<str:code>/", public.page, name="page"),
]
