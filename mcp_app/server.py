"""The MCP server (the official `mcp` SDK's MCPServer) with mem0's memory tools, names and arguments.

Who is asking is the transport's to say (`identify`): the API key of the HTTP request, or the
person `manage.py mcp --user` names on stdio. Each tool runs its Django work (`mcp_app.tools`) on
Django's thread for sync code; a refusal of the services (not found, invalid, conflict) is the
tool's error, with its message, as is a bad argument or an unknown tool (the SDK's own).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import close_old_connections
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from agentapp.errors import AgentAppError
from memory_app.services import MAX_MEMORY_CHARS

from . import tools

Identify = Callable[[Context], int]  # the asking person's primary key, or ToolError

NAME = "agentapp-memory"
INSTRUCTIONS = (
    "The person's long-term memory, shared with their chats in this app. Add a short fact about the "
    "person with add_memory; find what you need with search_memories; memory ids come from the results."
)

Text = Annotated[
    str, Field(min_length=1, max_length=MAX_MEMORY_CHARS, description="The fact, in a sentence.")
]
UserId = Annotated[
    str | None,
    Field(max_length=150, description="Whose memories: only for a service key (leave out for your own)."),
]
MemoryId = Annotated[str, Field(min_length=1, max_length=64, description="A memory's id, as listed.")]


def _in_django(
    work: Callable[..., dict[str, Any]], caller_pk: int, arguments: dict[str, Any]
) -> dict[str, Any]:
    close_old_connections()  # as Django does around each request
    try:
        me = get_user_model().objects.filter(pk=caller_pk, is_active=True).first()
        if not isinstance(me, User):
            raise ToolError("this account is no longer active")
        return work(me, **arguments)
    except AgentAppError as error:
        raise ToolError(error.message) from error
    finally:
        close_old_connections()


def build_server(identify: Identify) -> MCPServer:
    """A new server whose tools act for the person `identify` names, one server per event loop."""
    server: MCPServer = MCPServer(NAME, instructions=INSTRUCTIONS)

    async def call(ctx: Context, work: Callable[..., dict[str, Any]], **arguments: Any) -> dict[str, Any]:
        caller_pk = identify(ctx)
        return await sync_to_async(_in_django, thread_sensitive=True)(work, caller_pk, arguments)

    @server.tool()
    async def add_memory(text: Text, ctx: Context, user_id: UserId = None) -> dict[str, Any]:
        """Remember a fact about the person. Stored as given (or proposed for their review, when they
        review new memories first); the same fact twice is stored once."""
        return await call(ctx, tools.add_memory, text=text, user_id=user_id)

    @server.tool()
    async def search_memories(
        query: Annotated[str, Field(min_length=1, max_length=1000)],
        ctx: Context,
        user_id: UserId = None,
        limit: Annotated[int, Field(ge=1, le=100)] = 10,
    ) -> dict[str, Any]:
        """The person's memories that match the query by words or meaning, best first."""
        return await call(ctx, tools.search_memories, query=query, user_id=user_id, limit=limit)

    @server.tool()
    async def get_memories(ctx: Context, user_id: UserId = None) -> dict[str, Any]:
        """The person's current memories, most recently updated first."""
        return await call(ctx, tools.get_memories, user_id=user_id)

    @server.tool()
    async def get_memory(memory_id: MemoryId, ctx: Context) -> dict[str, Any]:
        """One memory by its id."""
        return await call(ctx, tools.get_memory, memory_id=memory_id)

    @server.tool()
    async def update_memory(memory_id: MemoryId, text: Text, ctx: Context) -> dict[str, Any]:
        """Change a memory's text (proposed for review instead, when the person reviews first)."""
        return await call(ctx, tools.update_memory, memory_id=memory_id, text=text)

    @server.tool()
    async def delete_memory(memory_id: MemoryId, ctx: Context) -> dict[str, Any]:
        """Delete a memory: it leaves every context at once (the person can restore it)."""
        return await call(ctx, tools.delete_memory, memory_id=memory_id)

    @server.tool()
    async def delete_all_memories(ctx: Context, user_id: UserId = None) -> dict[str, Any]:
        """Delete every memory of the person (each can be restored from its history)."""
        return await call(ctx, tools.delete_all_memories, user_id=user_id)

    return server
