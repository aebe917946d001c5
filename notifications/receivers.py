"""What notifications hears from apps that may not import it: `ai` announces a spent budget by signal."""

from __future__ import annotations


def register() -> None:
    pass
