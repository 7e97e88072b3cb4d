"""Placeholder: filled in by the issue 6 work."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
