"""A person's own data in the browser: what is stored, a download of all of it, and erasure."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from agentapp.errors import InvalidInput
from agentapp.http import AuthedRequest, redirect_303

from .services import preferences_set_theme, user_data_counts, user_data_erase, user_data_export

ERASED = "accounts.erased"  # the counts of an erasure, for the page after its redirect


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
