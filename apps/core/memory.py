"""Work that builds many small objects at once: the evaluation pass and the bulk imports.

Such work allocates a few hundred thousand short-lived objects, none in a reference cycle, that
reference counting frees anyway. Their allocations keep triggering the cyclic garbage collector,
and each of its passes scans Django's large heap of long-lived objects: a third of the
evaluation's time at 10,000 products, and a fifth of a 10,000-row import (issue 16). So these
paths pause the collector while they run; it resumes afterwards and collects what is left.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (or the decorated function), then resume it.

    Nests: an inner pause leaves the collector off for the outer one. Process-wide, like the
    collector itself, so it only suits code that does not run for long (a request, a pass).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
