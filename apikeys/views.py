from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from agentapp.errors import InvalidInput
from agentapp.http import AuthedRequest, redirect_303

from .selectors import apikey_get_for_user, apikeys_for_user
from .services import apikey_create, apikey_revoke

# The secret of a key just made waits in the person's session for the page after the redirect,
# which shows it once: a reload shows the list, and never makes a second key.
NEW_KEY = "apikeys.new_key"


@login_required
@require_http_methods(["GET", "POST"])
def apikey_list(request: AuthedRequest) -> HttpResponse:
    """List the person's keys; a POST creates one, then redirects to the list showing its secret once."""
    context: dict = {"new_token": None, "new_key": None, "error": None, "name": ""}
    status = 200
    if request.method == "POST":
        context["name"] = request.POST.get("name", "")
        try:
            key, token = apikey_create(user=request.user, name=context["name"])
        except InvalidInput as exc:
            context["error"] = exc.message
            status = 422
        else:
            request.session[NEW_KEY] = {"pk": key.pk, "token": token}
            return redirect_303("apikeys:list")
    elif new := request.session.pop(NEW_KEY, None):
        context["new_key"] = apikey_get_for_user(pk=new["pk"], user=request.user)
        context["new_token"] = new["token"]
    context["keys"] = apikeys_for_user(user=request.user)
    return render(request, "apikeys/list.html", context, status=status)


@login_required
@require_POST
def apikey_revoke_view(request: AuthedRequest, pk: int) -> HttpResponse:
    apikey_revoke(apikey=apikey_get_for_user(pk=pk, user=request.user))
    return redirect("apikeys:list")
