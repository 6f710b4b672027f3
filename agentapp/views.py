from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sessions_app.models import AgentSession


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    sessions = AgentSession.objects.filter(user=request.user).order_by("-updated_at")[:20]
    return render(request, "home.html", {"sessions": sessions})


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True, "database": connection.vendor})
