from django.urls import path

from creditbank.views import learner as views

app_name = "credits"
urlpatterns = [
    path("me/credits/", views.placeholder, name="home"),
]
