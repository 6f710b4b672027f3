from __future__ import annotations

from django.urls import path, re_path

from . import views
from .api import os_api

urlpatterns = [
    path("", views.not_served, {"rest": ""}, name="agentos-root"),  # a base URL, not a page: JSON too
    path("", os_api.urls),
    # Whatever else an AgentOS client asks for (knowledge, evals, teams' runs, workflows...): a JSON 404.
    re_path(r"^(?P<rest>.*)$", views.not_served, name="agentos-not-served"),
]
