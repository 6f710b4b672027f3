from __future__ import annotations

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.settings_page, name="settings"),
    path("data/", views.data_page, name="data"),
    path("data/export.json", views.data_export, name="data-export"),
    path("data/erase/", views.data_erase, name="data-erase"),
]
