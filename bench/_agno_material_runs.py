"""How bench/agno_material.py runs one of Agno's test files or examples, and reads what came of it:
each in a subprocess with a timeout, a test file under pytest (its JUnit XML read back), an example as
a script (its traceback read back); each failure classified by what it names first (a missing import,
attribute or keyword, else its exception type), and the ranked tables printed."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import Queue
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = "bench._agno_material_plugin"

# --- running and reading the results -------------------------------------------------------------

# "SomeError: message" (a dotted name whose last part is capitalised), as pytest and tracebacks end.
EXCEPTION_LINE = re.compile(r"^(?:E\s+)?((?:[a-z_][\w]*\.)*[A-Z]\w*)(?::\s+(.*)|$)")


@dataclass
class Failure:
    kind: str  # exception type, or "timeout"
    message: str
    missing: str | None = None


@dataclass
class Outcome:
    path: str
    passed: int = 0
    total: int = 0
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0


def classify(kind: str, message: str) -> Failure:
    message = message.strip().splitlines()[0] if message.strip() else ""
    missing = None
    if kind == "AssertionError" and message.startswith("expected call not found"):
        kind = "AssertionError (mock)"
    patterns = [
        (r"not served here: (\S+?)'?,?$", "{0}"),
        (r"`(\w+)` not installed|The `(\w+)` package is not installed", "pip install {0}"),
        (r"cannot import name '([^']+)' from '([^']+)'", "{1}.{0}"),
        (r"No module named '([^']+)'", "{0}"),
        (r"^'([\w.]+)' object has no attribute '([^']+)'", "{0}.{1}"),
        (r"^type object '([\w.]+)' has no attribute '([^']+)'", "{0}.{1}"),
        (r"^module '([\w.]+)' has no attribute '([^']+)'", "{0}.{1}"),
        (r"([\w.]+)\(\) got an unexpected keyword argument '([^']+)'", "{0}({1}=)"),
        (r"^name '([^']+)' is not defined", "{0}"),
    ]
    for pattern, shape in patterns:
        found = re.search(pattern, message)
        if found:
            missing = shape.format(*[g for g in found.groups() if g is not None])
            break
    return Failure(kind=kind, message=message[:300], missing=missing)


def _exception_in(text: str, *, report: bool = False) -> tuple[str, str] | None:
    """The exception a pytest failure message names, or the first `E   Type: message` line of a
    report (a bare `assert ...` is an AssertionError; `Failed: ...` is pytest's own)."""
    for line in text.splitlines():
        if report and not line.startswith("E "):
            continue
        bare = line[1:].strip() if report else line.strip()
        if bare.startswith("assert ") or bare == "assert":
            return "AssertionError", bare
        found = EXCEPTION_LINE.match(bare)
        if found and found.group(2) is not None:
            return found.group(1).rsplit(".", 1)[-1], found.group(2)
    return None


def static_test_count(path: Path) -> int:
    return max(1, len(re.findall(r"^\s*(?:async\s+)?def test_", path.read_text(), flags=re.M)))


def base_env(db_name: str, base_url: str, storage: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        OPENAI_BASE_URL=base_url,
        OPENAI_API_KEY="sk-loopback-not-a-real-key",
        AGNO_MATERIAL_DB=storage,
        AGNO_MATERIAL_DATABASE=db_name,
        DJANGO_SETTINGS_MODULE="bench._agno_material_settings",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])),
        CELERY_BROKER_URL=env.get("AGNO_MATERIAL_BROKER", "redis://127.0.0.1:6379/12"),
        AGNO_TELEMETRY="false",
        PYTHONUNBUFFERED="1",
    )
    return env


def run_test_file(path: str, into: Path, env: dict[str, str], timeout: float) -> Outcome:
    outcome = Outcome(path=path)
    report = into / ".results" / (path.replace("/", "__") + ".xml")
    report.parent.mkdir(parents=True, exist_ok=True)
    report.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:django", "-p", PLUGIN]
    command += ["-c", str(into / "pytest.ini"), "--rootdir", str(into), f"--junitxml={report}", path]
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=into, env=env, capture_output=True, text=True, timeout=timeout)
        output = done.stdout + done.stderr
    except subprocess.TimeoutExpired:
        outcome.seconds = time.monotonic() - started
        outcome.total = static_test_count(into / path)
        outcome.failures = [Failure("timeout", f"over {timeout:.0f}s")] * outcome.total
        return outcome
    outcome.seconds = time.monotonic() - started
    if not report.exists():
        outcome.total = static_test_count(into / path)
        last = output.strip().splitlines()[-1] if output.strip() else ""
        found = _exception_in(output, report=True) or ("NoReport", last)
        outcome.failures = [classify(*found)] * outcome.total
        return outcome
    collection_error: Failure | None = None
    for case in ET.parse(report).getroot().iter("testcase"):
        problem = next((c for c in case if c.tag in ("failure", "error")), None)
        skipped = next((c for c in case if c.tag == "skipped"), None)
        if problem is None and skipped is None:
            outcome.passed += 1
            outcome.total += 1
            continue
        if problem is None:
            assert skipped is not None
            outcome.total += 1
            outcome.failures.append(Failure("Skipped", skipped.get("message", "")[:300]))
            continue
        found = _exception_in(problem.get("message", "")) or _exception_in(problem.text or "", report=True)
        failure = classify(*(found or ("Unknown", problem.get("message", ""))))
        if not case.get("classname") or problem.get("message") == "collection failure":
            collection_error = failure
            continue
        outcome.total += 1
        outcome.failures.append(failure)
    if collection_error is not None and outcome.total == 0:
        outcome.total = static_test_count(into / path)
        outcome.failures = [collection_error] * outcome.total
    return outcome


def run_example(path: str, into: Path, env: dict[str, str], timeout: float) -> Outcome:
    outcome = Outcome(path=path, total=1)
    command = [sys.executable, str(ROOT / "bench" / "_agno_material_example.py"), str(into / path)]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command,
            cwd=(into / path).parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        outcome.seconds = time.monotonic() - started
        outcome.failures = [Failure("timeout", f"over {timeout:.0f}s")]
        return outcome
    outcome.seconds = time.monotonic() - started
    if done.returncode == 0:
        outcome.passed = 1
        return outcome
    found = None
    at = done.stderr.rfind("Traceback (most recent call last)")
    after_traceback = done.stderr[at:] if at >= 0 else ""
    for line in reversed(after_traceback.splitlines()):
        match = EXCEPTION_LINE.match(line) if line and not line[0].isspace() else None
        if match:
            found = (match.group(1).rsplit(".", 1)[-1], match.group(2) or "")
            break
    last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
    outcome.failures = [classify(*(found or (f"exit {done.returncode}", last)))]
    return outcome


def run_all(
    jobs: list[tuple[str, str]], into: Path, databases: list[str], base_url: str, args: argparse.Namespace
) -> list[Outcome]:
    free: Queue[str] = Queue()
    for name in databases:
        free.put(name)

    def one(job: tuple[str, str]) -> Outcome:
        kind, path = job
        name = free.get()
        try:
            env = base_env(name, base_url, args.db)
            if kind == "test":
                result = run_test_file(path, into, env, args.test_timeout)
            else:
                result = run_example(path, into, env, args.example_timeout)
        finally:
            free.put(name)
        if args.verbose:
            first = result.failures[0] if result.failures else None
            shown = f"  first: {first.kind}: {first.missing or first.message}" if first else ""
            print(f"  {result.passed:>3}/{result.total:<3} {result.seconds:5.1f}s {path}{shown}", flush=True)
        return result

    with ThreadPoolExecutor(max_workers=len(databases)) as pool:
        return list(pool.map(one, jobs))


def _table(title: str, counts: Counter[str], where: dict[str, str], top: int) -> None:
    if not counts:
        return
    print(f"\n{title}")
    for key, count in counts.most_common(top):
        print(f"  {count:>4}  {key:<60} e.g. {where[key]}")


def _area(path: str) -> str:
    parts = path.split("/")
    if path.startswith("cookbook/"):
        return "/".join(parts[:2] if parts[1] != "02_agents" else parts[:3])
    if "human_in_the_loop" in parts:
        return "/".join(parts[3 : parts.index("human_in_the_loop") + 1])
    return "/".join(parts[3:5])


def _areas(outcomes: list[Outcome]) -> None:
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for outcome in outcomes:
        passed[_area(outcome.path)] += outcome.passed
        total[_area(outcome.path)] += outcome.total
    print("\nby area (passed / total)")
    for area in sorted(total):
        print(f"  {passed[area]:>4} / {total[area]:<4} {area}")


def report(tests: list[Outcome], examples: list[Outcome], top: int) -> dict[str, Any]:
    passed = sum(o.passed for o in tests)
    total = sum(o.total for o in tests)
    ran = sum(o.passed for o in examples)
    print(f"\ntests passed:      {passed} / {total}  ({len(tests)} files)")
    print(f"examples exit 0:   {ran} / {len(examples)}")
    for label, outcomes in (("tests", tests), ("examples", examples)):
        needing = sum(1 for o in outcomes for f in o.failures if (f.missing or "").startswith("pip install"))
        if needing:
            print(f"  ({needing} {label} stop on a third-party package not installed here)")
    _areas(tests + examples)
    for label, outcomes in (("tests", tests), ("examples", examples)):
        missing: Counter[str] = Counter()
        kinds: Counter[str] = Counter()
        where: dict[str, str] = {}
        for outcome in outcomes:
            for failure in outcome.failures:
                kinds[failure.kind] += 1
                where.setdefault(failure.kind, Path(outcome.path).name)
                if failure.missing:
                    missing[failure.missing] += 1
                    where.setdefault(failure.missing, Path(outcome.path).name)
        _table(f"{label}: missing names, by how many {label} each stops first", missing, where, top)
        _table(f"{label}: first failures by exception type", kinds, where, top)
    return {
        "tests": {"passed": passed, "total": total, "files": len(tests)},
        "examples": {"exit_0": ran, "total": len(examples)},
        "outcomes": [
            {
                "path": o.path,
                "passed": o.passed,
                "total": o.total,
                "seconds": round(o.seconds, 1),
                "failures": [f.__dict__ for f in o.failures],
            }
            for o in tests + examples
        ],
    }
