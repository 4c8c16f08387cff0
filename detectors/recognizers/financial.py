"""(filled in by the financial work)"""

from __future__ import annotations

from ingestguard.detectors.recognizers.spec import RecognizerSpec

SPECS: list[RecognizerSpec] = []
