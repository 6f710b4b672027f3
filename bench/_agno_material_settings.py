"""Settings for bench/agno_material.py's runs: the project's own, on a scratch database of their own.

`AGNO_MATERIAL_DATABASE` names it (the runner creates and migrates it on the project's server, the
embedded one unless DATABASE_URL names another); nothing else differs from what a script gets.
"""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")

from agentapp.settings import *  # noqa: F403

_NAME = os.environ.get("AGNO_MATERIAL_DATABASE", "agentapp_agno_material")
DATABASES["default"]["NAME"] = _NAME  # noqa: F405
if "EMBEDDED" in DATABASES["default"]:  # noqa: F405
    DATABASES["default"]["EMBEDDED"]["DATABASE"] = _NAME  # noqa: F405
