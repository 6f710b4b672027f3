"""The chat: sessions at the left, the streamed thread in the middle, the person's memories at the right."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.handlers.asgi import ASGIRequest
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from agentapp.app_agent import configured_model
from agentapp.errors import AgentAppError, RateLimited, SessionNotFound
from agentapp.http import AuthedRequest
from agentapp.observability import metrics

from .. import exports, selectors, services
from ..models import AgentSession, Run
from ..ratelimit import run_rate_limit_check
from .panel import memory_panel
from .stream import run_start, run_stream

PAGE_RUNS = 15  # one run is two messages: the page shows the last 30
TEMPLATE = "sessions_app/chat.html"
# A new chat's entry asks again for its title (a worker writes it) every 3 s, this many times at most.
TITLE_POLLS = 10
# Then every 30 s for an hour: with no worker running the title comes once one starts (the sweep
# sends the job again), and the entry says it is pending meanwhile rather than go quiet.
TITLE_SLOW_POLLS = 120


def _error(exc: AgentAppError) -> HttpResponse:
    response = HttpResponse(exc.message, status=exc.status_code, content_type="text/plain; charset=utf-8")
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


def undo_window() -> timedelta:
    """How long a deleted chat can be brought back (then the sweep deletes it for good)."""
    return timedelta(seconds=settings.AGENT_CHAT_UNDO_SECONDS)


def _deleted_chat(request: AuthedRequest) -> AgentSession | None:
    """The chat `?deleted=` names (the page a delete sent the browser to), while Undo can bring it back."""
    session_id = request.GET.get("deleted", "")
    if not session_id:
        return None
    try:
        found = selectors.session_for_undo_get(session_id=session_id, user=request.user, within=undo_window())
    except SessionNotFound:
        return None
    return found if found.deleted_at else None


def chat_page(
    request: AuthedRequest,
    session: AgentSession | None,
    *,
    error: str = "",
    message: str = "",
    temporary_ticked: bool = False,
    dont_remember_ticked: bool = False,
    status: int = 200,
) -> HttpResponse:
    """The whole page; `session` None is the home page's fresh chat. `error`: why the `message`
    just sent was refused, shown under the composer that holds it again (and its "Temporary chat"
    ticked again with `temporary_ticked`, its "Don't remember this" with `dont_remember_ticked`)."""
    search = request.GET.get("q", "")[:200]
    runs: list[Run] = []
    has_older = False
    summary = None
    temporary = session is not None and session.temporary
    if session is not None:
        runs, has_older = selectors.thread_runs(session_pk=session.pk, limit=PAGE_RUNS)
        summary = selectors.session_summary_get(session_pk=session.pk)
        session = selectors.session_for_sidebar(session_pk=session.pk)
    context = {
        "session": session,
        "sessions": selectors.sessions_for_sidebar(user_pk=request.user.pk, search=search),
        "q": search,
        "runs": runs,
        "has_older": has_older,
        "summary": summary if summary and summary.text else None,
        "max_message_chars": services.MAX_MESSAGE_CHARS,
        "error": error,
        "message": message,
        # An untitled chat's entry asks for its title until a worker has written it (a temporary
        # chat has no entry, and gets no title).
        "title_poll_pk": session.pk if session is not None and not session.title and not temporary else None,
        "temporary": temporary,
        "temporary_ticked": temporary_ticked,
        "dont_remember_ticked": dont_remember_ticked,  # a refused message keeps its "Don't remember this"
        "temporary_chat_days": settings.AGENT_TEMPORARY_CHAT_DAYS,
        "deleted_chat": _deleted_chat(request),  # its toast, with Undo
        **memory_panel(
            user_pk=session.user_id if session else request.user.pk, last_run=runs[-1] if runs else None
        ),
    }
    return render(request, TEMPLATE, context, status=status)


@login_required
@require_GET
def session_detail(request: AuthedRequest, session_id: str) -> HttpResponse:
    return chat_page(request, selectors.session_get_for_user(session_id=session_id, user=request.user))


@login_required
@require_GET
def session_list(request: AuthedRequest) -> HttpResponse:
    search = request.GET.get("q", "")[:200]
    current = request.GET.get("current", "")
    context = {
        "sessions": selectors.sessions_for_sidebar(user_pk=request.user.pk, search=search),
        "q": search,
        "session": selectors.session_get(session_id=current) if current else None,
    }
    return render(request, f"{TEMPLATE}#session-list", context)


def _start(request: AuthedRequest, run: Run) -> None:
    """The run starts now, in a task of this web process, whether or not a stream ever watches it.
    Only under ASGI, whose event loop outlives the request; elsewhere its first stream starts it."""
    if isinstance(request, ASGIRequest):
        async_to_sync(run_start)(run_id=run.run_id)


def _dont_remember(request: AuthedRequest) -> bool:
    """Whether the composer's "Don't remember this" was ticked for the message sent."""
    return request.POST.get("dont_remember") == "on"


def _create_pending_run(
    session: AgentSession, text: str, sender: User, parent_run_id: str, *, remember: bool = True
) -> Run:
    """The message as a new pending run after `parent_run_id`, the last turn the sender's page
    shows (the version they see, though another tab may have switched since); without one, after
    the end of the thread shown. `remember` False: "Don't remember this" was ticked."""
    model = configured_model()
    parent = (
        selectors.run_in_session(run_id=parent_run_id, session_pk=session.pk).pk
        if parent_run_id
        else services.SHOWN_END
    )
    return services.run_create(
        session=session,
        input=text,
        model_id=model.id,
        model_provider=model.provider,
        status=Run.Status.PENDING,
        acting_user=sender,
        parent_pk=parent,
        remember=remember,
    )


@login_required
@require_POST
def session_new(request: AuthedRequest) -> HttpResponse:
    """The first message of a new chat: the session, its pending run, then the chat page streams it.
    With "Temporary chat" ticked, the session is a temporary chat, now and for good."""
    model = configured_model()
    message = request.POST.get("message", "")
    temporary = request.POST.get("temporary") == "on"
    try:
        run_rate_limit_check(user=request.user)
        run = services.session_start(
            user=request.user,
            message=message,
            agent_name="agent",
            model_id=model.id,
            model_provider=model.provider,
            temporary=temporary,
            remember=not _dont_remember(request),
        )
    except AgentAppError as exc:
        if request.htmx:
            return _error(exc)
        # Without htmx, the home page again with the reason under the message, which it keeps.
        response = chat_page(
            request,
            None,
            error=exc.message,
            message=message,
            temporary_ticked=temporary,
            dont_remember_ticked=_dont_remember(request),
            status=exc.status_code,
        )
        if isinstance(exc, RateLimited):
            response["Retry-After"] = str(exc.retry_after)
        return response
    # Started now, like any message: the page it opens streams it, or shows it answered already,
    # and its sidebar entry asks for the title a worker writes (see `chat_page`).
    _start(request, run)
    url = reverse("sessions:detail", args=[run.session.session_id])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_POST
def message_send(request: AuthedRequest, session_id: str) -> HttpResponse:
    """The user's bubble and the reply's placeholder, which opens the run's stream."""
    session = selectors.session_get_for_user(session_id=session_id, user=request.user)
    try:
        run_rate_limit_check(user=session.user)  # the person's minute, whoever writes for them
        run = _create_pending_run(
            session,
            request.POST.get("message", ""),
            request.user,
            request.POST.get("parent", ""),
            remember=not _dont_remember(request),
        )
    except AgentAppError as exc:
        return _error(exc)
    _start(request, run)
    if not request.htmx:
        return redirect("sessions:detail", session.session_id)
    selectors.versions_attach(runs=[run], session_pk=session.pk)
    return render(request, f"{TEMPLATE}#run-block", {"run": run})


@login_required
@require_GET
def thread_older(request: AuthedRequest, session_id: str) -> HttpResponse:
    session = selectors.session_get_for_user(session_id=session_id, user=request.user)
    try:
        before = int(request.GET.get("before", ""))
    except ValueError:
        return HttpResponse("before must be a run number", status=400)
    runs, has_older = selectors.thread_runs(session_pk=session.pk, before_pk=before, limit=PAGE_RUNS)
    context = {"session": session, "runs": runs, "has_older": has_older}
    return render(request, f"{TEMPLATE}#older", context)


@login_required
@require_http_methods(["GET", "POST"])
def session_rename(request: AuthedRequest, session_id: str) -> HttpResponse:
    session = selectors.session_get_for_user(session_id=session_id, user=request.user)
    if request.method == "POST":
        try:
            services.session_rename(session=session, title=request.POST.get("title", ""))
        except AgentAppError as exc:
            return _error(exc)
        if not request.htmx:
            return redirect("sessions:detail", session.session_id)
        partial = "title-refresh"  # the entry, and the open chat's heading when it is this one
    else:
        partial = "rename-form"
    current = request.GET.get("current") or request.POST.get("current") or ""
    context = {
        "s": selectors.session_for_sidebar(session_pk=session.pk),
        "session": session if current == session.session_id else None,
    }
    return render(request, f"{TEMPLATE}#{partial}", context)


@login_required
@require_GET
def session_item(request: AuthedRequest, session_id: str) -> HttpResponse:
    """The sidebar entry again, while a new chat waits for its title; with it, the page's heading too."""
    session = selectors.session_get_for_user(session_id=session_id, user=request.user)
    try:
        tries = int(request.GET.get("tries", "0"))
    except ValueError:
        tries = TITLE_POLLS
    item = selectors.session_for_sidebar(session_pk=session.pk)
    waiting = item is not None and not item.title and tries < TITLE_POLLS + TITLE_SLOW_POLLS
    context = {
        "s": item,
        "session": item if request.GET.get("current") == session.session_id else None,
        "title_poll": tries + 1 if waiting else None,
        "title_poll_delay": "3s" if tries < TITLE_POLLS else "30s",
    }
    return render(request, f"{TEMPLATE}#title-refresh", context)


@login_required
@require_GET
def session_export(request: AuthedRequest, session_id: str) -> HttpResponse:
    """The chat downloaded as a file: `?format=markdown` the thread as shown, else JSON as the API's."""
    session = selectors.session_get_for_user(session_id=session_id, user=request.user)
    if request.GET.get("format") == "markdown":
        response = HttpResponse(
            exports.session_markdown(session=session), content_type="text/markdown; charset=utf-8"
        )
        extension = "md"
    else:
        response = JsonResponse(
            exports.session_export_get(session=session),
            encoder=DjangoJSONEncoder,
            json_dumps_params={"indent": 2},
        )
        extension = "json"
    name = exports.session_export_filename(session=session, extension=extension)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_GET
async def run_events(request: AuthedRequest, run_id: str) -> StreamingHttpResponse:
    """Server-sent events of one run: the first connection runs it, any later one replays it."""
    user = cast(User, await request.auser())  # login_required
    run = await sync_to_async(selectors.run_get_for_user)(run_id=run_id, user=user)
    response = StreamingHttpResponse(run_stream(run=run, viewer=user), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # proxies must pass frames through as they come
    return response


@login_required
@require_POST
def run_stop(request: AuthedRequest, run_id: str) -> HttpResponse:
    """Mark the run cancelled; its stream notices, ends the model call and keeps what was said."""
    services.run_cancel(run=selectors.run_get_for_user(run_id=run_id, user=request.user))
    return HttpResponse(status=204)


def _thread(request: AuthedRequest, session: AgentSession) -> HttpResponse:
    """The thread shown, again: after a version is made or chosen, every later turn changes."""
    if not request.htmx:
        return redirect("sessions:detail", session.session_id)
    runs, has_older = selectors.thread_runs(session_pk=session.pk, limit=PAGE_RUNS)
    return render(request, f"{TEMPLATE}#thread", {"session": session, "runs": runs, "has_older": has_older})


def _new_version(request: AuthedRequest, run: Run, text: str) -> HttpResponse:
    """A new version of `run`'s turn with the message `text` (an unfinished run is stopped first),
    started at once; then the thread, which now shows it."""
    model = configured_model()
    try:
        run_rate_limit_check(user=run.user)  # the person's minute, whoever regenerates for them
        new = services.run_edit(
            run=run,
            input=text,
            model_id=model.id,
            model_provider=model.provider,
            acting_user=request.user,
            stop_unfinished=True,
        )
    except AgentAppError as exc:
        return _error(exc)
    _start(request, new)
    return _thread(request, run.session)


@login_required
@require_POST
def run_regenerate(request: AuthedRequest, run_id: str) -> HttpResponse:
    """Ask the model again for this turn: a new version beside the answer, which stays one version back."""
    run = selectors.run_get_for_user(run_id=run_id, user=request.user)
    return _new_version(request, run, run.input)


@login_required
@require_http_methods(["GET", "POST"])
def run_edit(request: AuthedRequest, run_id: str) -> HttpResponse:
    """GET: the message as a form, in place of its bubble. POST: the edited message as a new version
    of the turn."""
    run = selectors.run_get_for_user(run_id=run_id, user=request.user)
    if request.method == "POST":
        return _new_version(request, run, request.POST.get("message", ""))
    context = {
        "run": selectors.run_for_render(run_pk=run.pk),
        "max_message_chars": services.MAX_MESSAGE_CHARS,
    }
    return render(request, f"{TEMPLATE}#edit-form", context)


@login_required
@require_GET
def run_message(request: AuthedRequest, run_id: str) -> HttpResponse:
    """The message's bubble again (an edit cancelled)."""
    run = selectors.run_get_for_user(run_id=run_id, user=request.user)
    return render(request, f"{TEMPLATE}#user-message", {"run": selectors.run_for_render(run_pk=run.pk)})


@login_required
@require_POST
def run_show(request: AuthedRequest, run_id: str) -> HttpResponse:
    """Show this version of its turn (the version arrows), with the later turns it had; kept for
    the next visit."""
    run = selectors.run_get_for_user(run_id=run_id, user=request.user)
    services.run_version_show(run=run)
    return _thread(request, run.session)


@login_required
@require_POST
def run_feedback(request: AuthedRequest, run_id: str) -> HttpResponse:
    """Thumbs up or down on a reply, or a comment on it: the person's own feedback on their own
    reply (an operator looking at someone's chat gives none for them: not found). htmx gets the
    reply's feedback again, the thumb pressed and a comment offered; a plain form, the chat."""
    run = selectors.run_get_for_user(run_id=run_id, user=request.user)
    comment = request.POST.get("comment")  # absent: a thumb pressed, the comment given before stays
    try:
        feedback, rated = services.run_feedback_give(
            run=run, user=request.user, rating=request.POST.get("rating", ""), comment=comment
        )
    except AgentAppError as exc:
        return _error(exc)
    if rated:
        metrics.feedback_given(rating=feedback.rating)
    if not request.htmx:
        return redirect(f"{reverse('sessions:detail', args=[run.session.session_id])}#reply-{run.run_id}")
    run.person_feedback = [feedback]  # type: ignore[attr-defined]  # as selectors.person_feedback_prefetch
    context = {"run": run, "saved": "comment" if comment is not None else "rating"}
    return render(request, f"{TEMPLATE}#feedback", context)
