""" "Forget what was learned from this" on one of the person's messages, and its Undo."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from agentapp.http import AuthedRequest
from memory_app import services as memory_services
from memory_app.models import MemoryChange

from .. import selectors
from ..models import Run
from .panel import memory_panel
from .views import TEMPLATE


def _actor(request: AuthedRequest, run: Run) -> str:
    return MemoryChange.actor_for(acting_pk=request.user.pk, owner_pk=run.user_id)


def _message(request: AuthedRequest, run: Run, **extra: Any) -> HttpResponse:
    """The message again (with what was done, and Undo after a forget) and the memory panel as it
    is now; a plain form post goes back to the chat, at the message."""
    if not request.htmx:
        return redirect(f"{reverse('sessions:detail', args=[run.session.session_id])}#message-{run.run_id}")
    runs, _ = selectors.thread_runs(session_pk=run.session_id, limit=1)
    context = {
        "run": selectors.run_for_render(run_pk=run.pk),
        **memory_panel(user_pk=run.user_id, last_run=runs[-1] if runs else None),
        **extra,
    }
    return render(request, f"{TEMPLATE}#forget-result", context)


@login_required
@require_POST
def run_forget(request: AuthedRequest, run_id: str) -> HttpResponse:
    """Nothing more is learned from this message's run, and what it learned is undone."""
    run = selectors.run_get_for_user(run_id=run_id, user=request.user)
    done = memory_services.run_forget(run=run, actor=_actor(request, run), actor_user=request.user)
    return _message(request, run, forgotten=done)


@login_required
@require_POST
def run_unforget(request: AuthedRequest, run_id: str) -> HttpResponse:
    """The Undo of a forget: the run is remembered again, and what the forget undid comes back."""
    run = selectors.run_get_for_user(run_id=run_id, user=request.user)
    done = memory_services.run_unforget(run=run, actor=_actor(request, run), actor_user=request.user)
    return _message(request, run, unforgotten=done)
