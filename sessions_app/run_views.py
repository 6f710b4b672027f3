"""The run timeline pages: the runs list, one run on a time axis, its contexts, a session's runs."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from agentapp.errors import NotFound

from . import run_selectors, timeline
from .models import Run
from .selectors import run_get_for_user, session_get_for_user

RUNS_PER_PAGE = 25


class RunFilterForm(forms.Form):
    user = forms.CharField(required=False, max_length=150)
    session = forms.CharField(required=False, max_length=128)
    status = forms.ChoiceField(required=False, choices=[("", "any status"), *Run.Status.choices])
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("The start date is after the end date.")
        return data


def _run_or_404(request: HttpRequest, run_id: str) -> Run:
    try:
        return run_get_for_user(run_id=run_id, user=request.user)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    form = RunFilterForm(request.GET or None)
    if not request.user.is_staff:
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
    runs = run_selectors.runs_for_user(user=request.user, **filters)
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    for run in page:
        run.input_preview = timeline.redact(run.input)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "runs/list.html", context, status=status)


@login_required
@require_GET
def run_detail(request: HttpRequest, run_id: str) -> HttpResponse:
    run = _run_or_404(request, run_id)
    return render(request, "runs/detail.html", {"tl": run_selectors.run_timeline(run=run)})


@login_required
@require_GET
def run_event(request: HttpRequest, run_id: str, event_id: int) -> HttpResponse:
    run = _run_or_404(request, run_id)
    found = run_selectors.run_event_get(run=run, event_pk=event_id)
    if found is None:
        raise Http404("event not found")
    event, row = found
    template = "runs/event.html#event-detail" if request.htmx else "runs/event.html"
    return render(request, template, {"run": run, "event": event, "row": row})


@login_required
@require_GET
def run_context(request: HttpRequest, run_id: str) -> HttpResponse:
    run = _run_or_404(request, run_id)
    contexts = run_selectors.run_contexts(run=run)
    legend = [(name, timeline.SECTION_LABELS[name]) for name in timeline.SECTION_ORDER]
    return render(request, "runs/context.html", {"run": run, "contexts": contexts, "sections_legend": legend})


@login_required
@require_GET
def session_timeline(request: HttpRequest, session_id: str) -> HttpResponse:
    try:
        session = session_get_for_user(session_id=session_id, user=request.user)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return render(request, "runs/session.html", {"tl": run_selectors.session_timeline(session=session)})
