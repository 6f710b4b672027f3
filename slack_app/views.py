"""Slack's events endpoint (authenticated by Slack's signature, not a login) and the pages where a
signed-in person confirms a one-time link and undoes a link."""

from __future__ import annotations

import json

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from agentapp.http import AuthedRequest, redirect_303

from . import selectors, services
from .inbound import event_begin
from .reply import reply_start
from .signature import request_verified


@csrf_exempt  # Slack signs its requests: the signature is checked before anything is read
@require_POST
async def slack_events(request: HttpRequest) -> HttpResponse:
    """Answered at once (Slack waits 3 s); the run and its reply go on in this process."""
    try:
        body = request.body
    except RawPostDataException:  # a multipart form, read before the view: never Slack's (JSON)
        body = b""
    if not request_verified(body=body, headers=request.headers):
        return JsonResponse({"error": "The request is not signed by Slack, or too old."}, status=401)
    try:
        payload = json.loads(body)
    except ValueError:
        return JsonResponse({"error": "The body is not JSON."}, status=400)
    if not isinstance(payload, dict):
        return JsonResponse({"error": "The body is not a JSON object."}, status=400)
    if payload.get("type") == "url_verification":
        return JsonResponse({"challenge": str(payload.get("challenge", ""))})
    if payload.get("type") != "event_callback":
        return HttpResponse(status=200)
    begin = await sync_to_async(event_begin)(payload=payload)
    if begin is not None:
        link_url = ""
        if begin.link_token:
            link_url = request.build_absolute_uri(reverse("slack:link", args=[begin.link_token]))
        await reply_start(begin=begin, link_url=link_url)
    return HttpResponse(status=200)


@login_required
@require_http_methods(["GET", "POST"])
def link_page(request: AuthedRequest, token: str) -> HttpResponse:
    """What linking does, and Confirm (a POST: a link followed by a preview bot links nobody)."""
    link = selectors.link_get(token_hash=services.token_hash(token))
    if link is None:
        return render(request, "slack_app/link.html", {"link": None}, status=404)
    if request.method == "POST":
        services.link_confirm(token=token, user=request.user)
        return redirect_303(f"{reverse('accounts:settings')}#slack-links")
    context = {"link": link, "token": token, "held": selectors.account_counts(identity=link.identity)}
    return render(request, "slack_app/link.html", context)


@login_required
@require_POST
def unlink(request: AuthedRequest, pk: int) -> HttpResponse:
    services.identity_unlink(identity_pk=pk, user=request.user)
    return redirect_303(f"{reverse('accounts:settings')}#slack-links")
