"""The run timeline pages: the runs list, one run on a time axis, its contexts, a session's runs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from agentapp.http import AuthedRequest
from agentapp.ownership import acts_for_others

from ..models import Run
from ..selectors import (
    run_get_for_user,
    runs_for_user,
    session_get_for_user,
    shown_path_pks,
    versions_attach,
)
from . import layout, presenters

RUNS_PER_PAGE = 25
TEMPLATES = "sessions_app/timeline"


class RunFilterForm(forms.Form):
    user = forms.CharField(required=False, max_length=150)
    session = forms.CharField(required=False, max_length=128)
    status = forms.ChoiceField(required=False, choices=[("", "any status"), *Run.Status.choices])
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("The start date is after the end date.")
        return data


@login_required
@require_GET
def run_list(request: AuthedRequest) -> HttpResponse:
    form = RunFilterForm(request.GET or None)
    if not acts_for_others(request.user):
        del form.fields["user"]
    status = 200
    filters: dict = {}
    if form.is_bound:
        if form.is_valid():
            data = form.cleaned_data
            filters = {
                "username": data.get("user", "").strip(),
                "session_id": data["session"].strip(),
                "status": data["status"],
                "date_from": data["date_from"],
                "date_to": data["date_to"],
            }
        else:
            status = 400
    runs = runs_for_user(user=request.user, **filters)
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    for run in page:
        run.input_preview = layout.redact(run.input)  # type: ignore[attr-defined]  # for the list's template
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, f"{TEMPLATES}/list.html", context, status=status)


@login_required
@require_GET
def run_detail(request: AuthedRequest, run_id: str) -> HttpResponse:
    run = run_get_for_user(run_id=run_id, user=request.user)
    versions_attach(runs=[run], session_pk=run.session_id)
    context = {
        "tl": presenters.run_timeline(run=run),
        "shown": run.pk in shown_path_pks(session_pk=run.session_id),
    }
    return render(request, f"{TEMPLATES}/detail.html", context)


@login_required
@require_GET
def run_event(request: AuthedRequest, run_id: str, event_pk: int) -> HttpResponse:
    run = run_get_for_user(run_id=run_id, user=request.user)
    found = presenters.run_event_get(run=run, event_pk=event_pk)
    if found is None:
        raise Http404("event not found")
    event, row = found
    template = f"{TEMPLATES}/event.html#event-detail" if request.htmx else f"{TEMPLATES}/event.html"
    return render(request, template, {"run": run, "event": event, "row": row})


@login_required
@require_GET
def run_context(request: AuthedRequest, run_id: str) -> HttpResponse:
    run = run_get_for_user(run_id=run_id, user=request.user)
    contexts = presenters.run_contexts(run=run)
    legend = [(name, layout.SECTION_LABELS[name]) for name in layout.SECTION_ORDER]
    context = {"run": run, "contexts": contexts, "sections_legend": legend}
    return render(request, f"{TEMPLATES}/context.html", context)


@login_required
@require_GET
def session_timeline(request: AuthedRequest, session_id: str) -> HttpResponse:
    session = session_get_for_user(session_id=session_id, user=request.user)
    return render(request, f"{TEMPLATES}/session.html", {"tl": presenters.session_timeline(session=session)})
