from __future__ import annotations

from django.urls import path

from . import views

app_name = "runs"

urlpatterns = [
    path("runs/", views.run_list, name="list"),
    path("runs/<str:run_id>/", views.run_detail, name="detail"),
    path("runs/<str:run_id>/context/", views.run_context, name="context"),
    path("runs/<str:run_id>/events/<int:event_pk>/", views.run_event, name="event"),
    path("sessions/<path:session_id>/timeline/", views.session_timeline, name="session_timeline"),
]
