from __future__ import annotations

from django.urls import path

from . import views

app_name = "apikeys"

urlpatterns = [
    path("", views.apikey_list, name="list"),
    path("<int:pk>/revoke/", views.apikey_revoke_view, name="revoke"),
]
