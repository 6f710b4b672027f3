"""The memory inspector and editor: one page, named partials for each htmx swap."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from agentapp.agent import ModelError
from agentapp.errors import AgentAppError, InvalidInput, RateLimited, RunNotFound
from agentapp.http import AuthedRequest
from agentapp.ownership import acts_for_others, person_named
from sessions_app.chat.panel import memory_panel
from sessions_app.models import Run
from sessions_app.ratelimit import run_rate_limit_check
from sessions_app.selectors import run_get_for_user

from . import optimization, selectors, services
from .diff import change_view
from .models import Memory, MemoryChange
from .search import memory_search

PAGE_SIZE = 20
REVIEW_LIMIT = 50  # the proposals waiting for review listed at the top, the newest first
PAST_LIMIT = 100  # the closed memories "Show past facts" lists, the most recently closed first
MAX_IMPORT_BYTES = 2 * 1024 * 1024
TEMPLATE = "memory_app/memories.html"
OPTIMIZE_TEMPLATE = "memory_app/memory_optimize.html"


# --- helpers --------------------------------------------------------------------------
def _target_user(request: AuthedRequest) -> User:
    """Whose memories: the signed-in person's, or for an operator the one named by ?user=<username>."""
    return person_named(request.user, request.GET.get("user") or request.POST.get("user"))


def _actor(request: AuthedRequest, owner_pk: int) -> str:
    return MemoryChange.actor_for(acting_pk=request.user.pk, owner_pk=owner_pk)


def _user_query(owner: User, request: AuthedRequest) -> str:
    return "" if owner.pk == request.user.pk else "?" + urlencode({"user": owner.get_username()})


def _changed(response: HttpResponse, *, reload_list: bool = False) -> HttpResponse:
    trigger_client_event(response, "memories-changed")
    if reload_list:
        trigger_client_event(response, "memories-reload")
    return response


def _error(request: AuthedRequest, exc: AgentAppError, target: str) -> HttpResponse:
    response = render(request, f"{TEMPLATE}#form-error", {"message": exc.message}, status=exc.status_code)
    return reswap(retarget(response, target), "innerHTML")


def _item_template(memory: Memory) -> str:
    """The list's partial for a memory as it is now: current, closed (a past fact) or deleted."""
    if memory.is_deleted:
        return f"{TEMPLATE}#deleted"
    return f"{TEMPLATE}#item" if memory.is_current else f"{TEMPLATE}#past-item"


def _list_context(request: AuthedRequest, owner: User) -> dict[str, Any]:
    query = request.GET.get("q", "")[:200]
    topic = request.GET.get("topic", "")[:100]
    mode = "words" if request.GET.get("mode") == "words" else "hybrid"
    memories = memory_search(user_pk=owner.pk, query=query, topic=topic, mode=mode)
    memories = memories.select_related("source_run__session__slack_thread")  # where it was told (Slack)
    page = Paginator(memories, PAGE_SIZE).get_page(request.GET.get("page"))
    past = request.GET.get("past") == "1"
    past_memories = selectors.memories_past(user_pk=owner.pk, query=query, topic=topic) if past else None
    return {
        "past": past,
        "past_memories": list(past_memories[:PAST_LIMIT]) if past_memories is not None else [],
        "past_count": past_memories.count() if past_memories is not None else 0,
        "owner": owner,
        "is_operator": owner.pk != request.user.pk,
        "owner_query": _user_query(owner, request),
        "q": query,
        "mode": mode,
        "topic": topic,
        "topics": selectors.memory_topics(user_pk=owner.pk),
        "page": page,
        "list_url": request.get_full_path(),
    }


# --- the page -------------------------------------------------------------------------
@login_required
@require_GET
def memory_list(request: AuthedRequest) -> HttpResponse:
    owner = _target_user(request)
    context = _list_context(request, owner)
    if request.htmx and not request.htmx.history_restore_request:
        if request.htmx.target == "memory-topics":
            return render(request, f"{TEMPLATE}#topics", context)
        if request.htmx.target == "memory-list":
            return render(request, f"{TEMPLATE}#list", context)
        if request.htmx.target == "memory-count":  # after an add, a delete or an undo
            return render(request, f"{TEMPLATE}#count", context)
        if request.htmx.target == "memory-past":  # after a memory was closed or made current again
            return render(request, f"{TEMPLATE}#past", context)
    if acts_for_others(request.user):
        people = get_user_model().objects.all()
        if not request.user.is_superuser:  # a superuser's memories are for superusers only
            people = people.filter(Q(is_superuser=False) | Q(pk=request.user.pk))
        context["users"] = list(people.order_by("username").values_list("username", flat=True)[:500])
    context.update(_review_context(request, owner))
    return render(request, TEMPLATE, context)


@login_required
@require_POST
def memory_add(request: AuthedRequest) -> HttpResponse:
    owner = _target_user(request)
    try:
        memory, created = services.memory_create(
            user_pk=owner.pk,
            text=request.POST.get("text", ""),
            topics=request.POST.get("topics", ""),
            actor=_actor(request, owner.pk),
            actor_user=request.user,
        )
    except AgentAppError as exc:
        if not request.htmx:
            return _plain_error(exc)
        return _error(request, exc, "#memory-add-error")
    if not request.htmx:
        return redirect(reverse("memory:list") + _user_query(owner, request))
    if not created:
        return _error(request, InvalidInput("That is already remembered."), "#memory-add-error")
    response = render(request, f"{TEMPLATE}#item", {"memory": memory, "fresh": True})
    return _changed(response)


@login_required
@require_GET
def memory_item(request: AuthedRequest, memory_id: str) -> HttpResponse:
    memory = selectors.memory_get_for_viewer(memory_id=memory_id, viewer=request.user)
    if not request.htmx:
        return redirect("memory:history", memory_id=memory.memory_id)
    return render(request, _item_template(memory), {"memory": memory})


@login_required
@require_http_methods(["GET", "POST"])
def memory_edit(request: AuthedRequest, memory_id: str) -> HttpResponse:
    memory = selectors.memory_get_for_viewer(memory_id=memory_id, viewer=request.user)
    if memory.is_deleted:
        raise Http404("memory is deleted")
    if request.method == "GET":
        return render(request, f"{TEMPLATE}#edit", {"memory": memory})
    text, topics = request.POST.get("text", ""), request.POST.get("topics", "")
    try:
        services.memory_update(
            memory=memory,
            text=text,
            topics=topics,
            actor=_actor(request, memory.user_id),
            actor_user=request.user,
        )
    except AgentAppError as exc:
        if not request.htmx:
            return _plain_error(exc)
        context = {"memory": memory, "error": exc.message, "text": text, "topics": topics}
        return render(request, f"{TEMPLATE}#edit", context, status=exc.status_code)
    if not request.htmx:
        return redirect("memory:history", memory_id=memory.memory_id)
    return _changed(render(request, f"{TEMPLATE}#item", {"memory": memory}))


@login_required
@require_POST
def memory_delete(request: AuthedRequest, memory_id: str) -> HttpResponse:
    memory = selectors.memory_get_for_viewer(memory_id=memory_id, viewer=request.user)
    services.memory_delete(memory=memory, actor=_actor(request, memory.user_id), actor_user=request.user)
    if not request.htmx:
        return redirect("memory:history", memory_id=memory.memory_id)
    return _changed(render(request, f"{TEMPLATE}#deleted", {"memory": memory}))


@login_required
@require_POST
def memory_restore(request: AuthedRequest, memory_id: str) -> HttpResponse:
    memory = selectors.memory_get_for_viewer(memory_id=memory_id, viewer=request.user)
    try:
        services.memory_restore(memory=memory, actor=_actor(request, memory.user_id), actor_user=request.user)
    except AgentAppError as exc:
        if not request.htmx:
            return _plain_error(exc)
        context = {"memory": memory, "error": exc.message}
        return render(request, f"{TEMPLATE}#deleted", context, status=exc.status_code)
    if not request.htmx:
        return redirect("memory:history", memory_id=memory.memory_id)
    return _changed(render(request, f"{TEMPLATE}#item", {"memory": memory}))


# --- facts over time: no longer true, true again ------------------------------------------
@login_required
@require_POST
def memory_expire(request: AuthedRequest, memory_id: str) -> HttpResponse:
    """No longer true: close the memory with nothing in its place; the answer offers Undo."""
    memory = selectors.memory_get_for_viewer(memory_id=memory_id, viewer=request.user)
    try:
        services.memory_expire(memory=memory, actor=_actor(request, memory.user_id), actor_user=request.user)
    except AgentAppError as exc:
        if not request.htmx:
            return _plain_error(exc)
        memory.refresh_from_db()
        return render(request, _item_template(memory), {"memory": memory, "error": exc.message}, status=409)
    if not request.htmx:
        return redirect("memory:history", memory_id=memory.memory_id)
    change = selectors.memory_last_change(memory=memory, action=MemoryChange.Action.EXPIRE)
    return _changed(render(request, f"{TEMPLATE}#expired", {"memory": memory, "change": change}))


@login_required
@require_POST
def memory_reopen(request: AuthedRequest, memory_id: str) -> HttpResponse:
    """Make a closed memory current again, from its history or from the list of past facts."""
    memory = selectors.memory_get_for_viewer(memory_id=memory_id, viewer=request.user)
    error = ""
    try:
        services.memory_reopen(memory=memory, actor=_actor(request, memory.user_id), actor_user=request.user)
    except AgentAppError as exc:
        if not request.htmx:
            return _plain_error(exc)
        error = exc.message
    if not request.htmx:
        return redirect("memory:history", memory_id=memory.memory_id)
    memory.refresh_from_db()
    if request.htmx.target == f"past-memory-{memory.memory_id}":  # the item in the past facts
        response = render(request, _item_template(memory), {"memory": memory, "error": error})
    else:
        response = render(request, f"{TEMPLATE}#history", _history_context(request, memory, error=error))
    if error:
        response.status_code = 409
        return response
    return _changed(response, reload_list=True)


# --- review: the memories the agent proposed, kept (edited or not) or discarded by the person ----
def _review_context(request: AuthedRequest, owner: User) -> dict[str, Any]:
    waiting = selectors.proposals_for_user(user_pk=owner.pk)
    shown = list(waiting[:REVIEW_LIMIT])
    return {
        "proposals": shown,
        "proposals_count": len(shown) if len(shown) < REVIEW_LIMIT else waiting.count(),
        "owner_query": _user_query(owner, request),
    }


def _from_chat(request: AuthedRequest) -> bool:
    return request.POST.get("panel") == "chat"


def _chat_next(request: AuthedRequest) -> str:
    """Where the chat's form came from (a page of this site), to go back to without htmx."""
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return target if safe and target.startswith("/") else reverse("home")


def _last_run(request: AuthedRequest) -> Run | None:
    """The chat's last run (its memories are marked "used" in the panel), when it is the person's."""
    run_id = request.POST.get("last_run", "")[:100]
    if not run_id:
        return None
    try:
        run = run_get_for_user(run_id=run_id, user=request.user)
    except RunNotFound:
        return None
    return run if run.user_id == request.user.pk else None


def _review_response(request: AuthedRequest, owner: User, *, status: int = 200, **extra: Any) -> HttpResponse:
    """The review section again (with a note or an error); from the chat, its whole memory panel,
    answered 200 even for an error (the chat's htmx swaps no 4xx: the error is in the panel)."""
    if _from_chat(request) and owner.pk == request.user.pk:
        context = {**memory_panel(user_pk=owner.pk, last_run=_last_run(request)), **extra}
        context["review_next"] = _chat_next(request)
        return render(request, "sessions_app/chat.html#memory-panel", context)
    context = {**_review_context(request, owner), **extra}
    return render(request, f"{TEMPLATE}#review", context, status=status)


def _review_done(request: AuthedRequest, owner: User) -> HttpResponse:
    if _from_chat(request):
        return redirect(_chat_next(request))
    return redirect(reverse("memory:list") + _user_query(owner, request))


@login_required
@require_POST
def proposal_keep(request: AuthedRequest, proposal_id: str) -> HttpResponse:
    """Keep a proposed memory; with `text` (and `topics`), as edited. Another person's is not found."""
    proposal = selectors.proposal_get_for_viewer(proposal_id=proposal_id, viewer=request.user)
    owner = proposal.user
    text, topics = request.POST.get("text"), request.POST.get("topics")
    try:
        memory = services.proposal_keep(
            proposal=proposal,
            text=text,
            topics=topics,
            actor=_actor(request, owner.pk),
            actor_user=request.user,
        )
    except AgentAppError as exc:
        if not request.htmx:
            return _plain_error(exc)
        editing = {"editing": proposal.proposal_id, "edit_text": text, "edit_topics": topics or ""}
        return _review_response(
            request, owner, status=exc.status_code, review_error=exc.message, **(editing if text else {})
        )
    if not request.htmx:
        return _review_done(request, owner)
    note = f"Kept: “{memory.text}”. The agent knows it from the next message on."
    return _changed(_review_response(request, owner, review_note=note), reload_list=True)


@login_required
@require_POST
def proposal_discard(request: AuthedRequest, proposal_id: str) -> HttpResponse:
    """Discard a proposed memory: nothing is remembered. Another person's is not found."""
    proposal = selectors.proposal_get_for_viewer(proposal_id=proposal_id, viewer=request.user)
    owner = proposal.user
    try:
        services.proposal_discard(proposal=proposal, actor=_actor(request, owner.pk), actor_user=request.user)
    except AgentAppError as exc:
        if not request.htmx:
            return _plain_error(exc)
        return _review_response(request, owner, status=exc.status_code, review_error=exc.message)
    if not request.htmx:
        return _review_done(request, owner)
    note = f"Discarded: “{proposal.text}”. Nothing was remembered."
    return _review_response(request, owner, review_note=note)


# --- history --------------------------------------------------------------------------
def _history_context(request: AuthedRequest, memory: Memory, **extra: Any) -> dict[str, Any]:
    return {
        "memory": memory,
        "owner": memory.user,
        "owner_query": _user_query(memory.user, request),
        "changes": [change_view(c) for c in selectors.memory_changes(memory=memory)],
        "closing": selectors.memory_closing_change(memory=memory),
        "versions": selectors.memory_earlier_versions(memory=memory),
        **extra,
    }


@login_required
@require_GET
def memory_history(request: AuthedRequest, memory_id: str) -> HttpResponse:
    memory = selectors.memory_get_for_viewer(memory_id=memory_id, viewer=request.user)
    context = _history_context(request, memory)
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, f"{TEMPLATE}#history", context)
    return render(request, "memory_app/memory_history.html", context)


@login_required
@require_POST
def change_revert(request: AuthedRequest, change_pk: int) -> HttpResponse:
    change = selectors.memory_change_get_for_viewer(change_pk=change_pk, viewer=request.user)
    try:
        memory = change.subject
    except AgentAppError as exc:
        return _plain_error(exc)
    error = ""
    try:
        memory = services.memory_revert(
            change=change, actor=_actor(request, memory.user_id), actor_user=request.user
        )
    except AgentAppError as exc:
        if not request.htmx:
            return _plain_error(exc)
        error = exc.message
    if not request.htmx:
        return redirect("memory:history", memory_id=memory.memory_id)
    if request.htmx.target == f"memory-{memory.memory_id}":  # an Undo in the list's toast
        return _undo_response(request, change, memory, error)
    context = _history_context(request, memory, error=error)
    response = render(request, f"{TEMPLATE}#history", context, status=409 if error else 200)
    return response if error else _changed(response, reload_list=True)


def _undo_response(request: AuthedRequest, change: MemoryChange, memory: Memory, error: str) -> HttpResponse:
    memory.refresh_from_db()
    if error:  # the toast again, with why the undo failed
        context = {"memory": memory, "change": change, "error": error}
        return render(request, f"{TEMPLATE}#expired", context, status=409)
    return _changed(render(request, _item_template(memory), {"memory": memory}))


# --- memory optimisation: a person merges their own duplicates (an operator anyone's), a dry run first
def _optimize_response(request: AuthedRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    if request.htmx:  # into the editor, errors too (htmx swaps no 5xx)
        return render(request, f"{OPTIMIZE_TEMPLATE}#plan", context)
    return render(request, OPTIMIZE_TEMPLATE, context, status=status)


@login_required
@require_POST
def memories_optimize(request: AuthedRequest) -> HttpResponse:
    """The dry run: the merges the model suggests for the person, with an Apply button. It asks the
    model, so it counts against the asker's runs a minute."""
    owner = _target_user(request)
    context: dict[str, Any] = {"owner": owner, "owner_query": _user_query(owner, request)}
    try:
        run_rate_limit_check(user=request.user)
    except RateLimited as error:
        context["error"] = error.message
        return _optimize_response(request, context, status=429)
    try:
        plan = optimization.memories_optimize(
            owner=owner, acting_user=request.user, actor=_actor(request, owner.pk), apply=False
        )
    except ModelError as error:
        context["error"] = f"The model could not be asked: {error.message}"
        return _optimize_response(request, context, status=502)
    context |= {"plan": plan, "token": optimization.plan_token(plan, operator=request.user)}
    return _optimize_response(request, context)


@login_required
@require_POST
def memories_optimize_apply(request: AuthedRequest) -> HttpResponse:
    """Make the merges the dry run showed, each an audited change the history can revert. The plan
    is signed for whoever asked for it (a person's own memories, or an operator's person)."""
    try:
        owner, plan = optimization.plan_from_token(request.POST.get("plan", ""), operator=request.user)
    except InvalidInput as exc:
        if not request.htmx:
            return _plain_error(exc)
        return _error(request, exc, "#memory-optimize-error")
    plan = optimization.memories_optimize_apply(
        plan=plan, acting_user=request.user, actor=_actor(request, owner.pk)
    )
    context = {"owner": owner, "owner_query": _user_query(owner, request), "plan": plan}
    if not request.htmx:
        return render(request, OPTIMIZE_TEMPLATE, context)
    return _changed(render(request, f"{OPTIMIZE_TEMPLATE}#plan", context), reload_list=True)


# --- export and import ----------------------------------------------------------------
@login_required
@require_GET
def memories_export(request: AuthedRequest) -> JsonResponse:
    owner = _target_user(request)
    response = JsonResponse(selectors.memories_export(user_pk=owner.pk), json_dumps_params={"indent": 2})
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    filename = f"memories-{owner.get_username()}-{stamp}.json".replace('"', "")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_POST
def memories_import(request: AuthedRequest) -> HttpResponse:
    owner = _target_user(request)
    try:
        data = _read_upload(request)
        counts = services.memories_import(
            user_pk=owner.pk, data=data, actor=_actor(request, owner.pk), actor_user=request.user
        )
    except AgentAppError as exc:
        if not request.htmx:
            return _plain_error(exc)
        return _error(request, exc, "#memory-import-result")
    if not request.htmx:
        return redirect(reverse("memory:list") + _user_query(owner, request))
    response = render(request, f"{TEMPLATE}#import-result", {"counts": counts})
    return _changed(response, reload_list=True)


def _read_upload(request: AuthedRequest) -> Any:
    upload = request.FILES.get("file")
    if upload is None:
        raise InvalidInput("choose a JSON file exported from this page")
    if (upload.size or 0) > MAX_IMPORT_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    try:
        return json.loads(upload.read().decode("utf-8"))
    except RecursionError as exc:
        raise InvalidInput("the file is nested too deeply to be an export") from exc
    except ValueError as exc:  # not JSON, not UTF-8, or a number too long to read
        raise InvalidInput("the file is not valid JSON") from exc


def _plain_error(exc: AgentAppError) -> HttpResponse:
    # Plain form posts (no htmx) get the service's message with its 4xx status, never a 500.
    return HttpResponse(exc.message, status=exc.status_code, content_type="text/plain; charset=utf-8")
