from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from sessions_app.views import chat_page


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The chat, with a fresh conversation open: the first message creates the session."""
    return chat_page(request, None)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True, "database": connection.vendor})
