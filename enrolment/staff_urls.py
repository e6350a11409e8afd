from django.urls import path

from enrolment.views import staff as views

app_name = "manage"
urlpatterns = [
    path("", views.home, name="home"),
]
