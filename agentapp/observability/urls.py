from __future__ import annotations

from django.urls import path

from . import views

app_name = "observability"

urlpatterns = [
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
    path("status/", views.status_page, name="status"),
]
