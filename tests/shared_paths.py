"""Where the tests find the real catalogue data and reference answers (``../shared``).

``GETSTAR_SHARED_DATA`` names the data folder (as for the service, ``getstar.config``); without
it, ``shared/data`` beside the checkout.  The reference answers are the data folder's sibling
``reference``.  Tests needing either skip, saying so, when it is absent (a clone elsewhere).
"""

from __future__ import annotations

import os
from pathlib import Path

_env = os.environ.get("GETSTAR_SHARED_DATA")
SHARED_DATA = Path(_env) if _env else Path(__file__).resolve().parents[2] / "shared" / "data"
SHARED = SHARED_DATA.parent
REFERENCE = SHARED / "reference"
#: The skip reason of tests that need the data or the reference answers.
MISSING = f"needs the shared catalogue data at {SHARED} (set GETSTAR_SHARED_DATA to its data folder)"
