"""The yardstick: a bare FastAPI endpoint of the same shape as Coach's (pydantic body in, JSON out)."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel


class Body(BaseModel):
    text: str


class Out(BaseModel):
    length: int
    words: int


app = FastAPI()


@app.post("/evaluate", response_model=Out)
def evaluate(body: Body) -> Out:
    return Out(length=len(body.text), words=len(body.text.split()))
