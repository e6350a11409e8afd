"""The network's headline facts (seed 002's 20.31 million graduates, the 2013 founding date).

They are not rows: nothing links to them and no one edits them in the admin, so the home page reads
them from the same data file ``manage.py load_network`` loads, once per process.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

NETWORK_FILE = Path(__file__).resolve().parent / "data" / "network.json"


def network_data(path: Path | str = NETWORK_FILE) -> Any:
    """The parsed data file (``json.JSONDecodeError`` or ``OSError`` when it cannot be read)."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


@lru_cache(maxsize=1)
def _network_facts() -> dict[str, Any]:
    return dict(network_data().get("network", {}))


def network_facts() -> dict[str, Any]:
    """The "network" block of the data file, e.g. ``{"graduates_total": "20.31 million", ...}``.

    A copy each call: the cached dict is shared by every request of the process.
    """
    return copy.deepcopy(_network_facts())
