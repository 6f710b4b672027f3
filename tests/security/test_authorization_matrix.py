"""Who may call what: one explicit rule per route and method, from the URL conf and the API's schema.

A route added without a rule here fails `test_every_route_has_a_rule`, naming it.
Statuses: an int, LOGIN (302 to the login page) or ADMIN_LOGIN (302 to the admin's login).
Browser routes are called with a session (keys are not a browser login: a key alone is anonymous);
API routes with a bearer key, or a session with its CSRF token.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from agentapp.api import api
from agentos_app.api import os_api

from .conftest import ACTORS, World

LOGIN = "login"
ADMIN_LOGIN = "admin login"


@dataclass(frozen=True)
class Rule:
    url: Callable[[World], str]
    expect: dict[str, int | str]
    data: Callable[[World], dict] = field(default=lambda w: {})
    api: bool = False
    form: bool = False  # an API route whose body is a form (AgentOS's runs), not JSON


def page(owner: int | str, *, other: int | str = 404, staff: int | str | None = None) -> dict:
    """A signed-in page: the owner's answer, another person's, staff's (default: the owner's)."""
    return {
        "alice": owner,
        "bob": other,
        "anonymous": LOGIN,
        "staff": owner if staff is None else staff,
        "alice_key": LOGIN,
        "service_key": LOGIN,
    }


def anyone(status: int | str) -> dict:
    return dict.fromkeys(ACTORS, status)


def api_route(owner: int, *, other: int = 404, staff: int | None = None, service: int | None = None) -> dict:
    return {
        "alice": owner,
        "bob": other,
        "anonymous": 401,
        "staff": owner if staff is None else staff,
        "alice_key": owner,
        "service_key": owner if service is None else service,
    }


def r(url: Callable[[World], str], expect: dict, data: Callable[[World], dict] | None = None) -> Rule:
    return Rule(url=url, expect=expect, data=data or (lambda w: {}))


def a(url: Callable[[World], str], expect: dict, data: Callable[[World], dict] | None = None) -> Rule:
    return Rule(url=url, expect=expect, data=data or (lambda w: {}), api=True)


def s(w: World) -> str:
    return w.session.session_id


def m(w: World) -> str:
    return w.memory.memory_id


def completed(w: World) -> str:
    """The run id of a reply of alice's that completed (made once per world): the one kind a person rates."""
    if not hasattr(w, "completed_run_id"):
        from tests.factories import finished_run

        w.completed_run_id = finished_run(w.session, "rate me", "A reply.").run_id  # type: ignore[attr-defined]
    return w.completed_run_id  # type: ignore[attr-defined]


def slack_link(w: World) -> str:
    """A one-time Slack link (made once per world): whoever signs in and confirms it links its person."""
    if not hasattr(w, "slack_link"):
        from slack_app import services as slack

        identity, _ = slack.identity_get_or_create(team_id="T0MATRIX", slack_user_id="U0MATRIX")
        w.slack_link = f"/settings/slack/link/{slack.link_token_create(identity=identity)}/"  # type: ignore[attr-defined]
    return w.slack_link  # type: ignore[attr-defined]


def slack_linked(w: World) -> int:
    """A Slack identity linked to alice (made once per world)."""
    if not hasattr(w, "slack_linked"):
        from django.utils import timezone

        from slack_app.models import SlackIdentity

        linked = SlackIdentity.objects.create(
            team_id="T0MATRIX", slack_user_id="U0ALICE", user=w.alice, linked_at=timezone.now()
        )
        w.slack_linked = linked.pk  # type: ignore[attr-defined]
    return w.slack_linked  # type: ignore[attr-defined]


ADMIN = {**anyone(ADMIN_LOGIN), "staff": 200}
OS_NOT_SERVED = "os/^(?P<rest>.*)$"  # AgentOS's routes this app does not serve
ADMIN_PREFIX = "admin/"

BROWSER_RULES: dict[tuple[str, str], Rule] = {
    ("", "GET"): r(lambda w: "/", page(200, other=200)),
    ("healthz", "GET"): r(lambda w: "/healthz", anyone(200)),
    ("readyz", "GET"): r(lambda w: "/readyz", anyone(200)),
    # Prometheus's: a bearer token or an allowed address, never a login (none is set here)
    ("metrics", "GET"): r(lambda w: "/metrics", anyone(403)),
    ("status/", "GET"): r(lambda w: "/status/", page(404, other=404, staff=200)),
    ("favicon.ico", "GET"): r(lambda w: "/favicon.ico", anyone(301)),
    ("settings/theme/", "POST"): r(
        lambda w: "/settings/theme/", page(302, other=302), lambda w: {"theme": "dark"}
    ),
    ("login/", "GET"): r(lambda w: "/login/", anyone(200)),
    ("login/", "POST"): r(lambda w: "/login/", anyone(200), lambda w: {"username": "x", "password": "y"}),
    ("logout/", "POST"): r(lambda w: "/logout/", anyone(LOGIN)),
    # the person's own memories (staff may name another person with ?user=)
    ("memories/", "GET"): r(lambda w: "/memories/", page(200, other=200)),
    ("memories/new/", "POST"): r(lambda w: "/memories/new/", page(302, other=302), lambda w: {"text": "x"}),
    ("memories/export/", "GET"): r(lambda w: "/memories/export/", page(200, other=200)),
    ("memories/import/", "POST"): r(lambda w: "/memories/import/", page(422, other=422)),
    # a person merges their own duplicates; naming another person finds no one; staff act for anyone
    ("memories/optimize/", "POST"): r(
        lambda w: "/memories/optimize/", page(200, other=404, staff=200), lambda w: {"user": "alice"}
    ),
    ("memories/optimize/apply/", "POST"): r(
        lambda w: "/memories/optimize/apply/", page(422, other=422, staff=422), lambda w: {"plan": "forged"}
    ),
    # a memory proposed for the person's review, kept (edited or not) or discarded; staff act for anyone
    ("memories/proposals/<str:proposal_id>/keep/", "POST"): r(
        lambda w: f"/memories/proposals/{w.proposal.proposal_id}/keep/", page(302)
    ),
    ("memories/proposals/<str:proposal_id>/discard/", "POST"): r(
        lambda w: f"/memories/proposals/{w.proposal.proposal_id}/discard/", page(302)
    ),
    ("memories/changes/<int:change_pk>/revert/", "POST"): r(
        lambda w: f"/memories/changes/{w.change.pk}/revert/", page(302)
    ),
    # a full-page load of one memory is its history page; htmx gets the item
    ("memories/<str:memory_id>/", "GET"): r(lambda w: f"/memories/{m(w)}/", page(302)),
    ("memories/<str:memory_id>/edit/", "GET"): r(lambda w: f"/memories/{m(w)}/edit/", page(200)),
    ("memories/<str:memory_id>/edit/", "POST"): r(
        lambda w: f"/memories/{m(w)}/edit/", page(302), lambda w: {"text": "Alice likes coffee"}
    ),
    ("memories/<str:memory_id>/delete/", "POST"): r(lambda w: f"/memories/{m(w)}/delete/", page(302)),
    ("memories/<str:memory_id>/restore/", "POST"): r(lambda w: f"/memories/{m(w)}/restore/", page(302)),
    ("memories/<str:memory_id>/history/", "GET"): r(lambda w: f"/memories/{m(w)}/history/", page(200)),
    # facts over time: close a memory with nothing in its place, make a closed one current again
    ("memories/<str:memory_id>/expire/", "POST"): r(lambda w: f"/memories/{m(w)}/expire/", page(302)),
    ("memories/<str:memory_id>/reopen/", "POST"): r(lambda w: f"/memories/{m(w)}/reopen/", page(302)),
    ("settings/api-keys/", "GET"): r(lambda w: "/settings/api-keys/", page(200, other=200)),
    ("settings/api-keys/", "POST"): r(
        lambda w: "/settings/api-keys/", page(303, other=303), lambda w: {"name": "laptop"}
    ),
    # the signed-in person's own settings; staff see their own (other people's: the API or the admin)
    ("settings/", "GET"): r(lambda w: "/settings/", page(200, other=200)),
    ("settings/", "POST"): r(
        lambda w: "/settings/", page(303, other=303), lambda w: {"how_to_respond": "Brief"}
    ),
    # the signed-in person's own data; staff see their own too (other people's: the API or the admin)
    ("settings/data/", "GET"): r(lambda w: "/settings/data/", page(200, other=200)),
    ("settings/data/export.json", "GET"): r(lambda w: "/settings/data/export.json", page(200, other=200)),
    ("settings/data/erase/", "POST"): r(lambda w: "/settings/data/erase/", page(422, other=422)),
    ("settings/api-keys/<int:pk>/revoke/", "POST"): r(
        lambda w: f"/settings/api-keys/{w.apikey.pk}/revoke/", page(302, staff=404)
    ),
    # Slack's events: authenticated by Slack's signature, never a login or a key (none here: 401)
    ("slack/events/", "POST"): r(lambda w: "/slack/events/", anyone(401)),
    # a one-time Slack link: whoever holds it and signs in may confirm it (it was given privately)
    ("settings/slack/link/<str:token>/", "GET"): r(slack_link, page(200, other=200)),
    ("settings/slack/link/<str:token>/", "POST"): r(slack_link, page(303, other=303)),
    # a person's own Slack link; staff unlink nobody's here (the admin lists them)
    ("settings/slack/<int:pk>/unlink/", "POST"): r(
        lambda w: f"/settings/slack/{slack_linked(w)}/unlink/", page(303, staff=404)
    ),
    ("runs/", "GET"): r(lambda w: "/runs/", page(200, other=200)),
    ("runs/<str:run_id>/", "GET"): r(lambda w: f"/runs/{w.run.run_id}/", page(200)),
    ("runs/<str:run_id>/context/", "GET"): r(lambda w: f"/runs/{w.run.run_id}/context/", page(200)),
    ("runs/<str:run_id>/events/<int:event_pk>/", "GET"): r(
        lambda w: f"/runs/{w.run.run_id}/events/{w.event.pk}/", page(200)
    ),
    ("sessions/<path:session_id>/timeline/", "GET"): r(lambda w: f"/sessions/{s(w)}/timeline/", page(200)),
    ("chat/new/", "POST"): r(lambda w: "/chat/new/", page(302, other=302), lambda w: {"message": "hi"}),
    ("chat/sessions/", "GET"): r(lambda w: "/chat/sessions/", page(200, other=200)),
    ("chat/runs/<str:run_id>/stream/", "GET"): r(
        lambda w: f"/chat/runs/{w.stopped.run_id}/stream/", page(200)
    ),
    ("chat/runs/<str:run_id>/stop/", "POST"): r(lambda w: f"/chat/runs/{w.run.run_id}/stop/", page(204)),
    ("chat/runs/<str:run_id>/regenerate/", "POST"): r(
        lambda w: f"/chat/runs/{w.stopped.run_id}/regenerate/", page(302)
    ),
    ("chat/runs/<str:run_id>/edit/", "GET"): r(lambda w: f"/chat/runs/{w.stopped.run_id}/edit/", page(200)),
    ("chat/runs/<str:run_id>/edit/", "POST"): r(
        lambda w: f"/chat/runs/{w.stopped.run_id}/edit/", page(302), lambda w: {"message": "hello there"}
    ),
    ("chat/runs/<str:run_id>/message/", "GET"): r(
        lambda w: f"/chat/runs/{w.stopped.run_id}/message/", page(200)
    ),
    ("chat/runs/<str:run_id>/show/", "POST"): r(lambda w: f"/chat/runs/{w.stopped.run_id}/show/", page(302)),
    # "forget what was learned from this" on one's own message, and its Undo (staff: for anyone)
    ("chat/runs/<str:run_id>/forget/", "POST"): r(lambda w: f"/chat/runs/{w.run.run_id}/forget/", page(302)),
    ("chat/runs/<str:run_id>/unforget/", "POST"): r(
        lambda w: f"/chat/runs/{w.run.run_id}/unforget/", page(302)
    ),
    # feedback is the person's own: an operator in someone's chat gives none for them
    ("chat/runs/<str:run_id>/feedback/", "POST"): r(
        lambda w: f"/chat/runs/{completed(w)}/feedback/", page(302, staff=404), lambda w: {"rating": "up"}
    ),
    ("chats/<path:session_id>/", "GET"): r(lambda w: f"/chats/{s(w)}/", page(200)),
    ("chats/<path:session_id>/messages/", "POST"): r(
        lambda w: f"/chats/{s(w)}/messages/", page(302), lambda w: {"message": "hi"}
    ),
    ("chats/<path:session_id>/older/", "GET"): r(
        lambda w: f"/chats/{s(w)}/older/?before={w.run.pk + 100}", page(200)
    ),
    ("chats/<path:session_id>/rename/", "GET"): r(lambda w: f"/chats/{s(w)}/rename/", page(200)),
    ("chats/<path:session_id>/item/", "GET"): r(lambda w: f"/chats/{s(w)}/item/", page(200)),
    ("chats/<path:session_id>/rename/", "POST"): r(
        lambda w: f"/chats/{s(w)}/rename/", page(302), lambda w: {"title": "Renamed"}
    ),
    ("chats/<path:session_id>/delete/", "POST"): r(lambda w: f"/chats/{s(w)}/delete/", page(302)),
    # Undo a delete (of a chat not deleted: nothing to undo, the chat opens)
    ("chats/<path:session_id>/restore/", "POST"): r(lambda w: f"/chats/{s(w)}/restore/", page(302)),
    ("chats/<path:session_id>/export/", "GET"): r(
        lambda w: f"/chats/{s(w)}/export/?format=markdown", page(200)
    ),
    # the API's own pages, outside its operations
    ("api/openapi.json", "GET"): r(lambda w: "/api/openapi.json", anyone(200)),
    ("api/docs", "GET"): r(lambda w: "/api/docs", anyone(200)),
    ("api/", "GET"): r(lambda w: "/api/", anyone(404)),  # ninja's index: nothing there outside DEBUG
    # the AgentOS-compatible API's own pages; its base URL and what it does not serve: a JSON 404
    ("os/openapi.json", "GET"): r(lambda w: "/os/openapi.json", anyone(200)),
    ("os/docs", "GET"): r(lambda w: "/os/docs", anyone(200)),
    ("os/", "GET"): r(lambda w: "/os/", anyone(404)),
    ("os/", "POST"): r(lambda w: "/os/", anyone(404)),
    (OS_NOT_SERVED, "GET"): r(lambda w: "/os/knowledge/content", anyone(404)),
    (OS_NOT_SERVED, "POST"): r(lambda w: "/os/teams/research/runs", anyone(404)),
}


def os_route(owner: int, *, other: int = 404) -> dict:
    """An AgentOS route: API keys only (a browser session is no bearer token); `other`: bob's key."""
    return {**dict.fromkeys(ACTORS, 401), "alice_key": owner, "service_key": owner, "bob_key": other}


def o(
    url: Callable[[World], str],
    expect: dict,
    data: Callable[[World], dict] | None = None,
    *,
    form: bool = False,
) -> Rule:
    return Rule(url=url, expect=expect, data=data or (lambda w: {}), api=True, form=form)


API_RULES: dict[tuple[str, str], Rule] = {
    ("/api/runs", "POST"): a(
        lambda w: "/api/runs",
        api_route(200),
        lambda w: {"message": "hi", "session_id": s(w), "user_id": "alice"},
    ),
    ("/api/runs/{run_id}", "GET"): a(lambda w: f"/api/runs/{w.run.run_id}", api_route(200)),
    ("/api/runs/{run_id}/cancel", "POST"): a(lambda w: f"/api/runs/{w.run.run_id}/cancel", api_route(200)),
    ("/api/runs/{run_id}/events", "GET"): a(lambda w: f"/api/runs/{w.stopped.run_id}/events", api_route(200)),
    ("/api/runs/{run_id}/forget", "POST"): a(lambda w: f"/api/runs/{w.run.run_id}/forget", api_route(200)),
    ("/api/runs/{run_id}/unforget", "POST"): a(
        lambda w: f"/api/runs/{w.run.run_id}/unforget", api_route(200)
    ),
    # the run's person's feedback; a service key (or an operator) relays it, recorded as theirs
    ("/api/runs/{run_id}/feedback", "POST"): a(
        lambda w: f"/api/runs/{completed(w)}/feedback", api_route(200), lambda w: {"rating": "up"}
    ),
    ("/api/sessions", "GET"): a(lambda w: "/api/sessions?user_id=alice", api_route(200)),
    ("/api/sessions/{session_id}", "GET"): a(lambda w: f"/api/sessions/{s(w)}", api_route(200)),
    ("/api/sessions/{session_id}", "PATCH"): a(
        lambda w: f"/api/sessions/{s(w)}", api_route(200), lambda w: {"title": "Renamed"}
    ),
    ("/api/sessions/{session_id}", "DELETE"): a(lambda w: f"/api/sessions/{s(w)}", api_route(204)),
    ("/api/sessions/{session_id}/export", "GET"): a(lambda w: f"/api/sessions/{s(w)}/export", api_route(200)),
    ("/api/sessions/{session_id}/runs", "GET"): a(lambda w: f"/api/sessions/{s(w)}/runs", api_route(200)),
    ("/api/sessions/{session_id}/summary", "GET"): a(
        lambda w: f"/api/sessions/{s(w)}/summary", api_route(200)
    ),
    ("/api/sessions/{session_id}/summary/refresh", "POST"): a(
        lambda w: f"/api/sessions/{s(w)}/summary/refresh", api_route(202)
    ),
    ("/api/memories", "GET"): a(lambda w: "/api/memories?user_id=alice", api_route(200)),
    ("/api/memories", "POST"): a(
        lambda w: "/api/memories", api_route(201), lambda w: {"text": "Alice owns a cat", "user_id": "alice"}
    ),
    ("/api/memories/{memory_id}", "GET"): a(lambda w: f"/api/memories/{m(w)}", api_route(200)),
    ("/api/memories/{memory_id}", "PATCH"): a(
        lambda w: f"/api/memories/{m(w)}",
        api_route(200),
        lambda w: {"text": "Alice likes coffee"},
    ),
    ("/api/memories/{memory_id}", "DELETE"): a(lambda w: f"/api/memories/{m(w)}", api_route(204)),
    ("/api/memories/{memory_id}/history", "GET"): a(
        lambda w: f"/api/memories/{m(w)}/history", api_route(200)
    ),
    ("/api/memories/{memory_id}/revert/{change_id}", "POST"): a(
        lambda w: f"/api/memories/{m(w)}/revert/{w.change.pk}", api_route(200)
    ),
    ("/api/memories/{memory_id}/expire", "POST"): a(lambda w: f"/api/memories/{m(w)}/expire", api_route(200)),
    # a memory proposed for the person's review: kept (the memory it became) or discarded
    ("/api/memories/{proposal_id}/approve", "POST"): a(
        lambda w: f"/api/memories/{w.proposal.proposal_id}/approve", api_route(200)
    ),
    ("/api/memories/{proposal_id}/reject", "POST"): a(
        lambda w: f"/api/memories/{w.proposal.proposal_id}/reject", api_route(200)
    ),
    ("/api/memory-topics", "GET"): a(lambda w: "/api/memory-topics?user_id=alice", api_route(200)),
    ("/api/users/{user_id}/settings", "GET"): a(lambda w: "/api/users/alice/settings", api_route(200)),
    ("/api/users/{user_id}/settings", "PATCH"): a(
        lambda w: "/api/users/alice/settings", api_route(200), lambda w: {"how_to_respond": "Be brief"}
    ),
    ("/api/users/{user_id}/export", "GET"): a(lambda w: "/api/users/alice/export", api_route(200)),
    ("/api/users/{user_id}/data", "DELETE"): a(lambda w: "/api/users/alice/data", api_route(200)),
}

# AgentOS's routes, for Agno's clients and agent-ui: bearer keys only; bob's key reaches none of alice's
OS_RULES: dict[tuple[str, str], Rule] = {
    ("/os/health", "GET"): o(lambda w: "/os/health", {**anyone(200), "bob_key": 200}),
    ("/os/config", "GET"): o(lambda w: "/os/config", os_route(200, other=200)),
    ("/os/agents", "GET"): o(lambda w: "/os/agents", os_route(200, other=200)),
    ("/os/agents/{agent_id}", "GET"): o(lambda w: "/os/agents/agent", os_route(200, other=200)),
    ("/os/teams", "GET"): o(lambda w: "/os/teams", os_route(200, other=200)),
    ("/os/agents/{agent_id}/runs", "POST"): o(
        lambda w: "/os/agents/agent/runs",
        os_route(200),
        lambda w: {"message": "hi", "session_id": s(w), "user_id": "alice", "stream": "false"},
        form=True,
    ),
    ("/os/agents/{agent_id}/runs/{run_id}/cancel", "POST"): o(
        lambda w: f"/os/agents/agent/runs/{w.run.run_id}/cancel", os_route(200)
    ),
    ("/os/sessions", "GET"): o(lambda w: "/os/sessions?user_id=alice", os_route(200)),
    ("/os/sessions", "POST"): o(
        lambda w: "/os/sessions", os_route(201), lambda w: {"user_id": "alice", "session_name": "New"}
    ),
    ("/os/sessions", "DELETE"): o(
        lambda w: "/os/sessions", os_route(204), lambda w: {"session_ids": [s(w)], "session_types": ["agent"]}
    ),
    ("/os/sessions/{session_id}", "GET"): o(lambda w: f"/os/sessions/{s(w)}", os_route(200)),
    ("/os/sessions/{session_id}", "PATCH"): o(
        lambda w: f"/os/sessions/{s(w)}", os_route(200), lambda w: {"session_name": "Renamed"}
    ),
    ("/os/sessions/{session_id}", "DELETE"): o(lambda w: f"/os/sessions/{s(w)}", os_route(204)),
    ("/os/sessions/{session_id}/rename", "POST"): o(
        lambda w: f"/os/sessions/{s(w)}/rename", os_route(200), lambda w: {"session_name": "Renamed"}
    ),
    ("/os/sessions/{session_id}/runs", "GET"): o(lambda w: f"/os/sessions/{s(w)}/runs", os_route(200)),
    ("/os/sessions/{session_id}/run-previews", "GET"): o(
        lambda w: f"/os/sessions/{s(w)}/run-previews", os_route(200)
    ),
    ("/os/sessions/{session_id}/runs/{run_id}", "GET"): o(
        lambda w: f"/os/sessions/{s(w)}/runs/{w.run.run_id}", os_route(200)
    ),
    ("/os/memories", "GET"): o(lambda w: "/os/memories?user_id=alice", os_route(200)),
    ("/os/memories", "POST"): o(
        lambda w: "/os/memories", os_route(200), lambda w: {"memory": "Alice owns a cat", "user_id": "alice"}
    ),
    ("/os/memories", "DELETE"): o(lambda w: "/os/memories", os_route(204), lambda w: {"memory_ids": [m(w)]}),
    ("/os/memories/{memory_id}", "GET"): o(lambda w: f"/os/memories/{m(w)}", os_route(200)),
    ("/os/memories/{memory_id}", "PATCH"): o(
        lambda w: f"/os/memories/{m(w)}", os_route(200), lambda w: {"memory": "Alice likes coffee"}
    ),
    ("/os/memories/{memory_id}", "DELETE"): o(lambda w: f"/os/memories/{m(w)}", os_route(204)),
    ("/os/memory_topics", "GET"): o(lambda w: "/os/memory_topics?user_id=alice", os_route(200)),
    ("/os/user_memory_stats", "GET"): o(lambda w: "/os/user_memory_stats?user_id=alice", os_route(200)),
    # alice has one memory: nothing to merge, and no model request
    ("/os/optimize-memories", "POST"): o(
        lambda w: "/os/optimize-memories", os_route(200), lambda w: {"user_id": "alice", "apply": False}
    ),
}
API_RULES.update(OS_RULES)

API_PAGES = {"api/", "api/openapi.json", "api/docs", "os/", "os/openapi.json", "os/docs"}  # not operations
ADMIN_PAGES = (
    "/admin/",
    "/admin/sessions_app/run/",
    "/admin/memory_app/memory/",
    "/admin/apikeys/apikey/",
    "/admin/slack_app/slackidentity/",
)


# --- the routes that exist --------------------------------------------------------------
def url_patterns(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    """Every route of the URL conf, includes flattened; the admin as one prefix."""
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route == ADMIN_PREFIX:
                found.append(route)
            else:
                found.extend(url_patterns(entry, route))
        elif isinstance(entry, URLPattern):
            found.append(route)
    return found


def api_operations() -> set[tuple[str, str]]:
    paths = api.get_openapi_schema()["paths"] | os_api.get_openapi_schema()["paths"]
    return {(path, method.upper()) for path, ops in paths.items() for method in ops}


def api_patterns() -> set[str]:
    """The URL-conf routes ninja serves its operations on ("api/runs/<run_id>" and the like)."""
    found = set()
    for route in url_patterns():
        if route.startswith(("api/", "os/")) and route not in API_PAGES and route != OS_NOT_SERVED:
            found.add(route)
    return found


def test_every_route_has_a_rule():
    covered = {route for route, _ in BROWSER_RULES} | {ADMIN_PREFIX}
    missing = [route for route in url_patterns() if route not in covered and route not in api_patterns()]
    assert not missing, f"routes without an authorization rule: {missing}"
    missing_api = sorted(api_operations() - set(API_RULES))
    assert not missing_api, f"API operations without an authorization rule: {missing_api}"


def test_no_rule_names_a_route_that_is_gone():
    routes = set(url_patterns())
    assert not [key for key in BROWSER_RULES if key[0] not in routes]
    assert not sorted(set(API_RULES) - api_operations())


def test_the_api_routes_in_the_url_conf_are_all_documented_operations():
    documented = {path.replace("{", "<").replace("}", ">").lstrip("/") for path, _ in api_operations()}
    assert {p.replace("<str:", "<").replace("<int:", "<") for p in api_patterns()} <= documented


# --- each rule, for each actor ------------------------------------------------------------
def _call(world: World, rule: Rule, method: str, actor: str):
    client, headers = world.client(actor, csrf=rule.api)
    url = rule.url(world)
    data = rule.data(world)
    if rule.form:
        return client.post(url, data=data, headers=headers)
    if rule.api:
        if method == "GET":
            return client.get(url, headers=headers)
        return client.generic(
            method, url, data=json.dumps(data), content_type="application/json", headers=headers
        )
    if method == "GET":
        return client.get(url, headers=headers)
    return client.post(url, data=data, headers=headers)


def _status(response) -> int | str:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith("/admin/login/"):
            return ADMIN_LOGIN
        if location.startswith("/login/"):
            return LOGIN
    return response.status_code


CASES = [
    pytest.param(key, actor, id=f"{key[1]} {key[0] or '/'} as {actor}")
    for rules in (BROWSER_RULES, API_RULES)
    for key in rules
    for actor in ACTORS
]


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "actor"), CASES)
def test_each_route_answers_each_actor_as_its_rule_says(key, actor, world, replying):
    rule = BROWSER_RULES.get(key) or API_RULES[key]
    response = _call(world, rule, key[1], actor)
    assert _status(response) == rule.expect[actor], (key, actor, response.status_code, response.content[:300])


@pytest.mark.django_db
@pytest.mark.parametrize("path", ADMIN_PAGES)
@pytest.mark.parametrize("actor", ACTORS)
def test_the_admin_is_for_staff_only(path, actor, world):
    client, headers = world.client(actor)
    assert _status(client.get(path, headers=headers)) == ADMIN[actor]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "route",
    sorted({route for route, _ in BROWSER_RULES if route not in API_PAGES}),
    ids=lambda route: route or "/",
)
def test_a_browser_route_refuses_a_method_without_a_rule(route, world):
    methods = {m for (p, m) in BROWSER_RULES if p == route}
    rule = next(rule for (p, _), rule in BROWSER_RULES.items() if p == route)
    client, headers = world.client("alice")
    for method in {"GET", "POST"} - methods:
        response = getattr(client, method.lower())(rule.url(world), headers=headers)
        assert response.status_code == 405, (route, method, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(OS_RULES), ids=lambda key: f"{key[1]} {key[0]} as bob_key")
def test_each_agentos_route_gives_bobs_key_none_of_alices_data(key, world, replying):
    from apikeys.services import apikey_create

    world.tokens["bob_key"] = apikey_create(user=world.bob, name="bob's agno")[1]
    rule = OS_RULES[key]
    response = _call(world, rule, key[1], "bob_key")
    assert response.status_code == rule.expect["bob_key"], (key, response.status_code, response.content[:300])
    if response.status_code == 404:
        assert set(response.json()) == {"detail"}
