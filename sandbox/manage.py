#!/usr/bin/env python
"""Django's command-line utility for the sandbox: `.venv/bin/python sandbox/manage.py ...`."""

import os
import sys
from pathlib import Path


def main():
    # The sandbox is the package `sandbox` in the repository root: import it from there,
    # not from this directory (which Python put first on sys.path).
    here = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    sys.path.insert(0, str(here.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
