"""The request a signed-in page sees, as its views type it."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import resolve_url
from django_htmx.middleware import HtmxDetails


class AuthedRequest(HttpRequest):
    """Behind `login_required`: the user is signed in; django-htmx's middleware adds `htmx`."""

    user: User
    htmx: HtmxDetails


def signed_in(request: HttpRequest) -> User:
    """The user of a request that only a signed-in person reaches (`login_required`, the admin)."""
    return cast(User, request.user)


def redirect_303(to: str, *args: object) -> HttpResponseRedirect:
    """Post/Redirect/Get: "see other", so the browser's reload repeats the GET, never the POST."""
    return HttpResponseRedirect(resolve_url(to, *args), status=303)
