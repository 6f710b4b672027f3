from __future__ import annotations

from django.urls import path

from . import run_views

app_name = "runs"

urlpatterns = [
    path("runs/", run_views.run_list, name="list"),
    path("runs/<str:run_id>/", run_views.run_detail, name="detail"),
    path("runs/<str:run_id>/context/", run_views.run_context, name="context"),
    path("runs/<str:run_id>/events/<int:event_id>/", run_views.run_event, name="event"),
    path("sessions/<str:session_id>/timeline/", run_views.session_timeline, name="session_timeline"),
]
