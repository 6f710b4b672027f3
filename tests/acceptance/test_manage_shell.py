"""The README's snippet, pasted into `python manage.py shell`, against a server named by OPENAI_BASE_URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from agentapp.platform.database import database_url
from tests.fake_openai import Reply

ROOT = Path(__file__).resolve().parents[2]

SNIPPET = """
import json
from agentapp.agent import Agent
from agentapp.db import DjangoDb
from agentapp.llm import OpenAIResponses, OpenAIChat
agent = Agent(model={model}(id="gpt-5.5"), db=DjangoDb(),
              add_history_to_context=True, num_history_runs=5, enable_agentic_memory=True)
agent.run("My name is Sarah and I prefer email over phone.", user_id="sarah@acme.com", session_id="thread-42")
reply = agent.run("What's the best way to reach me?",
                  user_id="sarah@acme.com", session_id="thread-42").content
memories = agent.get_user_memories(user_id="sarah@acme.com")
found = [[m.memory_id, m.memory, m.topics] for m in memories]
print("RESULT " + json.dumps({{"reply": reply, "memories": found}}))
"""


def _responder(request):
    text = json.dumps(request.body)
    # The last item sent: a tool's result to acknowledge (earlier ones are history, replayed).
    last = (request.body.get("messages") or request.body.get("input"))[-1]
    if last.get("role") == "tool" or last.get("type") == "function_call_output":
        return Reply(text="Nice to meet you, Sarah.")
    if "best way to reach me" in text:
        return Reply(text="By email, as you prefer.")
    return Reply(
        tool_calls=[("add_memory", {"memory": "Sarah prefers email over phone", "topics": ["contact"]})]
    )


@pytest.mark.parametrize("model", ["OpenAIResponses", "OpenAIChat"])
def test_the_readme_snippet_works_in_manage_py_shell(tmp_path, fake_openai, model, transactional_db):
    fake_openai.responder = _responder
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "agentapp.settings",
        "DATABASE_URL": database_url(connection),  # the test database: the test reads what the shell wrote
        "AGENTAPP_VAR_DIR": str(tmp_path),
        "OPENAI_BASE_URL": fake_openai.base_url,
        "OPENAI_API_KEY": "sk-shell-test",
    }
    env.pop("AGENT_MODEL", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT, timeout=120)
    done = subprocess.run(
        [*manage, "shell", "-c", SNIPPET.format(model=model)],
        env=env,
        cwd=ROOT,
        timeout=120,
        capture_output=True,
        text=True,
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert result["reply"] == "By email, as you prefer."
    assert [m[1:] for m in result["memories"]] == [["Sarah prefers email over phone", ["contact"]]]
    assert result["memories"][0][0].startswith("mem_")
    last = json.dumps(fake_openai.requests[-1].body)
    assert "My name is Sarah" in last and "Sarah prefers email over phone" in last
    assert all(r.headers.get("authorization") == "Bearer sk-shell-test" for r in fake_openai.requests)
