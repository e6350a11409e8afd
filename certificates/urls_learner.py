from django.urls import path

from certificates.views import learner

app_name = "certs"
urlpatterns = [
    path("me/certificates/", learner.home, name="home"),
]
