from django.urls import path

app_name = "schools-api"
urlpatterns: list = []
