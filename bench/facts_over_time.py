"""Facts over time: does a fact that changed stop reaching the context as if it were current?

    .venv/bin/python bench/facts_over_time.py                    # DjangoDb on the embedded server
    .venv/bin/python bench/facts_over_time.py --storage memory   # InMemoryDb
    .venv/bin/python bench/facts_over_time.py --mix 50,25,25 --seed 27 --people ines,omar

Every person's timeline in bench/fixtures/fact_changes.json (made by bench/fixtures/fact_changes.py:
8 people, 303 changes of residence, employer, role, relationship, counts, preferences and cancelled
plans, with facts that never change between them) goes through the public `Agent` with the
automatic memory update on (`update_memory_on_run=True`), one turn a message. The model is the tests'
loopback OpenAI-compatible server (tests/fake_openai.py) reached through the real `openai` SDK, and
scripted to behave as real models do. It reads the memory manager's request as a model would (the
stored memories, each with its id) and, for a message that changes a fact, answers in one of three
ways, drawn per change with a fixed seed in the `--mix` proportions:

- supersede (marked): `add_memory(new, replaces=<the old memory's id>)`;
- update: `update_memory(<the old memory's id>, new)`, the text rewritten in place;
- plain add: `add_memory(new)`, the old fact left as it was (the unresolved case).

A first mention or a fact that never changes is a plain `add_memory`; a question gets "No changes.".
When the old memory is not among those the manager is shown, the scripted model cannot name it and
adds plainly (counted apart: the write-time conflict check missed it).

Reported, per behaviour:

(a) stale facts presented as current: right after each change, the change's current-state question
    ("Where do I live?") is a turn of its own; the `<memories>` block of the model's request (and
    `RunOutput.memories_used`) is read for memories stating the old value, not marked as past.
    Target: 0 whenever the model marked the change;
(b) `as_of`: `get_user_memories(user_id, as_of=t)` at a moment between the old fact and the change,
    and one after the change, must hold the value true then and not the other. The fixture's days
    cannot be written through the Agent (a memory is valid from when it is stored), so each probe day
    is mapped onto the wall clock between the turns of the days around it. Target: 100% when marked;
(c) past questions ("Where did I live before Porto?"), asked after each person's timeline: the old
    fact among `get_user_memories(include_superseded=True)` (kept, and dated as past), and in the
    question's context at all and within its first 10 memories (hit@10);
(d) what plain adds left unresolved: both values current right after the change, and at the end.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import json
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
if "DJANGO_SETTINGS_MODULE" not in os.environ:  # run as a script (the tests have their settings)
    os.environ["DJANGO_SETTINGS_MODULE"] = "agentapp.settings"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")  # DEBUG stays off
    os.environ.setdefault("AGENTAPP_VAR_DIR", tempfile.mkdtemp(prefix="agentapp-bench-"))
    os.environ.setdefault("AGENT_EMBEDDER", "none")  # recall by words and recency: no model to load
    os.environ["AGENT_BACKGROUND_TASKS"] = "inline"

import django  # noqa: E402

django.setup()

from agentapp.agent import Agent, InMemoryDb  # noqa: E402
from agentapp.agent.memory.manager import DEFAULT_SYSTEM_MESSAGE  # noqa: E402
from tests.fake_openai import FakeOpenAI, RecordedRequest, Reply  # noqa: E402

FIXTURE = ROOT / "bench" / "fixtures" / "fact_changes.json"
BEHAVIOURS = ("supersede", "update", "plain")
LABELS = {"supersede": "supersede (marked)", "update": "update in place", "plain": "plain add"}
HIT_AT = 10
MEMORY_LINE = re.compile(r"^\s*-\s*\[([^\]]+)\]\s*(.*)$")
PAST_MARKS = ("until ", "no longer", "past fact", "(past", "superseded")


def load_fixture(path: Path = FIXTURE) -> dict:
    return json.loads(path.read_text())


def subset(fixture: dict, *, people: Iterable[str] | None = None, changes: int | None = None) -> dict:
    """The fixture for some people, or the first `changes` changes of the first person: their slots'
    events up to the last of those changes, and the facts that never change among them."""
    chosen = list(people) if people else [p["id"] for p in fixture["people"]]
    events = [e for e in fixture["events"] if e["person"] in chosen]
    kept = [c for c in fixture["changes"] if c["person"] in chosen]
    if changes is not None:
        first = chosen[0]
        mine = [e for e in events if e["person"] == first]
        change_events = [e for e in mine if e["kind"] == "change"][:changes]
        last = change_events[-1]["date"]
        slots = {e["slot"] for e in change_events}
        events = [
            e for e in mine if e["date"] <= last and (e["kind"] == "distractor" or e.get("slot") in slots)
        ]
        ids = {e["id"] for e in change_events}
        kept = [c for c in fixture["changes"] if c["event"] in ids]
        chosen = [first]
    people_ = [p for p in fixture["people"] if p["id"] in chosen]
    return {**fixture, "people": people_, "events": events, "changes": kept}


def assign_behaviours(changes: list[dict], mix: tuple[float, float, float], seed: int) -> dict[str, str]:
    """Each change's scripted behaviour: exactly the `mix` proportions (largest remainders), shuffled."""
    total = sum(mix)
    shares = [len(changes) * m / total for m in mix]
    counts = [int(s) for s in shares]
    for i in sorted(range(3), key=lambda i: shares[i] - counts[i], reverse=True)[
        : len(changes) - sum(counts)
    ]:
        counts[i] += 1
    drawn = [b for b, n in zip(BEHAVIOURS, counts, strict=True) for _ in range(n)]
    random.Random(seed).shuffle(drawn)
    return {c["id"]: b for c, b in zip(changes, drawn, strict=True)}


# --- the scripted model ------------------------------------------------------------------------------
@dataclass
class Plan:
    """What the scripted model does in the memory manager's request of the next turn."""

    action: str  # add, supersede, update, plain, none
    memory: str = ""
    old: str = ""
    topics: list[str] = field(default_factory=list)


@dataclass
class Shown:
    """One memory line of a request: its id, the known text it states, and whether it is marked past."""

    memory_id: str
    text: str | None
    past: bool


class Texts:
    """Every memory text the scripted model writes, with the slot and value it states."""

    def __init__(self, fixture: dict) -> None:
        self.value: dict[str, tuple[str, str]] = {}
        for slot in fixture["slots"]:
            for value, memory in zip(slot["values"], slot["memories"], strict=True):
                self.value[memory.lower()] = (slot["id"], value)
        self.known = {memory.lower() for memory in self.value} | {
            e["memory"].lower() for e in fixture["events"] if e["kind"] == "distractor"
        }
        self.by_length = sorted(self.known, key=len, reverse=True)

    def find(self, line: str) -> str | None:
        """The known text a rendered memory line states (dates, topics and marks around it allowed)."""
        rest = line.lower()
        rest = re.sub(r"^(\([^)]*\)\s*)+", "", rest)
        rest = re.sub(r"\s*\(topics:[^)]*\)\s*$", "", rest).strip()
        if rest in self.known:
            return rest
        return next((text for text in self.by_length if text in rest), None)


def memory_lines(text: str, texts: Texts) -> list[Shown]:
    """The memory lines of a request's system message, in order, each block's tag deciding nothing but
    a block named past (or a line marked "until ...") counting as shown as past."""
    shown, block = [], ""
    for line in text.splitlines():
        tag = re.match(r"^\s*<(/?)([a-z_]+)>\s*$", line)
        if tag:
            block = "" if tag.group(1) else tag.group(2)
            continue
        match = MEMORY_LINE.match(line)
        if not match or not block:
            continue
        body = match.group(2)
        past = "past" in block or any(mark in body.lower() for mark in PAST_MARKS)
        shown.append(Shown(match.group(1), texts.find(body), past))
    return shown


class ScriptedModel:
    """The loopback server's responder: the agent's reply, then the memory manager's tool calls."""

    def __init__(self, texts: Texts) -> None:
        self.texts = texts
        self.plan = Plan("none")
        self.reply_context = ""  # the system message of the last agent (not manager) request
        self.manager_shown: list[Shown] = []
        self.did = ""  # what the manager request of this turn did: the plan's action, or "plain (not shown)"
        self.tool_results: list[str] = []

    def begin(self, plan: Plan) -> None:
        self.plan, self.reply_context, self.manager_shown, self.did = plan, "", [], ""
        self.tool_results = []

    def __call__(self, request: RecordedRequest) -> Reply:
        messages = request.body.get("messages") or []
        system = str(messages[0].get("content") or "") if messages else ""
        if not system.startswith(DEFAULT_SYSTEM_MESSAGE):
            self.reply_context = system
            return Reply(text="Noted.", usage=(200, 2))
        if any(m.get("role") == "tool" for m in messages):
            self.tool_results += [str(m.get("content")) for m in messages if m.get("role") == "tool"]
            return Reply(text="Done.", usage=(300, 1))
        self.manager_shown = memory_lines(system, self.texts)
        call = self._call()
        if call is None:
            return Reply(text="No changes.", usage=(300, 2))
        return Reply(tool_calls=[call], usage=(300, 20))

    def _call(self) -> tuple[str, dict[str, Any]] | None:
        plan = self.plan
        self.did = plan.action
        if plan.action == "none":
            return None
        if plan.action in ("add", "plain"):
            return "add_memory", {"memory": plan.memory, "topics": plan.topics}
        old = next(
            (s.memory_id for s in self.manager_shown if s.text == plan.old.lower() and not s.past), None
        )
        if old is None:  # the old fact was not shown to the manager: a model can only add
            self.did = "plain (not shown)"
            return "add_memory", {"memory": plan.memory, "topics": plan.topics}
        if plan.action == "supersede":
            return "add_memory", {"memory": plan.memory, "topics": plan.topics, "replaces": old}
        return "update_memory", {"memory_id": old, "memory": plan.memory, "topics": plan.topics}


# --- one run over the fixture -----------------------------------------------------------------------
@dataclass
class ChangeResult:
    change: dict
    behaviour: str  # what the scripted model was told
    did: str = ""  # what it could do (a marked change whose old fact was not shown becomes a plain add)
    stale_now: bool = False  # the old value reached the current-state question's context as current
    stale_older: int = 0  # earlier values of the slot there as current (left by earlier unmarked changes)
    new_shown: bool = False
    past_marked_shown: int = 0  # memories shown marked as past (any fact) in the current-state context
    ids_match: bool = True  # the context's memory ids are RunOutput.memories_used
    both_current_after: bool = False  # old and new value both current right after the change
    old_current_at_end: bool = False  # the old value still current when the timeline ends
    next_was_update: bool = False  # the slot's next change rewrote the new value's memory in place
    as_of: dict[str, bool] = field(default_factory=dict)  # probe -> correct
    as_of_strict: dict[str, bool] = field(default_factory=dict)  # and no other value of the slot at all
    past_kept: bool = False  # the old fact among include_superseded, closed (dated as past)
    past_present: bool = False  # the old text among include_superseded at all (closed or still current)
    past_in_context: bool = False
    past_hit: bool = False  # within the first HIT_AT memories of the past question's context
    past_shown_as_past: bool = False
    tool_errors: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    results: list[ChangeResult]
    distractors_lost: int
    distractors: int
    turns: int
    seconds: float
    users: dict[str, str]


def _utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


class Clock:
    """Maps a fixture day onto the wall clock: between the turns of the person's days around it."""

    def __init__(self) -> None:
        self.days: list[dt.date] = []
        self.spans: list[tuple[float, float]] = []  # each day's turn: (started, ended)

    def mark(self, day: str, started: float, ended: float) -> None:
        self.days.append(dt.date.fromisoformat(day))
        self.spans.append((started, ended))

    def at(self, day: str) -> dt.datetime:
        probe = dt.date.fromisoformat(day)
        i = bisect.bisect_left(self.days, probe)
        assert 0 < i < len(self.days) and self.days[i] != probe, f"probe day {day} is not between two turns"
        before, after = self.days[i - 1], self.days[i]
        share = (probe - before).days / (after - before).days
        ended, started = self.spans[i - 1][1], self.spans[i][0]
        return _utc(ended + (started - ended) * share)


def _slot_values(memories: Iterable[Any], texts: Texts, slot: str) -> set[str]:
    found = set()
    for memory in memories:
        stated = texts.value.get(memory.memory.lower())
        if stated and stated[0] == slot:
            found.add(stated[1])
    return found


def run_fixture(
    fixture: dict,
    *,
    agent: Agent,
    server: FakeOpenAI,
    behaviours: dict[str, str],
    user_ids: dict[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Outcome:
    """Every person's timeline through `agent` (update_memory_on_run on), the loopback `server`
    scripted as above; then the probes. `user_ids`: the user id for each fixture person."""
    texts = Texts(fixture)
    script = ScriptedModel(texts)
    server.responder = script
    db = agent.db
    users = user_ids or {p["id"]: p["id"] for p in fixture["people"]}
    slots = {s["id"]: s for s in fixture["slots"]}
    changes_by_event = {c["event"]: c for c in fixture["changes"]}
    results: dict[str, ChangeResult] = {}
    turns = 0
    started = time.perf_counter()

    def turn(user: str, session: str, message: str, plan: Plan) -> tuple[Any, list[Shown]]:
        nonlocal turns
        script.begin(plan)
        output = agent.run(message, user_id=user, session_id=session)
        turns += 1
        if output.status != "completed":
            raise RuntimeError(f"turn failed: {output.error}")
        return output, memory_lines(script.reply_context, texts)

    clocks: dict[str, Clock] = {}
    lost = total_distractors = 0
    for person in fixture["people"]:
        pid, user = person["id"], users[person["id"]]
        clock = clocks[pid] = Clock()
        events = [e for e in fixture["events"] if e["person"] == pid]
        for event in events:
            session = f"{user}-{event['date']}"
            change = changes_by_event.get(event["id"])
            if change is None:
                topics = [event["slot"].split(".")[1]] if event["kind"] == "learn" else []
                plan = Plan("add", memory=event["memory"], topics=topics)
            else:
                plan = Plan(
                    behaviours[change["id"]],
                    memory=change["new_memory"],
                    old=change["old_memory"],
                    topics=[change["kind"]],
                )
            t0 = time.time()
            turn(user, session, event["message"], plan)
            clock.mark(event["date"], t0, time.time())
            if change is None:
                continue
            result = results[change["id"]] = ChangeResult(change, behaviours[change["id"]], did=script.did)
            result.tool_errors = [r for r in script.tool_results if "error" in r.lower()]
            current = db.get_user_memories(user)
            result.both_current_after = {change["old_value"], change["new_value"]} <= _slot_values(
                current, texts, change["slot"]
            )
            # (a) the current-state question, right after the change.
            output, shown = turn(user, session, change["current_question"], Plan("none"))
            result.ids_match = [s.memory_id for s in shown] == list(output.memories_used)
            slot = slots[change["slot"]]
            result.past_marked_shown = sum(line.past for line in shown)
            for line in shown:
                stated = texts.value.get(line.text or "")
                if stated is None or stated[0] != change["slot"] or line.past:
                    continue
                if stated[1] == change["old_value"]:
                    result.stale_now = True
                elif stated[1] == change["new_value"]:
                    result.new_shown = True
                elif slot["values"].index(stated[1]) < slot["values"].index(change["old_value"]):
                    result.stale_older += 1
        clock.mark(person["end"], time.time(), time.time())
        if progress:
            progress(f"{pid}: {len(events)} messages, {turns} turns so far")

        # (b) as_of, (c) past questions, (d) what is left at the end.
        history = db.get_user_memories(user, include_superseded=True)
        current = db.get_user_memories(user)
        distractors = {e["memory"].lower() for e in events if e["kind"] == "distractor"}
        total_distractors += len(distractors)
        lost += len(distractors - {m.memory.lower() for m in current})
        for change in (c for c in fixture["changes"] if c["person"] == pid):
            result = results[change["id"]]
            old, new, slot_id = change["old_value"], change["new_value"], change["slot"]
            for probe, expected, other in (("between", old, new), ("after", new, old)):
                values = _slot_values(
                    db.get_user_memories(user, as_of=clock.at(change["as_of"][probe])), texts, slot_id
                )
                result.as_of[probe] = expected in values and other not in values
                result.as_of_strict[probe] = values == {expected}
            result.old_current_at_end = old in _slot_values(current, texts, slot_id)
            old_text = change["old_memory"].lower()
            kept = [m for m in history if m.memory.lower() == old_text]
            result.past_present = bool(kept)
            result.past_kept = any(not m.is_current for m in kept)
            output, shown = turn(user, f"{user}-past", change["past_question"], Plan("none"))
            hits = [i for i, line in enumerate(shown) if line.text == old_text]
            result.past_in_context = bool(hits)
            result.past_hit = bool(hits) and hits[0] < HIT_AT
            result.past_shown_as_past = any(shown[i].past for i in hits)
    ordered = [results[c["id"]] for c in fixture["changes"]]
    following: dict[str, ChangeResult] = {}
    for result in reversed(ordered):  # the fixture lists a slot's changes in the order they happen
        later = following.get(result.change["slot"])
        result.next_was_update = later is not None and later.did == "update"
        following[result.change["slot"]] = result
    return Outcome(ordered, lost, total_distractors, turns, time.perf_counter() - started, users)


# --- the report ------------------------------------------------------------------------------------
def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def summarise(outcome: Outcome) -> dict[str, dict[str, Any]]:
    """The figures per behaviour the model showed (and "all")."""
    groups: dict[str, list[ChangeResult]] = defaultdict(list)
    for r in outcome.results:
        groups[r.did].append(r)
        groups["all"].append(r)
    table = {}
    for name, rs in groups.items():
        n = len(rs)
        table[name] = {
            "changes": n,
            "stale_as_current": sum(r.stale_now for r in rs),
            "older_stale_as_current": sum(r.stale_older for r in rs),
            "new_in_context": sum(r.new_shown for r in rs),
            "past_marked_in_current_context": sum(r.past_marked_shown for r in rs),
            "ids_mismatch": sum(not r.ids_match for r in rs),
            "as_of_between": sum(r.as_of.get("between", False) for r in rs),
            # The after-probe asks for the new value; when the slot's next change rewrote that memory
            # in place (an update), the text it had then is gone: those probes are counted apart.
            "as_of_after_probes": sum(not r.next_was_update for r in rs),
            "as_of_after": sum(r.as_of.get("after", False) for r in rs if not r.next_was_update),
            "as_of_after_overwritten": sum(r.next_was_update for r in rs),
            "as_of_both": sum(
                r.as_of.get("between", False) and r.as_of.get("after", False)
                for r in rs
                if not r.next_was_update
            ),
            "as_of_strict": sum(all(r.as_of_strict.values()) for r in rs if not r.next_was_update),
            "past_kept": sum(r.past_kept for r in rs),
            "past_present": sum(r.past_present for r in rs),
            "past_in_context": sum(r.past_in_context for r in rs),
            "past_hit": sum(r.past_hit for r in rs),
            "past_shown_as_past": sum(r.past_shown_as_past for r in rs),
            "both_current_after": sum(r.both_current_after for r in rs),
            "old_current_at_end": sum(r.old_current_at_end for r in rs),
            "tool_errors": sum(bool(r.tool_errors) for r in rs),
        }
    return table


def report(outcome: Outcome) -> None:
    table = summarise(outcome)
    order = [b for b in (*BEHAVIOURS, "plain (not shown)") if b in table] + ["all"]
    label = {**LABELS, "plain (not shown)": "plain (old not shown)", "all": "all"}
    print("(a) stale facts presented as current, in the current-state question's context")
    print()
    print(
        "| the model | changes | old value shown as current | older values as current | new value shown "
        "| past facts shown marked as past (all facts, per question) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for b in order:
        t, n = table[b], table[b]["changes"]
        stale = t["stale_as_current"]
        print(
            f"| {label[b]} | {n} | {stale} ({_pct(stale, n)}) | {t['older_stale_as_current']} "
            f"| {_pct(t['new_in_context'], n)} | {t['past_marked_in_current_context'] / n:.1f} |"
        )
    print()
    print("(b) as_of: the value true at the probe, and not the other")
    print()
    print(
        "| the model | between old and change | after the change | both | strict (no other value of the "
        "fact at all) | after-probes whose memory a later update rewrote (left out) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for b in order:
        t, n = table[b], table[b]["changes"]
        m = t["as_of_after_probes"]
        print(
            f"| {label[b]} | {_pct(t['as_of_between'], n)} | {_pct(t['as_of_after'], m)} "
            f"| {_pct(t['as_of_both'], m)} | {_pct(t['as_of_strict'], m)} | {t['as_of_after_overwritten']} |"
        )
    print()
    print(f'(c) past questions ("Where did I live before Porto?"), after the timeline; hit@{HIT_AT}')
    print()
    print(
        "| the model | old fact kept as past (include_superseded) | old text kept at all | in the context "
        f"(as current unless marked) | hit@{HIT_AT} | shown as past |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for b in order:
        t, n = table[b], table[b]["changes"]
        print(
            f"| {label[b]} | {_pct(t['past_kept'], n)} | {_pct(t['past_present'], n)} "
            f"| {_pct(t['past_in_context'], n)} | {_pct(t['past_hit'], n)} "
            f"| {_pct(t['past_shown_as_past'], n)} |"
        )
    print()
    print("(d) left unresolved by the model")
    print()
    print(
        "| the model | old and new both current right after the change | old value still current at the end |"
    )
    print("|---|---:|---:|")
    for b in order:
        t, n = table[b], table[b]["changes"]
        print(
            f"| {label[b]} | {t['both_current_after']} ({_pct(t['both_current_after'], n)}) | "
            f"{t['old_current_at_end']} ({_pct(t['old_current_at_end'], n)}) |"
        )
    print()
    everything = table["all"]
    print(
        f"facts that never change still current at the end: {outcome.distractors - outcome.distractors_lost}"
        f"/{outcome.distractors}; tool calls answered with an error: {everything['tool_errors']}; "
        f"context ids differing from RunOutput.memories_used: {everything['ids_mismatch']}"
    )
    per_turn = 1000 * outcome.seconds / outcome.turns
    print(f"{outcome.turns} turns in {outcome.seconds:.0f} s ({per_turn:.0f} ms a turn)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--storage", choices=("django", "memory"), default="django")
    parser.add_argument("--mix", default="50,25,25", help="supersede,update,plain shares (any scale)")
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--people", default="", help="comma-separated fixture people (default: all)")
    parser.add_argument("--changes", type=int, help="only the first N changes of the first person")
    parser.add_argument("--json", type=Path, help="also write the per-behaviour figures here")
    args = parser.parse_args()
    mix = tuple(float(x) for x in args.mix.split(","))
    if len(mix) != 3:
        parser.error("--mix takes three numbers: supersede,update,plain")
    fixture = load_fixture()
    people = [p for p in args.people.split(",") if p] or None
    if people or args.changes:
        fixture = subset(fixture, people=people, changes=args.changes)
    behaviours = assign_behaviours(fixture["changes"], mix, args.seed)  # type: ignore[arg-type]

    if args.storage == "django":
        from django.core.management import call_command

        from agentapp.db import DjangoDb
        from agentapp.platform.database import server_description

        call_command("migrate", verbosity=0)
        db: Any = DjangoDb()
        where = f"DjangoDb on {server_description()}"
    else:
        db, where = InMemoryDb(), "InMemoryDb"
    stamp = time.strftime("%Y%m%d%H%M%S")
    users = {p["id"]: f"{p['id']}-{stamp}" for p in fixture["people"]}

    from agentapp.llm import OpenAIChat

    with FakeOpenAI() as server:
        server.requests = _Discard()  # the script reads each request as it comes; keep no history
        model = OpenAIChat(id="gpt-bench", base_url=server.base_url, api_key="sk-bench", max_retries=0)
        agent = Agent(model=model, db=db, update_memory_on_run=True)
        counts = Counter(behaviours.values())
        print(
            f"{where}; {len(fixture['people'])} people, {len(fixture['changes'])} changes; scripted model: "
            + ", ".join(f"{LABELS[b]} {counts[b]}" for b in BEHAVIOURS)
            + f" (seed {args.seed})"
        )
        print()
        outcome = run_fixture(
            fixture,
            agent=agent,
            server=server,
            behaviours=behaviours,
            user_ids=users,
            progress=lambda line: print(f"  {line}", file=sys.stderr, flush=True),
        )
    report(outcome)
    if args.json:
        args.json.write_text(json.dumps(summarise(outcome), indent=1) + "\n")


class _Discard(list):
    def append(self, item: object) -> None:
        pass


if __name__ == "__main__":
    main()
