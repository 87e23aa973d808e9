"""Size limits from a memory estimate: a request that would not fit says so before it starts.

Each study estimates the memory it needs from its size (mice x output points, patients x days,
replicate trials) with a per-unit cost measured on fmsim's own runs (see
``docs/benchmarks.md``, "Memory per simulated unit"), and compares it with the memory this
machine has available. A request needing more than :data:`USABLE_SHARE` of it is refused with
the estimate, the memory available, and how to split the request.

The memory available is, in this order: the environment variable ``FMSIM_MEMORY_LIMIT``
(e.g. ``8GB`` or ``512MB``; for shared machines and cluster jobs with a memory allowance), the
``MemAvailable`` line of ``/proc/meminfo`` (Linux), or the physical memory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = [
    "BYTES_PER_MOUSE_POINT",
    "BYTES_PER_PATIENT_DAY",
    "MAX_COURSE_DAYS",
    "MEMORY_ENV",
    "USABLE_SHARE",
    "available_memory",
    "check_fits",
    "format_bytes",
]

MEMORY_ENV = "FMSIM_MEMORY_LIMIT"
#: Share of the available memory one request may plan to use (the rest: Python, libraries,
#: the operating system, estimate error).
USABLE_SHARE = 0.8
#: Memory per mouse and stored time point of a passive-transfer experiment (bytes): model
#: states, trajectory and measurement tables and their CSV/Parquet copies; 366 measured
#: (benchmarks/memory_per_unit.py), times 1.6 for the analysis, report and temporaries.
BYTES_PER_MOUSE_POINT = 600
#: Memory per simulated patient-day of a therapy course or trial (bytes): model states,
#: course, pain diary and visits; 377 measured (benchmarks/memory_per_unit.py), times 1.6.
BYTES_PER_PATIENT_DAY = 600
#: Longest therapy course simulated (days): ten years.
MAX_COURSE_DAYS = 3650.0
_UNITS = {"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}
_AMOUNT = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([KMGT]?B?)\s*$", re.IGNORECASE)


def available_memory() -> float:
    """Bytes of memory this process may plan to use (see the module docstring)."""
    limit = os.environ.get(MEMORY_ENV)
    if limit:
        match = _AMOUNT.match(limit)
        if not match:
            raise ValueError(f"{MEMORY_ENV}={limit!r}: expected an amount such as '8GB'")
        return float(match.group(1)) * _UNITS[match.group(2).upper()]
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024.0
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def check_fits(needed_bytes: float, what: str, split: str) -> None:
    """Raise ValueError if ``what`` (e.g. "120,000 mice x 141 time points") needs more memory
    than this machine can give; ``split`` says how to make the request smaller."""
    available = available_memory()
    if needed_bytes > USABLE_SHARE * available:
        raise ValueError(
            f"{what} needs about {format_bytes(needed_bytes)} of memory, more than the "
            f"{format_bytes(USABLE_SHARE * available)} this machine can give "
            f"({USABLE_SHARE:.0%} of {format_bytes(available)} available; set "
            f"{MEMORY_ENV} to change); {split}"
        )


def format_bytes(n_bytes: float) -> str:
    """``n_bytes`` as "1.2 GB", "350 MB"..."""
    for unit in ("TB", "GB", "MB", "kB"):
        scale = _UNITS[unit.upper()]
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes:.0f} B"
