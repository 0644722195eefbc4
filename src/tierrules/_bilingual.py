"""The one bilingual text model every ruleset section uses for descriptions and messages.

It lives apart from ``_model`` because the section modules (tiers, etiquette) are imported
by ``_model`` and must not import it back.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Text(BaseModel):
    """A text in Chinese and English."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
