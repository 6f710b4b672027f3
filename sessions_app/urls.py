from __future__ import annotations

from django.urls import path

from .chat import deletion, forget, views

app_name = "sessions"

urlpatterns = [
    path("chat/new/", views.session_new, name="new"),
    path("chat/sessions/", views.session_list, name="list"),
    path("chat/runs/<str:run_id>/stream/", views.run_events, name="stream"),
    path("chat/runs/<str:run_id>/stop/", views.run_stop, name="stop"),
    path("chat/runs/<str:run_id>/regenerate/", views.run_regenerate, name="regenerate"),
    path("chat/runs/<str:run_id>/edit/", views.run_edit, name="edit"),
    path("chat/runs/<str:run_id>/message/", views.run_message, name="message"),
    path("chat/runs/<str:run_id>/show/", views.run_show, name="show"),
    path("chat/runs/<str:run_id>/forget/", forget.run_forget, name="forget"),
    path("chat/runs/<str:run_id>/unforget/", forget.run_unforget, name="unforget"),
    path("chat/runs/<str:run_id>/feedback/", views.run_feedback, name="feedback"),
    # `path:` so that a session whose id holds a slash (stored before ids were checked) still opens
    # and deletes; the page itself comes last, after the routes below it in the tree.
    path("chats/<path:session_id>/messages/", views.message_send, name="send"),
    path("chats/<path:session_id>/older/", views.thread_older, name="older"),
    path("chats/<path:session_id>/rename/", views.session_rename, name="rename"),
    path("chats/<path:session_id>/item/", views.session_item, name="item"),
    path("chats/<path:session_id>/delete/", deletion.session_delete, name="delete"),
    path("chats/<path:session_id>/restore/", deletion.session_restore, name="restore"),
    path("chats/<path:session_id>/export/", views.session_export, name="export"),
    path("chats/<path:session_id>/", views.session_detail, name="detail"),
]
