from django.urls import path

from schools import views

app_name = "schools"
urlpatterns = [
    path("", views.home, name="home"),
    path("schools/", views.school_list, name="school_list"),
    path("schools/<slug:slug>/", views.school_detail, name="school_detail"),
    path("associations/", views.association_list, name="association_list"),
    path("associations/<slug:slug>/", views.association_detail, name="association_detail"),
    path("centres/", views.centre_list, name="centre_list"),
    path("centres/<slug:code>/", views.centre_detail, name="centre_detail"),
]
