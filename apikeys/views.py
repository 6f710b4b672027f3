from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from agentapp.errors import InvalidInput
from agentapp.http import AuthedRequest

from .selectors import apikey_get_for_user, apikeys_for_user
from .services import apikey_create, apikey_revoke


@login_required
@require_http_methods(["GET", "POST"])
def apikey_list(request: AuthedRequest) -> HttpResponse:
    """List the person's keys; a POST creates one and shows its secret on this response only."""
    context: dict = {"new_token": None, "new_key": None, "error": None, "name": ""}
    status = 200
    if request.method == "POST":
        context["name"] = request.POST.get("name", "")
        try:
            context["new_key"], context["new_token"] = apikey_create(user=request.user, name=context["name"])
            context["name"] = ""
            status = 201
        except InvalidInput as exc:
            context["error"] = exc.message
            status = 422
    context["keys"] = apikeys_for_user(user=request.user)
    return render(request, "apikeys/list.html", context, status=status)


@login_required
@require_POST
def apikey_revoke_view(request: AuthedRequest, pk: int) -> HttpResponse:
    apikey_revoke(apikey=apikey_get_for_user(pk=pk, user=request.user))
    return redirect("apikeys:list")
