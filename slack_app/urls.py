from __future__ import annotations

from django.urls import path

from . import views

app_name = "slack"

urlpatterns = [
    path("slack/events/", views.slack_events, name="events"),
    path("settings/slack/link/<str:token>/", views.link_page, name="link"),
    path("settings/slack/<int:pk>/unlink/", views.unlink, name="unlink"),
]
