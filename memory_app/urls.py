from __future__ import annotations

from django.urls import path

from . import views

app_name = "memory"

urlpatterns = [
    path("", views.memory_list, name="list"),
    path("new/", views.memory_add, name="add"),
    path("export/", views.memories_export, name="export"),
    path("import/", views.memories_import, name="import"),
    path("optimize/", views.memories_optimize, name="optimize"),
    path("optimize/apply/", views.memories_optimize_apply, name="optimize-apply"),
    path("changes/<int:change_pk>/revert/", views.change_revert, name="revert"),
    # memories proposed for the person's review: Keep (edited or not) or Discard
    path("proposals/<str:proposal_id>/keep/", views.proposal_keep, name="proposal-keep"),
    path("proposals/<str:proposal_id>/discard/", views.proposal_discard, name="proposal-discard"),
    path("<str:memory_id>/", views.memory_item, name="item"),
    path("<str:memory_id>/edit/", views.memory_edit, name="edit"),
    path("<str:memory_id>/delete/", views.memory_delete, name="delete"),
    path("<str:memory_id>/restore/", views.memory_restore, name="restore"),
    path("<str:memory_id>/history/", views.memory_history, name="history"),
    path("<str:memory_id>/expire/", views.memory_expire, name="expire"),
    path("<str:memory_id>/reopen/", views.memory_reopen, name="reopen"),
]
