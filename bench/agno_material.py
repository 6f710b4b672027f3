"""Agno's own tests and cookbook examples about sessions and memory, run as written against this project.

    .venv/bin/python bench/agno_material.py                  # everything chosen (8-15 minutes)
    .venv/bin/python bench/agno_material.py --only memory --limit 5 -v
    .venv/bin/python bench/agno_material.py --tests --jobs 2 --db memory

From the Agno snapshot in /work/.mirror (its newest 3.1.x tag, else HEAD) it picks, by path, Agno's
unit and integration tests and the cookbook files about sessions, memory, summaries, session state,
chat history, storage and human-in-the-loop, and exports them to var/agno-material/ with only their
imports rewritten by MODULES below (agno.agent -> agentapp.agent, ...). Agno's storages become ours
(`DjangoDb` on a scratch database this script creates and migrates, or `InMemoryDb` with
`--db memory`; bench/_agno_material_shims.py), and the model is ours (`OpenAIChat` /
`OpenAIResponses`) on a loopback OpenAI-compatible server started here (OPENAI_BASE_URL): it answers
every request with the same text, or with a minimal object of the asked JSON schema.

Each test file runs under pytest in a subprocess (bench/_agno_material_plugin.py sets Django up and
empties the database before each test), each example as a script (bench/_agno_material_example.py),
both with a timeout (bench/_agno_material_runs.py runs them and reads the results). It prints tests
passed / total, examples that exit 0 / total, passed / total by area, and the first failures ranked:
the missing names (an import, an attribute, a keyword) and the exception types.

An import of a module we have no counterpart for (teams, workflows, AgentOS, ...) fails, as written;
Agno's own modules outside the agent (its toolkits such as ShellTools, `agno.utils.log`, media) stay
Agno's, from the `agno` package installed for the test suite. A test file that does not import counts
each of its `def test_` as failed (parametrized cases are counted once).

Not part of the pytest suite, not run by CI.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MIRROR = Path("/work/.mirror/agno-agi+agno/repo")
WORK = ROOT / "var" / "agno-material"
SHIMS = "bench._agno_material_shims"
DATABASE = "agentapp_agno_material"

from bench._agno_material_runs import PLUGIN, report, run_all  # noqa: E402

# --- the one mapping: where each of Agno's modules is served here -------------------------------
# A module maps to ours, where every name imported from it is looked up (a name ours lacks fails as
# "cannot import name"). NAMES overrides one (module, name). A module under UNSERVED with no entry
# fails to import, naming what was asked; any other agno.* module stays Agno's.
MODULES: dict[str, str] = {
    "agno.agent": "agentapp.agent",
    "agno.agent.agent": "agentapp.agent",
    "agno.run": "agentapp.agent",
    "agno.run.agent": "agentapp.agent",
    "agno.run.base": "agentapp.agent",
    "agno.run.messages": "agentapp.agent",
    "agno.run.requirement": "agentapp.agent",
    "agno.session": "agentapp.agent",
    "agno.session.agent": "agentapp.agent",
    "agno.session.summary": "agentapp.agent",
    "agno.memory": "agentapp.agent.memory",
    "agno.memory.manager": "agentapp.agent.memory",
    "agno.memory.strategies": "agentapp.agent.memory",
    "agno.memory.strategies.types": "agentapp.agent.memory",
    "agno.memory.strategies.summarize": "agentapp.agent.memory",
    "agno.db.base": "agentapp.agent",
    "agno.db.schemas": "agentapp.agent",
    "agno.db.schemas.memory": "agentapp.agent",
    "agno.db.in_memory": "agentapp.agent",
    "agno.db.in_memory.in_memory_db": "agentapp.agent",
    "agno.db.sqlite": SHIMS,
    "agno.db.sqlite.sqlite": SHIMS,
    "agno.db.sqlite.async_sqlite": SHIMS,
    "agno.db.postgres": SHIMS,
    "agno.db.postgres.postgres": SHIMS,
    "agno.db.postgres.async_postgres": SHIMS,
    "agno.models.openai": "agentapp.llm",
    "agno.models.openai.chat": "agentapp.llm",
    "agno.models.openai.responses": "agentapp.llm",
    "agno.models.anthropic": SHIMS,
    "agno.models.anthropic.claude": SHIMS,
    "agno.models.google": SHIMS,
    "agno.models.google.gemini": SHIMS,
    "agno.models.base": "agentapp.llm",
    "agno.models.message": "agentapp.agent",
    "agno.models.metrics": "agentapp.agent",
    "agno.metrics": "agentapp.agent",
    "agno.tools": "agentapp.agent",
    "agno.tools.decorator": "agentapp.agent",
    "agno.tools.toolkit": "agentapp.agent",
    "agno.tools.function": "agentapp.agent",
    "agno.tools.memory": "agentapp.agent",
    "agno.utils.pprint": "agentapp.agent.pprint",
    "agno.exceptions": "agentapp.agent.exceptions",
}
NAMES: dict[tuple[str, str], str] = {
    ("agno.utils", "pprint"): "agentapp.agent",  # the module: `pprint.pprint_run_response(...)`
}
STUB_UNSERVED = False  # --stub-unserved: such a name is imported as a stand-in that refuses to be made
UNSERVED = (
    "agno.agent",
    "agno.run",
    "agno.session",
    "agno.memory",
    "agno.db",
    "agno.models",
    "agno.team",
    "agno.workflow",
    "agno.os",
    "agno.tracing",
    "agno.learn",
    "agno.knowledge",
)

# --- what is chosen, by path ---------------------------------------------------------------------
TOPICS = re.compile(r"memor|session|summar|state|history|storage|human_in_the_loop")
TEST_ROOTS = ("libs/agno/tests/unit/", "libs/agno/tests/integration/")
TEST_LEFT_OUT = re.compile(
    r"/(teams?|workflows?|os|learn|knowledge|models|vectordb|integrations)/"
    r"|/db/(async_mongo|async_mysql|mongo|mysql|surrealdb|valkey|clickhouse|redis|dynamo\w*)/"
    r"|team|mongo"
)
EXAMPLE_ROOTS = (
    "cookbook/00_quickstart/",
    "cookbook/02_agents/",
    "cookbook/06_storage/",
    "cookbook/11_memory/",
    "cookbook/90_models/openai/",
    "cookbook/91_tools/tool_hooks/",
)
EXAMPLE_TOPICS = re.compile(TOPICS.pattern + r"|fork|regenerate|time_travel|checkpoint")
EXAMPLE_LEFT_OUT = re.compile(
    r"/(dynamodb|firestore|gcs|json_db|mongo|mysql|redis|singlestore|surrealdb|valkey|integrations)/"
    r"|team|workflow|learning_machine"
)


def snapshot_revision() -> str:
    tags = subprocess.run(
        ["git", "-C", str(MIRROR), "tag", "--list", "v3.1.*"], capture_output=True, text=True, check=True
    ).stdout.split()
    if tags:
        return max(tags, key=lambda t: [int(p) if p.isdigit() else 0 for p in re.split(r"[.\-]", t[1:])])
    return "HEAD"


def git_files(revision: str) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(MIRROR), "ls-tree", "-r", "--name-only", revision],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.splitlines()


def git_show(revision: str, path: str) -> str:
    return subprocess.run(
        ["git", "-C", str(MIRROR), "show", f"{revision}:{path}"], capture_output=True, text=True, check=True
    ).stdout


def choose(files: list[str]) -> tuple[list[str], list[str]]:
    tests = [
        f
        for f in files
        if f.startswith(TEST_ROOTS)
        and Path(f).name.startswith("test_")
        and f.endswith(".py")
        and TOPICS.search(f)
        and not TEST_LEFT_OUT.search(f)
    ]
    examples = [
        f
        for f in files
        if f.startswith(EXAMPLE_ROOTS)
        and f.endswith(".py")
        and not f.endswith("__init__.py")
        and EXAMPLE_TOPICS.search(f)
        and not EXAMPLE_LEFT_OUT.search(f)
    ]
    return sorted(tests), sorted(examples)


# --- the rewrite ---------------------------------------------------------------------------------


def _agno(module: str) -> bool:
    return module == "agno" or module.startswith("agno.")


def _unserved(module: str) -> bool:
    return any(module == u or module.startswith(u + ".") for u in UNSERVED)


def _from_statement(module: str, names: list[ast.alias]) -> str | None:
    """The import(s) that replace `from module import names`, on one line; None: leave it."""
    groups: dict[str, list[str]] = {}
    kept: list[str] = []
    for alias in names:
        spelled = alias.name + (f" as {alias.asname}" if alias.asname else "")
        target = NAMES.get((module, alias.name)) or MODULES.get(module)
        if target is not None:
            groups.setdefault(target, []).append(spelled)
        elif _unserved(module) and STUB_UNSERVED:
            what = f"{module}.{alias.name}"
            groups.setdefault("", []).append(f"{alias.asname or alias.name} = _unserved({what!r})")
        elif _unserved(module):
            what = f"{module}.{alias.name}"
            return f"raise ModuleNotFoundError('not served here: {what}', name={module!r})"
        else:
            kept.append(spelled)
    if not groups:
        return None
    stubs = groups.pop("", [])
    parts = [f"from {target} import {', '.join(spelled)}" for target, spelled in groups.items()]
    if stubs:
        parts += [f"from {SHIMS} import unserved as _unserved", *stubs]
    if kept:
        parts.append(f"from {module} import {', '.join(kept)}")
    return "; ".join(parts)


def _import_statement(names: list[ast.alias]) -> str | None:
    parts, changed = [], False
    for alias in names:
        target = MODULES.get(alias.name)
        if _agno(alias.name) and target is not None and alias.asname:
            parts.append(f"import {target} as {alias.asname}")
            changed = True
        elif _agno(alias.name) and _unserved(alias.name):
            return f"raise ModuleNotFoundError('not served here: {alias.name}', name={alias.name!r})"
        else:
            parts.append(f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else ""))
    return "; ".join(parts) if changed else None


def _cut(line: str, byte_offset: int) -> tuple[str, str]:
    raw = line.encode()
    return raw[:byte_offset].decode(), raw[byte_offset:].decode()


def rewrite(source: str, *, conftest: bool = False) -> str:
    """`source` with its agno imports rewritten; line numbers kept (a conftest's imports are also
    made optional: one helper we lack must not stop every test under it)."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, int, int, str, bool]] = []
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        new: str | None = None
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and _agno(node.module):
            new = _from_statement(node.module, node.names)
        elif isinstance(node, ast.Import) and any(_agno(a.name) for a in node.names):
            new = _import_statement(node.names)
        elif not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        optional = conftest and id(node) in top
        if new is None and not optional:
            continue
        if new is None:
            new = ast.get_source_segment(source, node) or ""
            new = " ".join(part.strip() for part in new.splitlines()).replace("( ", "(").replace(", )", ")")
        assert node.end_lineno is not None and node.end_col_offset is not None
        edits.append((node.lineno, node.col_offset, node.end_lineno, node.end_col_offset, new, optional))
    for lineno, col, end_lineno, end_col, new, optional in sorted(edits, reverse=True):
        prefix, _ = _cut(lines[lineno - 1], col)
        _, suffix = _cut(lines[end_lineno - 1], end_col)
        if optional:
            replaced = "".join(
                f"try:\n    {part}\nexcept Exception:  # the material runner: optional here\n    pass\n"
                for part in new.split("; ")
            )
            rest = "" if suffix.strip().startswith("#") else suffix.lstrip("\n")
            lines[lineno - 1 : end_lineno] = [prefix + replaced + rest]
        else:
            lines[lineno - 1 : end_lineno] = [prefix + new + suffix] + ["\n"] * (end_lineno - lineno)
    return "".join(lines)


def export(revision: str, tests: list[str], examples: list[str], into: Path) -> None:
    if into.exists():
        shutil.rmtree(into)
    into.mkdir(parents=True)
    helpers: set[str] = set()
    for path in tests:
        parent = Path(path).parent
        while str(parent) not in ("", "."):
            helpers.update({str(parent / "__init__.py"), str(parent / "conftest.py")})
            parent = parent.parent
    available = set(git_files(revision)) if helpers else set()
    fixtures = ", ".join(_material_fixtures())
    for path in sorted(helpers & available) + tests + examples:
        target = into / path
        target.parent.mkdir(parents=True, exist_ok=True)
        source = git_show(revision, path)
        conftest = path.endswith("conftest.py")
        try:
            text = rewrite(source, conftest=conftest)
        except SyntaxError:
            text = source
        if conftest:
            text += "\n\n# The material runner: Agno's database fixtures without SQLAlchemy.\n"
            text += f"from {PLUGIN} import {fixtures}  # noqa\n"
        target.write_text(text)
    (into / "pytest_asyncio.py").write_text(
        '"""pytest-asyncio\'s decorator, as the material runner provides it."""\n'
        f"from {PLUGIN} import async_fixture as fixture  # noqa\n"
    )
    (into / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")


def _material_fixtures() -> list[str]:
    from bench._agno_material_plugin import MATERIAL_FIXTURES

    return MATERIAL_FIXTURES


# --- the loopback model --------------------------------------------------------------------------

LOOPBACK_TEXT = "This is the loopback model: the same reply to every question."


def _fill(schema: dict[str, Any], defs: dict[str, Any], depth: int = 0) -> Any:
    """The least object that matches a JSON schema (strings say "loopback")."""
    if depth > 8:
        return None
    if "$ref" in schema:
        return _fill(defs.get(schema["$ref"].rsplit("/", 1)[-1], {}), defs, depth + 1)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return _fill(options[0], defs, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {name: _fill(sub, defs, depth + 1) for name, sub in props.items()}
    return {"string": "loopback", "integer": 0, "number": 0, "boolean": False, "array": [], "null": None}.get(
        str(kind), "loopback"
    )


def _asked_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    fmt = body.get("response_format") or (body.get("text") or {}).get("format")
    if not isinstance(fmt, dict):
        return None
    if fmt.get("type") == "json_object":
        return {}
    if fmt.get("type") == "json_schema":
        schema = fmt.get("schema") or (fmt.get("json_schema") or {}).get("schema")
        return schema if isinstance(schema, dict) else {}
    return None


def start_loopback() -> Any:
    from tests import fake_openai
    from tests.fake_openai import FakeOpenAI, RecordedRequest, Reply

    fake_openai._Server.request_queue_size = 512

    def respond(request: RecordedRequest) -> Reply:
        schema = _asked_schema(request.body)
        if schema is None:
            return Reply(text=LOOPBACK_TEXT, usage=(50, 12))
        return Reply(text=json.dumps(_fill(schema, schema.get("$defs", {}))), usage=(50, 12))

    class _Discard(list):
        def append(self, item: object) -> None:
            pass

    server = FakeOpenAI().start()
    server.responder = respond
    server.requests = _Discard()
    server.embedding_requests = _Discard()
    return server


# --- the database --------------------------------------------------------------------------------


def prepare_databases(jobs: int) -> list[str]:
    """The scratch database, created and migrated, and a copy of it per further worker."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench._agno_material_settings"
    os.environ["AGNO_MATERIAL_DATABASE"] = DATABASE
    import django
    import psycopg
    from django.core.management import call_command
    from django.db import connection

    from agentapp.platform.database import libpq_params

    django.setup()
    params = libpq_params(connection, dbname="postgres")
    with psycopg.connect(**params, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    call_command("migrate", verbosity=0, interactive=False)
    connection.close()
    close_pool = getattr(connection, "close_pool", None)
    if close_pool is not None:
        close_pool()
    names = [DATABASE]
    with psycopg.connect(**params, autocommit=True) as conn:
        for n in range(2, jobs + 1):
            name = f"{DATABASE}_{n}"
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{DATABASE}"')
            names.append(name)
    return names


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", action="append", default=[], help="keep paths containing this (repeatable)")
    parser.add_argument("--limit", type=int, default=0, help="at most this many test files and examples each")
    parser.add_argument("--tests", action="store_true", help="only Agno's tests")
    parser.add_argument("--examples", action="store_true", help="only the cookbook examples")
    parser.add_argument("--db", choices=("django", "memory"), default="django", help="DjangoDb or InMemoryDb")
    parser.add_argument("--jobs", type=int, default=1, help="subprocesses at once (a database each)")
    parser.add_argument("--test-timeout", type=float, default=300.0, help="seconds per test file")
    parser.add_argument("--example-timeout", type=float, default=60.0, help="seconds per example")
    parser.add_argument("--top", type=int, default=15, help="rows per ranked table")
    parser.add_argument("--json", type=Path, help="also write every outcome here")
    parser.add_argument("--list", action="store_true", help="print what is chosen and stop")
    parser.add_argument(
        "--stub-unserved",
        action="store_true",
        help="import what we do not serve (teams, workflows...) as a stand-in that fails only when used",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="a line per file as it finishes")
    args = parser.parse_args()

    global STUB_UNSERVED
    STUB_UNSERVED = args.stub_unserved
    revision = snapshot_revision()
    commit = subprocess.run(
        ["git", "-C", str(MIRROR), "rev-parse", "--short", revision],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    tests, examples = choose(git_files(revision))
    print(f"Agno snapshot {revision} ({commit}): chose {len(tests)} test files, {len(examples)} examples")
    if args.only:
        tests = [t for t in tests if any(o in t for o in args.only)]
        examples = [e for e in examples if any(o in e for o in args.only)]
    if args.tests:
        examples = []
    if args.examples:
        tests = []
    if args.limit:
        tests, examples = tests[: args.limit], examples[: args.limit]
    if args.list:
        print("\n".join(tests + examples))
        return
    into = WORK / "export"
    export(revision, tests, examples, into)
    print(f"running {len(tests)} test files and {len(examples)} examples ({args.db}, {args.jobs} at once)")
    databases = prepare_databases(max(1, args.jobs)) if args.db == "django" else ["-"] * max(1, args.jobs)
    server = start_loopback()
    try:
        jobs = [("test", t) for t in tests] + [("example", e) for e in examples]
        outcomes = run_all(jobs, into, databases, server.base_url, args)
    finally:
        server.stop()
    results = report(outcomes[: len(tests)], outcomes[len(tests) :], args.top)
    if args.json:
        args.json.write_text(json.dumps({"snapshot": f"{revision} ({commit})", **results}, indent=1))


if __name__ == "__main__":
    main()
