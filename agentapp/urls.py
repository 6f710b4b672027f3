from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.http import require_safe
from django.views.generic.base import RedirectView

from . import views
from .accounts import views as account_views
from .api import api

handler400 = "agentapp.views.bad_request"
handler404 = "agentapp.views.not_found"
handler500 = "agentapp.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("agentapp.observability.urls")),
    # Pages name their icon; this is for whatever asks the old way.
    path("favicon.ico", require_safe(RedirectView.as_view(url=static("favicon.svg"), permanent=True))),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("memories/", include("memory_app.urls")),
    path("api/", api.urls),
    path("os/", include("agentos_app.urls")),  # Agno's AgentOS routes, for its clients and agent-ui
    path("settings/api-keys/", include("apikeys.urls")),
    path("", include("slack_app.urls")),  # /slack/events/ and /settings/slack/...
    path("settings/", include("agentapp.accounts.urls")),  # /settings/ and /settings/data/
    path("settings/theme/", account_views.theme_set, name="theme"),
    path("", include("sessions_app.timeline.urls")),
    path("", include("sessions_app.urls")),
]
