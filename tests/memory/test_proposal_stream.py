"""A memory the model proposes in a chat run is a "proposed: ..." chip live, and the panel the run's
final frame brings lists it for review."""

from __future__ import annotations

import pytest

from memory_app.models import Memory, MemoryProposal
from sessions_app import services
from sessions_app.models import AgentSession, PersonSettings, Run
from tests.chat.sse import read_stream

pytestmark = [pytest.mark.usefixtures("app_model", "no_summaries"), pytest.mark.server_paths]


def test_a_proposal_is_a_chip_live_and_waits_in_the_panel(asgi_server, alice, app_model):
    PersonSettings.objects.create(user=alice, review_memories=True)
    app_model.reply(tool_calls=[("add_memory", {"memory": "Alice likes green tea", "topics": ["food"]})])
    app_model.reply(text="I'll ask you before I remember that.")
    session = AgentSession.objects.create(session_id="alice-thread", user=alice)
    run = services.run_create(session=session, input="I like green tea", status=Run.Status.PENDING)

    frames = read_stream(asgi_server, run.run_id, alice)

    chips = [f.data for f in frames if f.event == "chip"]
    assert chips and "proposed: Alice likes green tea" in chips[0]
    final = frames[-2].data
    assert "proposed: Alice likes green tea" in final
    panel = final[final.index('id="memory-panel"') :]
    assert "Waiting for your review (1)" in panel and "Alice likes green tea" in panel
    assert not Memory.objects.exists()
    assert MemoryProposal.objects.get().source_run_id == run.pk
