"""Runs one rewritten cookbook file as a script, as `python <file>` would, on the runner's storage:
`python bench/_agno_material_example.py <file>` (bench/agno_material.py does, in a subprocess)."""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    path = Path(sys.argv[1]).resolve()
    sys.argv = [str(path), *sys.argv[2:]]
    sys.path[0] = str(path.parent)  # as `python <file>` has it (not bench/)
    if os.environ.get("AGNO_MATERIAL_DB", "django") != "memory":
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench._agno_material_settings")
        django.setup()
        from bench._agno_material_plugin import empty_database

        empty_database()
    runpy.run_path(str(path), run_name="__main__")
