"""Pattern recognizers, one module per family, and the explicit table of them.

Each family module lists its recognizers in `SPECS`; the table below is the
only place they are gathered (no discovery by subclass or import side effect).
"""

from __future__ import annotations

from ingestguard.detectors.recognizers import builtin, contact, financial, location, national_ids, secrets
from ingestguard.detectors.recognizers.spec import RecognizerSpec

PATTERN_RECOGNIZERS: dict[str, RecognizerSpec] = {
    spec.entity: spec
    for family in (builtin, contact, national_ids, financial, secrets, location)
    for spec in family.SPECS
}
