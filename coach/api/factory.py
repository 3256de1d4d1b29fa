"""Entry point for uvicorn (``coach.api.factory:app`` with ``factory=True``): settings from the env."""

from __future__ import annotations

from fastapi import FastAPI

from coach.api.app import create_app
from coach.config import Settings


def app() -> FastAPI:
    return create_app(Settings())
