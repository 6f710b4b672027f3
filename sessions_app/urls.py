from __future__ import annotations

from django.urls import path

from .chat import views

app_name = "sessions"

urlpatterns = [
    path("chat/new/", views.session_new, name="new"),
    path("chat/sessions/", views.session_list, name="list"),
    path("chat/runs/<str:run_id>/stream/", views.run_events, name="stream"),
    path("chat/runs/<str:run_id>/stop/", views.run_stop, name="stop"),
    path("chat/runs/<str:run_id>/retry/", views.run_retry, name="retry"),
    path("chats/<str:session_id>/", views.session_detail, name="detail"),
    path("chats/<str:session_id>/messages/", views.message_send, name="send"),
    path("chats/<str:session_id>/older/", views.thread_older, name="older"),
    path("chats/<str:session_id>/rename/", views.session_rename, name="rename"),
    path("chats/<str:session_id>/item/", views.session_item, name="item"),
    path("chats/<str:session_id>/delete/", views.session_delete, name="delete"),
]
