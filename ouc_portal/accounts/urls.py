"""The signed-in person's own data and account: /me/data/ and /me/close/."""

from django.urls import path

from ouc_portal.accounts import views

app_name = "me"
urlpatterns = [
    path("me/data/", views.my_data, name="data"),
    path("me/data/export.json", views.my_data_download, name="data_download"),
    path("me/close/", views.close_account, name="close"),
]
