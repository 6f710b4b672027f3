"""The operators' endpoints: readiness for orchestrators, /metrics for Prometheus, /status/ for staff."""

from __future__ import annotations

import hmac
from ipaddress import ip_address, ip_network

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from kombu.utils.url import maybe_sanitize_url

from agentapp import app_agent
from agentapp.http import AuthedRequest
from agentapp.platform.database import pgvector_state
from slack_app.selectors import slack_status

from . import probes, scrape, selectors


def broker_configured() -> bool:
    """A broker of its own (Redis) is worth checking; the embedded filesystem one is a folder."""
    return not settings.CELERY_BROKER_URL.startswith("filesystem")


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready for traffic: the database answers and, when one is configured, the broker."""
    checks: dict[str, str] = {}
    database = probes.database_probe()
    checks["database"] = "ok" if database.ok else f"unreachable: {database.detail.split(':')[0]}"
    if broker_configured():
        broker = probes.broker_probe()
        checks["broker"] = "ok" if broker.ok else f"unreachable: {broker.detail}"
    failed = [name for name, state in checks.items() if state != "ok"]
    if failed:
        message = "Not ready: " + ", ".join(f"the {name} is unreachable" for name in failed)
        return JsonResponse({"ok": False, "message": message, "detail": checks}, status=503)
    return JsonResponse({"ok": True, **checks})


def _metrics_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode()):
            return True
    forwarded = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    if forwarded and not settings.METRICS_TRUST_FORWARDED:
        # The address is what a proxy said (uvicorn takes X-Forwarded-For from a loopback peer), and
        # a proxy passing the client's own header through would let anyone name an allowed one.
        return False
    try:
        address = ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ip_network(allowed, strict=False) for allowed in settings.METRICS_ALLOWED_IPS)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _metrics_allowed(request):
        return HttpResponse(
            "Metrics are not public: send the bearer token METRICS_TOKEN, or scrape from an address in "
            "METRICS_ALLOWED_IPS (not through a proxy, unless METRICS_TRUST_FORWARDED is set).\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    body = scrape.metrics_render(multiprocess_dir=settings.PROMETHEUS_MULTIPROC_DIR)
    return HttpResponse(body, content_type="text/plain; version=0.0.4; charset=utf-8")


@login_required
@require_GET
def status_page(request: AuthedRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise Http404("no such page")
    heartbeats = selectors.heartbeats_recent()
    context = {
        "webs": [h for h in heartbeats if h.kind == "web"],
        "workers": [h for h in heartbeats if h.kind == "worker"],
        "workers_alive": selectors.workers_alive(),
        "silent_before": timezone.now() - selectors.WORKER_SILENCE,
        "background_tasks": app_agent.background_tasks(),
        "broker": probes.broker_probe(),
        "broker_url": _shown_url(settings.CELERY_BROKER_URL),
        "queues": probes.queue_lengths(),
        "runs": selectors.run_figures(),
        "feedback": selectors.feedback_figures(),
        "stale_runs": selectors.runs_stale(),
        "stale_after": settings.AGENT_STALE_RUN_SECONDS,
        "model": app_agent.configured_model(),
        "model_probe": probes.model_probe(),
        "embedder": probes.recall_description(),
        "embedder_probe": probes.embedder_probe(),
        "pgvector": pgvector_state(),
        "database_size": selectors.database_size_bytes(),
        "slack": slack_status(),
    }
    return render(request, "observability/status.html", context)


def _shown_url(url: str) -> str:
    """A URL without its password."""
    return str(maybe_sanitize_url(url))
