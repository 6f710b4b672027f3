"""Agno 3.1.10 in a virtualenv of its own (var/bench-agno-venv; never a project dependency), with
what its AgentOS needs to serve, and a database for it beside ours: for bench/vs_agno.py and
bench/vs_agentos.py, which set Django up before importing this."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
from django.conf import settings
from django.db import connection

from agentapp.platform.database import libpq_params

AGNO_VERSION = "3.1.10"
ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "var" / "bench-agno-venv"
# The Agent's own needs, then AgentOS's: FastAPI served by uvicorn with uvloop and httptools, forms.
PACKAGES = [
    f"agno=={AGNO_VERSION}",
    "sqlalchemy[asyncio]",
    "psycopg[binary]",
    "openai",
    "fastapi",
    "uvicorn[standard]",
    "python-multipart",
]
CHECK = (
    "import importlib.metadata as m, fastapi, httptools, multipart, psycopg, sqlalchemy, uvicorn, uvloop; "
    "print(m.version('agno'))"
)


def agno_python() -> Path:
    """The virtualenv's python, made and filled on first use (or when a package is missing)."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=300)
    installed = subprocess.run([str(python), "-c", CHECK], capture_output=True, text=True, timeout=60)
    if installed.stdout.strip() != AGNO_VERSION:
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PACKAGES], check=True, timeout=900)
    return python


def agno_database(suffix: str) -> str:
    """A SQLAlchemy URL for the database named as ours plus `suffix`, on the same server, created
    when missing."""
    params = libpq_params(connection, dbname="postgres")
    name = f"{settings.DATABASES['default']['NAME']}{suffix}"
    with psycopg.connect(**params, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    user, password = params.get("user", "postgres"), params.get("password")
    auth = f"{quote(user)}:{quote(str(password))}@" if password else f"{quote(user)}@"
    # A socket directory (the embedded server) goes in the query string, as libpq takes it.
    where = urlencode({"host": params["host"], "port": params.get("port", 5432)})
    return f"postgresql+psycopg://{auth}/{name}?{where}"
