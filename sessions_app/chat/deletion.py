"""Deleting a chat from the sidebar, and its Undo: the chat is hidden at once and a toast offers to
bring it back for AGENT_CHAT_UNDO_SECONDS; then the sweep deletes it for good."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from agentapp.http import AuthedRequest

from .. import selectors, services
from .views import TEMPLATE, undo_window


@login_required
@require_POST
def session_delete(request: AuthedRequest, session_id: str) -> HttpResponse:
    """Its sidebar entry becomes a toast with Undo; the chat open (or a plain form post) goes home,
    where the same toast shows."""
    session = selectors.session_get_for_user(session_id=session_id, user=request.user)
    item = selectors.session_for_sidebar(session_pk=session.pk)  # its label, read before it is hidden
    services.session_soft_delete(session=session, by=request.user)
    home = f"{reverse('home')}?{urlencode({'deleted': session.session_id})}"
    if not request.htmx:
        return redirect(home)
    current = request.htmx.current_url_abs_path or ""
    if current.split("?")[0] == reverse("sessions:detail", args=[session.session_id]):
        return HttpResponseClientRedirect(home)
    return render(request, f"{TEMPLATE}#session-deleted", {"s": item or session})


@login_required
@require_POST
def session_restore(request: AuthedRequest, session_id: str) -> HttpResponse:
    """Undo a delete while it may be undone: the chat is back as it was. htmx gets its sidebar entry
    in place of the toast; the toast's plain form opens the chat."""
    session = selectors.session_for_undo_get(session_id=session_id, user=request.user, within=undo_window())
    services.session_restore(session=session)
    if not request.htmx:
        return redirect("sessions:detail", session.session_id)
    context = {"s": selectors.session_for_sidebar(session_pk=session.pk), "restored": True}  # focused again
    return render(request, f"{TEMPLATE}#session-item", context)
