from django.urls import path

from creditbank.views import officer as views

app_name = "creditbank"
urlpatterns = [
    path("credit-bank/", views.placeholder, name="home"),
]
