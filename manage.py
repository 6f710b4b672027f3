#!/usr/bin/env python
from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentapp.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from agentapp.platform.embedded_pg.server import EmbeddedServerError

    try:
        execute_from_command_line(sys.argv)
    except (EmbeddedServerError, ImproperlyConfigured) as exc:  # one line that names the fix
        sys.exit(f"error: {exc}")


if __name__ == "__main__":
    main()
