"""AgentOS's health, config and agents, and the agent's runs (streamed as Agno's events)."""

# No `from __future__ import annotations`: ninja reads the annotations of the routes at import.

from datetime import UTC, datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Form, Router
from ninja.errors import ValidationError

from agentapp.api_types import Id
from agentapp.ownership import caller
from agentos_app import shapes
from agentos_app.schemas import (
    AgentDetailOut,
    AgentOut,
    ConfigOut,
    HealthOut,
    OsErrorOut,
    RunForm,
    RunOutputOut,
)
from agentos_app.stream import agno_follow
from sessions_app import selectors as session_selectors
from sessions_app import services as session_services
from sessions_app.callers import run_caller
from sessions_app.live import request_connection_give_back, run_drive

from .common import ERRORS, agent_facts, check_agent

router = Router(tags=["agents"])
STARTED_AT = datetime.now(UTC)


@router.get("/health", auth=None, response={200: HealthOut}, summary="Health check")
def health(request: HttpRequest):
    return {"status": "ok", "instantiated_at": STARTED_AT}


@router.get("/config", response={200: ConfigOut, **ERRORS}, summary="The OS's configuration")
def config(request: HttpRequest):
    return shapes.config(agent=shapes.agent_summary(**agent_facts()))


@router.get("/agents", response={200: list[AgentOut], **ERRORS}, summary="The agents (one: the app's)")
def agent_list(request: HttpRequest):
    return [shapes.agent_summary(**agent_facts())]


@router.get("/agents/{agent_id}", response={200: AgentDetailOut, **ERRORS}, summary="One agent")
def agent_detail(request: HttpRequest, agent_id: Id):
    check_agent(agent_id)
    return shapes.agent_detail(**agent_facts())


@router.get("/teams", response={200: list[dict[str, Any]], **ERRORS}, summary="Teams: none are served")
def team_list(request: HttpRequest):
    """No teams here: an empty list, so agent-ui (which asks) shows only the agent."""
    return []


# --- runs ---------------------------------------------------------------------------------------
def _refuse_unknown_fields(request: HttpRequest) -> None:
    """ninja's Form reads only the fields it declares: a misspelt one would pass unseen."""
    unknown = sorted((set(request.POST) | set(request.FILES)) - set(RunForm.model_fields))
    if unknown:
        raise ValidationError(
            [
                {"loc": ["form", name], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
                for name in unknown
            ]
        )


RUN_DOC = {
    "responses": {
        200: {
            "description": "With `stream=false` the run as JSON; otherwise (the default) a "
            "text/event-stream of Agno's events (`RunStarted`, `RunContent`, `ToolCallStarted`, "
            "`ToolCallCompleted`, ..., `RunCompleted` | `RunError` | `RunCancelled`), each `data:` "
            "a JSON object with its `event`.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    }
}


@router.post(
    "/agents/{agent_id}/runs",
    response={200: RunOutputOut, 409: OsErrorOut, 429: OsErrorOut, 503: OsErrorOut, **ERRORS},
    openapi_extra=RUN_DOC,
    summary="Run the agent",
)
async def run_create(request: HttpRequest, agent_id: Id, form: Form[RunForm]):
    """A new turn in the session named (a new session without one), for the key's person or, with a
    service key, the `user_id` named. Streamed unless `stream=false`."""
    _refuse_unknown_fields(request)
    await sync_to_async(check_agent)(agent_id)
    user_id, agent = await sync_to_async(run_caller)(request, form.user_id or None)
    session_id = form.session_id or None
    if form.stream:
        events = await agent.arun(
            form.message, user_id=user_id, session_id=session_id, stream=True, stream_events=True
        )
        started = await anext(events)  # RunStarted: the run is stored, and has its id
        run_drive(run_id=started.run_id, events=events, first=started)
        await request_connection_give_back()
        stream = agno_follow(
            started.run_id,
            session_id=started.session_id,
            agent_id=agent.settings.id,
            agent_name=agent.settings.name,
        )
        response = StreamingHttpResponse(stream, content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response
    output = await agent.arun(form.message, user_id=user_id, session_id=session_id)
    run = await sync_to_async(session_selectors.run_get_for_user)(run_id=output.run_id, user=caller(request))
    return shapes.run_output(run, agent_id=agent.settings.id, agent_name=agent.settings.name)


@router.post("/agents/{agent_id}/runs/{run_id}/cancel", response={200: dict[str, Any], **ERRORS})
def run_cancel(request: HttpRequest, agent_id: Id, run_id: Id):
    """Stop the run, if it is still going (a finished run stays as it ended), as AgentOS does."""
    check_agent(agent_id)
    run = session_selectors.run_get_for_user(run_id=run_id, user=caller(request))
    session_services.run_cancel(run=run)
    return {}
