#!/usr/bin/env python
"""Django's command-line utility for Switchboard."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    from django.core.management import execute_from_command_line

    from core.deployment import UnsafeSettings

    try:
        execute_from_command_line(sys.argv)
    except UnsafeSettings as error:
        # One sentence naming the variable, not a traceback through the settings import.
        sys.exit(str(error))


if __name__ == "__main__":
    main()
