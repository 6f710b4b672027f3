from __future__ import annotations

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.data_page, name="data"),
    path("export.json", views.data_export, name="data-export"),
    path("erase/", views.data_erase, name="data-erase"),
]
