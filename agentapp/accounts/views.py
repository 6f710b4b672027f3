"""A person's own settings and data in the browser: their settings (custom instructions, memory),
what is stored, a download of all of it, and erasure."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agentapp.errors import InvalidInput
from agentapp.http import AuthedRequest, redirect_303
from sessions_app.models import INSTRUCTIONS_LIMIT, PersonSettings
from sessions_app.selectors import person_settings
from sessions_app.services import INSTRUCTION_FIELDS, MEMORY_FIELDS, person_settings_save

from .services import preferences_set_theme, user_data_counts, user_data_erase, user_data_export

ERASED = "accounts.erased"  # the counts of an erasure, for the page after its redirect
SAVED = "accounts.settings-saved"  # a plain (not htmx) save, said once on the page after its redirect
SETTINGS = "accounts/settings.html"


def _settings(
    request: AuthedRequest,
    chosen: PersonSettings,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    saved: bool = False,
) -> HttpResponse:
    # htmx swaps the form alone; a plain post (or a first load) gets the whole page.
    template = f"{SETTINGS}#settings-form" if request.method == "POST" and request.htmx else SETTINGS
    # Counted as the service counts them (and forms.js as the person types): without surrounding blanks.
    counts = {name: len(getattr(chosen, name).strip()) for name in INSTRUCTION_FIELDS}
    over = {name: count - INSTRUCTIONS_LIMIT for name, count in counts.items() if count > INSTRUCTIONS_LIMIT}
    context = {
        "chosen": chosen,
        "limit": INSTRUCTIONS_LIMIT,
        "counts": counts,
        "over": over,
        "errors": errors or {},
        "saved": saved,
    }
    return render(request, template, context, status=status)


def _settings_changes(form: QueryDict) -> dict[str, Any]:
    """What the form changes: each field it sent. A switch sends "off" (a hidden field) then "on"
    when it is checked, so an unchecked one is off, and one the post does not hold is left alone."""
    changes: dict[str, Any] = {name: form[name] for name in INSTRUCTION_FIELDS if name in form}
    changes.update({name: form.getlist(name)[-1] == "on" for name in MEMORY_FIELDS if name in form})
    return changes


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: AuthedRequest) -> HttpResponse:
    """The person's settings: custom instructions and what the agent does with their memories."""
    if request.method == "GET":
        return _settings(
            request, person_settings(user_pk=request.user.pk), saved=request.session.pop(SAVED, False)
        )
    changes = _settings_changes(request.POST)
    try:
        chosen = person_settings_save(user=request.user, changes=changes)
    except InvalidInput as exc:
        # The form shows what was sent, not lost, with each reason next to its field.
        shown = person_settings(user_pk=request.user.pk)
        for name, value in changes.items():
            setattr(shown, name, value)
        fields = exc.detail.get("fields") if isinstance(exc.detail, dict) else None
        return _settings(request, shown, status=exc.status_code, errors=fields or {"form": exc.message})
    if request.htmx:
        return _settings(request, chosen, saved=True)
    request.session[SAVED] = True
    return redirect_303("accounts:settings")


def _page(request: AuthedRequest, *, status: int = 200, **context: object) -> HttpResponse:
    context = {"counts": user_data_counts(user=request.user), "error": None, "erased": None, **context}
    return render(request, "accounts/data.html", context, status=status)


@login_required
@require_GET
def data_page(request: AuthedRequest) -> HttpResponse:
    return _page(request, erased=request.session.pop(ERASED, None))


@login_required
@require_GET
def data_export(request: AuthedRequest) -> JsonResponse:
    """Everything stored about the signed-in person, as the API's export, downloaded as a file."""
    response = JsonResponse(
        user_data_export(user=request.user), encoder=DjangoJSONEncoder, json_dumps_params={"indent": 2}
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="my-data-{stamp}.json"'
    return response


@login_required
@require_POST
def data_erase(request: AuthedRequest) -> HttpResponse:
    """Erase the person's sessions and memories once they typed their username to confirm."""
    if request.POST.get("confirm", "").strip() != request.user.get_username():
        return _page(request, status=422, error="Type your username exactly to confirm the erasure.")
    # Post/Redirect/Get: the page after says what went, once; a reload does not post again.
    request.session[ERASED] = user_data_erase(user=request.user)
    return redirect_303("accounts:data")


@login_required
@require_POST
def theme_set(request: AuthedRequest) -> HttpResponse:
    """Keep the chosen theme with the account, then back to the page it was chosen on."""
    try:
        preferences_set_theme(user=request.user, theme=request.POST.get("theme", ""))
    except InvalidInput as exc:
        return HttpResponse(exc.message, status=exc.status_code, content_type="text/plain; charset=utf-8")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("home")
    return redirect(back)
