"""The one plain view: what AgentOS serves and this app does not, answered in AgentOS's error shape."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

NOT_SERVED = "knowledge, evals, teams, workflows, traces, metrics"


@csrf_exempt  # a JSON answer for any method, never a CSRF page: nothing here reads or writes
def not_served(request: HttpRequest, rest: str) -> JsonResponse:
    return JsonResponse(
        {
            "detail": f"/os/{rest} is not served here: this server speaks AgentOS's agents, sessions, "
            f"runs and memories (not {NOT_SERVED})",
            "error_code": "not_served",
        },
        status=404,
    )
