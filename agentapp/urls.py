from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import account_views, views
from .api import api

handler400 = "agentapp.views.bad_request"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("memories/", include("memory_app.urls")),
    path("api/", api.urls),
    path("settings/api-keys/", include("apikeys.urls")),
    path("settings/data/", account_views.data_page, name="account-data"),
    path("settings/data/export.json", account_views.data_export, name="account-data-export"),
    path("settings/data/erase/", account_views.data_erase, name="account-data-erase"),
    path("", include("sessions_app.run_urls")),
    path("", include("sessions_app.urls")),
]
