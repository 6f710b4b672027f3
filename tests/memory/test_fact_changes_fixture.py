"""The facts-over-time test set (bench/fixtures/fact_changes.py) and its benchmark's core
(bench/facts_over_time.py): the generator is deterministic and the checked-in JSON is what it makes;
through the public Agent and the loopback model, a change the model marks never leaves the old fact
in the context as current, and `as_of` answers what was true on either side of it."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from agentapp.agent import Agent, InMemoryDb
from agentapp.db import DjangoDb

ROOT = Path(__file__).resolve().parents[2]
KINDS = {"residence", "employer", "role", "relationship", "kids", "pets", "team", "plan", "diet", "car"}


def _load(name: str, path: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return _load("bench_fact_changes", ROOT / "bench" / "fixtures" / "fact_changes.py")


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _load("bench_facts_over_time", ROOT / "bench" / "facts_over_time.py")


def test_the_generator_is_deterministic_and_the_checked_in_json_is_current(generator):
    text = generator.dump(generator.generate())

    assert text == generator.dump(generator.generate())
    assert generator.OUT.read_text() == text, "run: .venv/bin/python bench/fixtures/fact_changes.py"


def test_the_fixture_holds_300_changes_of_every_kind_with_probes_on_either_side(generator):
    fixture = generator.generate()
    changes = fixture["changes"]

    assert len(changes) >= 300
    assert len(fixture["people"]) >= 6
    assert KINDS.issubset({c["kind"] for c in changes})
    assert any(e["kind"] == "distractor" for e in fixture["events"])
    taken = {(e["person"], e["date"]) for e in fixture["events"]}
    for change in changes:
        learned, changed = change["learned_on"], change["changed_on"]
        between, after = change["as_of"]["between"], change["as_of"]["after"]
        assert learned < between < changed < after, change["id"]
        assert (change["person"], between) not in taken and (change["person"], after) not in taken
        assert change["old_memory"] != change["new_memory"]
        assert change["current_question"] and change["past_question"]
    days = Counter((e["person"], e["date"]) for e in fixture["events"])
    assert max(days.values()) == 1  # one message a day: a probe day always falls between two turns
    first = min(dt.date.fromisoformat(e["date"]) for e in fixture["events"])
    last = max(dt.date.fromisoformat(e["date"]) for e in fixture["events"])
    assert (last - first).days > 120  # dates over months


@pytest.fixture(params=[pytest.param("django", marks=pytest.mark.django_db), "in_memory"])
def storage(request):
    return DjangoDb() if request.param == "django" else InMemoryDb()


def test_five_changes_through_the_agent_leave_no_marked_stale_fact_in_the_context(
    bench, storage, make_model, fake_openai
):
    fixture = bench.subset(bench.load_fixture(), changes=5)
    behaviours = bench.assign_behaviours(fixture["changes"], (50, 25, 25), 27)
    assert len(fixture["changes"]) == 5 and "supersede" in behaviours.values()
    agent = Agent(model=make_model("chat"), db=storage, update_memory_on_run=True)

    outcome = bench.run_fixture(fixture, agent=agent, server=fake_openai, behaviours=behaviours)

    table = bench.summarise(outcome)
    marked = table["supersede"]
    # Every change the script marked could be marked: the manager was shown the old fact.
    assert marked["changes"] == Counter(behaviours.values())["supersede"]
    assert marked["stale_as_current"] == 0
    assert marked["older_stale_as_current"] == 0
    assert marked["new_in_context"] == marked["changes"]
    assert marked["as_of_between"] == marked["changes"]
    assert marked["as_of_after"] == marked["as_of_after_probes"] > 0
    assert marked["past_kept"] == marked["changes"]  # closed and kept, dated, for the past
    assert marked["both_current_after"] == 0
    everything = table["all"]
    assert everything["ids_mismatch"] == 0 and everything["tool_errors"] == 0
    assert outcome.distractors_lost == 0
    # The unmarked cases are measured, not hidden: a plain add leaves both values current.
    if "plain" in table:
        assert table["plain"]["both_current_after"] == table["plain"]["changes"]
