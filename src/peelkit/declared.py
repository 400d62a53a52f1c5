"""The base of every declaration peelkit reads from its data files (the indicator catalogue,
the judgments, the report layouts): strict — an unknown key is an error, never ignored — and
frozen once read."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Declared(BaseModel):
    """A declaration read from a data file: unknown keys refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
