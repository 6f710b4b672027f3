"""Script and event-handler payloads stored everywhere a person or a model can put text, and a
checker that finds any of them live in rendered HTML."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import quote

from memory_app.models import Memory
from memory_app.services import memory_update
from sessions_app import services
from sessions_app.models import AgentSession, Run, RunEvent, SessionSummary

PAYLOADS = (
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '<a href="javascript:window.__xss=1">x</a>',
    '" onmouseover="window.__xss=1',
    "' onmouseover='window.__xss=1",
    "<svg onload=window.__xss=1>",
)
ALL = " ".join(PAYLOADS)
# Raw tags that appear only if a payload was not escaped. (A quote in a text node is harmless, so an
# attribute break-out is found by the parser, as an on* attribute that exists, not by its characters.)
RAW = ("<script>window.__xss", "<img src=x onerror", '<a href="javascript:', "<svg onload")

URL_ATTRIBUTES = ("href", "src", "action", "formaction", "hx-get", "hx-post")


@dataclass
class Hostile:
    session: AgentSession
    run: Run  # a reply with every payload, after a tool call carrying them
    failed: Run  # its error carries them too
    memory: Memory
    event: RunEvent

    def pages(self) -> list[str]:
        """Every page that shows the stored text, and some that echo the query string."""
        sid, rid, mid = self.session.session_id, self.run.run_id, self.memory.memory_id
        q = quote(ALL)
        return [
            "/",
            f"/chats/{sid}/",
            f"/chats/{sid}/?q={q}",
            f"/chat/sessions/?q={q}&current={sid}",
            f"/chats/{sid}/rename/",
            "/memories/",
            f"/memories/?q={q}",
            f"/memories/{mid}/history/",
            f"/memories/{mid}/edit/",
            f"/runs/{rid}/",
            f"/runs/{rid}/context/",
            f"/runs/{rid}/events/{self.event.pk}/",
            f"/runs/{self.failed.run_id}/",
            f"/sessions/{sid}/timeline/",
            "/runs/",
            f"/runs/?session={q}",
        ]


def hostile_build(*, user, make_agent, fake_openai) -> Hostile:
    """A real run of `user`'s: the model calls add_memory with every payload, then answers with them."""
    fake_openai.reply(
        tool_calls=[("add_memory", {"memory": f"likes {p}", "topics": [p[:50]]}) for p in PAYLOADS]
    )
    fake_openai.reply(text=f"{ALL}\n\n[click](javascript:window.__xss=1) **{PAYLOADS[0]}**")
    agent = make_agent("chat", enable_agentic_memory=True)
    output = agent.run(ALL, user_id=user.get_username(), session_id="xss-thread")
    fake_openai.reply(status=400, error=ALL)
    failed = agent.run(f"again {ALL}", user_id=user.get_username(), session_id="xss-thread")
    session = AgentSession.objects.get(session_id="xss-thread")
    services.session_rename(session=session, title=ALL[:200])
    SessionSummary.objects.create(session=session, text=ALL, topics=list(PAYLOADS), last_run_id=None)
    memory = Memory.objects.filter(user=user).order_by("pk").first()
    memory_update(memory=memory, text=f"updated {ALL}", topics=list(PAYLOADS), actor="person")
    run = Run.objects.get(run_id=output.run_id)
    return Hostile(
        session=session,
        run=run,
        failed=Run.objects.get(run_id=failed.run_id),
        memory=memory,
        event=RunEvent.objects.filter(run=run, kind="tool_call").first()
        or RunEvent.objects.filter(run=run).first(),
    )


class _LiveMarkup(HTMLParser):
    """Collects every place a payload would run: a script's body, an on* handler, a javascript: URL."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") and "__xss" in value:
                self.found.append(f"<{tag} {name}={value!r}>")
            if (
                name in ("href", "src", "action", "formaction", "hx-get", "hx-post")
                and "javascript:" in value
            ):
                self.found.append(f"<{tag} {name}={value!r}>")
            if "__xss" in name:
                self.found.append(f"<{tag}> attribute {name!r}")
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and "__xss" in data:
            self.found.append(f"<script>{data[:80]}")


def live_payloads(html: str) -> list[str]:
    """What of the payloads would run in this HTML: parsed markup, and the raw fragments themselves."""
    parser = _LiveMarkup()
    parser.feed(html)
    return parser.found + [fragment for fragment in RAW if fragment in html]
