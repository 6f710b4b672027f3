"""The session summary in the admin: shown on the session page, with buttons to recompute it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from agentapp.errors import FollowupFailed

from .jobs import summary_refresh
from .models import AgentSession, SessionSummary

REFRESH_URL_NAME = "sessions_app_agentsession_summary_refresh"


def summary_refresh_url(session: AgentSession, *, next_url: str = "") -> str:
    url = reverse(f"admin:{REFRESH_URL_NAME}", args=[session.pk])
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def summary_buttons(session: AgentSession, *, next_url: str = "") -> str:
    # formaction: the buttons post the admin's own change form (and its CSRF token) to the refresh
    # view, since a <form> may not sit inside that form.
    url = summary_refresh_url(session, next_url=next_url)
    return format_html(
        '<button type="submit" class="button" formaction="{}" formmethod="post" name="summary_full" '
        'value="0">Recompute summary</button> '
        '<button type="submit" class="button" formaction="{}" formmethod="post" name="summary_full" '
        'value="1">Recompute from the beginning</button>',
        url,
        url,
    )


def summary_panel(summary: SessionSummary | None, session: AgentSession, *, next_url: str = "") -> str:
    if summary is None:
        details = format_html("<p>{}</p>", "No summary yet.")
    else:
        last_run = summary.last_run.run_id if summary.last_run else "none (recompute pending)"
        details = format_html(
            '<div style="white-space: pre-wrap; max-width: 60em">{}</div>'
            "<p><b>Topics:</b> {}<br><b>Last run covered:</b> {}<br><b>Updated:</b> {}</p>",
            summary.text or "(empty)",
            ", ".join(summary.topics) or "none",
            last_run,
            summary.updated_at,
        )
    return format_html("{}<p>{}</p>", details, summary_buttons(session, next_url=next_url))


class SessionSummaryAdminMixin:
    """For the session admin: a read-only summary panel and the POST view its buttons call."""

    @admin.display(description="Summary")
    def summary_panel(self, obj: AgentSession | None) -> str:
        if obj is None or obj.pk is None:
            return "-"
        summary = SessionSummary.objects.select_related("last_run").filter(session=obj).first()
        return summary_panel(summary, obj)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.summary_refresh_view)  # type: ignore[attr-defined]
        urls = [path("<path:object_id>/summary/refresh/", view, name=REFRESH_URL_NAME)]
        return urls + super().get_urls()  # type: ignore[misc]

    def summary_refresh_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        session = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if session is None:
            raise Http404("session not found")
        if not self.has_change_permission(request, session):  # type: ignore[attr-defined]
            raise PermissionDenied
        full = request.POST.get("summary_full") == "1"
        _refresh(self, request, session, full=full)  # type: ignore[arg-type]  # mixed into a ModelAdmin
        next_url = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
            next_url = reverse("admin:sessions_app_agentsession_change", args=[session.pk])
        return HttpResponseRedirect(next_url)


def _refresh(
    model_admin: admin.ModelAdmin, request: HttpRequest, session: AgentSession, *, full: bool
) -> None:
    try:
        outcome = summary_refresh(session=session, full=full)
    except FollowupFailed as error:
        model_admin.message_user(
            request, f"The summary of {session.session_id} failed: {error.message}", messages.ERROR
        )
        return
    what = "Full recompute" if full else "Summary update"
    done = "enqueued" if outcome == "enqueued" else "done"
    model_admin.message_user(request, f"{what} of {session.session_id} {done}.", messages.SUCCESS)


class SessionSummaryAdminExtras:
    """For the summary admin: the same buttons on its page, and list actions."""

    actions: Sequence[Any] | None = ["recompute_summaries", "recompute_summaries_fully"]

    @admin.display(description="Recompute")
    def recompute(self, obj: SessionSummary | None) -> str:
        if obj is None or obj.pk is None:
            return "-"
        next_url = reverse("admin:sessions_app_sessionsummary_change", args=[obj.pk])
        return summary_buttons(obj.session, next_url=next_url)

    @admin.display(description="topics")
    def topic_list(self, obj: SessionSummary) -> str:
        return format_html_join(", ", "{}", ((topic,) for topic in obj.topics)) or "-"

    @admin.action(description="Recompute the selected summaries", permissions=["change"])
    def recompute_summaries(self, request: HttpRequest, queryset: QuerySet[SessionSummary]) -> None:
        for summary in queryset.select_related("session"):
            _refresh(self, request, summary.session, full=False)  # type: ignore[arg-type]

    @admin.action(description="Recompute the selected summaries from the beginning", permissions=["change"])
    def recompute_summaries_fully(self, request: HttpRequest, queryset: QuerySet[SessionSummary]) -> None:
        for summary in queryset.select_related("session"):
            _refresh(self, request, summary.session, full=True)  # type: ignore[arg-type]
