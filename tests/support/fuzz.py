"""What the fuzz tests (tests/*/test_*_fuzz.py) share: hypothesis settings that keep them short.

Each fuzz test tries `examples` inputs (FUZZ_EXAMPLES times `scale` from the environment, to
fuzz longer by hand: `FUZZ_EXAMPLES=5000 pytest -n 0 tests/export/test_links_fuzz.py`), with
no deadline (a loaded machine is not a failure) and no example database (a run is its own).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

DEFAULT_EXAMPLES = 100


def fuzz(scale: float = 1.0) -> settings:
    """Settings for a fuzz test: `scale` times the usual number of examples (fewer for a slow
    one)."""
    examples = int(os.environ.get("FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
    return settings(
        max_examples=max(1, int(examples * scale)),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
