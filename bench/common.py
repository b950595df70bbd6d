"""What every benchmark script shares: machine information, tables, timing.

Every module of ``bench/`` may import this one; it imports no other module of
``bench/`` and neither fastmlp nor numba at import time, so a script can time
``import fastmlp`` after importing it.

* Machine information: :func:`machine_info` (CPU, load, library versions,
  thread settings) and its parts :func:`cpu_model`, :func:`cpus_usable`,
  :func:`loadavg`, :func:`blas_info`, :func:`version`.
* Tables and files: :func:`markdown_table`, :func:`write_report`.
* Interleaved timing: :func:`rotated` gives each round's order of the
  implementations (or trees, or interpreters) so that a noisy neighbour slows
  all of them alike; :func:`median_seconds` times a callable.
"""

import json
import os
import platform
import statistics
import sys
import time

__all__ = [
    "blas_info",
    "cpu_model",
    "cpus_usable",
    "loadavg",
    "log",
    "machine_info",
    "markdown_table",
    "median_seconds",
    "rotated",
    "version",
    "write_report",
]


def log(message):
    """One progress line on stderr (the tables go to stdout)."""
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Machine information


def cpu_model():
    """The CPU's model name (``/proc/cpuinfo``, else ``platform``)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpus_usable():
    """CPUs this process may run on (its affinity), else ``os.cpu_count()``."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def loadavg():
    """The 1, 5 and 15-minute load averages, or None where the OS has none."""
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def blas_info():
    """The thread pools threadpoolctl sees (BLAS, OpenMP), or None.

    One dict per library: ``internal_api``, ``user_api``, ``version``,
    ``num_threads``, ``filepath``. Called inside ``threadpool_limits`` it
    gives the threads that the limits leave.
    """
    try:
        from threadpoolctl import threadpool_info

        keys = ("internal_api", "user_api", "version", "num_threads", "filepath")
        return [{k: p.get(k) for k in keys} for p in threadpool_info()]
    except Exception:  # noqa: BLE001 - informational only
        return None


def version(module_name):
    """``module.__version__``, or None when the module does not import."""
    try:
        module = __import__(module_name)
    except Exception:  # noqa: BLE001 - any import failure means "not available"
        return None
    return getattr(module, "__version__", "unknown")


def machine_info():
    """CPU, load, library versions and thread settings, for a report.

    ``loadavg_start`` is the load now; a script sets ``loadavg_end`` when it
    has measured: on a shared machine only the ratios of one run mean
    anything.
    """
    import numba
    import numpy
    import scipy
    import sklearn

    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": cpus_usable(),
        "loadavg_start": loadavg(),
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "scikit-learn": sklearn.__version__,
        "scipy": scipy.__version__,
        "fastmlp": version("fastmlp"),
        "numba_num_threads": numba.config.NUMBA_NUM_THREADS,
        "numba_cache_dir": os.environ.get("NUMBA_CACHE_DIR") or None,
        "blas": blas_info(),
    }


# --------------------------------------------------------------------------
# Tables


def markdown_table(headers, rows, align=None):
    """A markdown table padded to line up in a terminal too.

    Parameters
    ----------
    headers : list of str
    rows : list of list of str
    align : str, optional
        One of ``"l"``/``"r"`` per column; default left for the first two
        columns, right for the rest.
    """
    if align is None:
        align = "".join("l" if i < 2 else "r" for i in range(len(headers)))
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]

    def line(cells):
        padded = [
            str(c).ljust(w) if a == "l" else str(c).rjust(w)
            for c, w, a in zip(cells, widths, align, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = [
        "-" * (w - 1) + ":" if a == "r" else "-" * w
        for w, a in zip(widths, align, strict=True)
    ]
    return "\n".join(
        [line(headers), "| " + " | ".join(rule) + " |"] + [line(r) for r in rows]
    )


def write_report(out_dir, stem, text, doc):
    """Print ``text`` and write ``<stem>.md`` and ``<stem>.json`` to ``out_dir``.

    Returns the names written (a script adds its plots and logs the list).
    """
    print(text)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{stem}.md").write_text(text)
    (out_dir / f"{stem}.json").write_text(json.dumps(doc, indent=2) + "\n")
    return [f"{stem}.md", f"{stem}.json"]


# --------------------------------------------------------------------------
# Interleaved timing


def rotated(items, round_index):
    """``items`` rotated left by ``round_index``: one round's order.

    Round ``r`` of an interleaved measurement runs ``rotated(items, r)``, so
    every item runs first, second, ... equally often and a slow spell of a
    shared machine falls on all of them alike; with two items the rounds
    alternate.
    """
    items = list(items)
    shift = round_index % len(items) if items else 0
    return items[shift:] + items[:shift]


def median_seconds(fn, repeats=7, inner=1):
    """Median over ``repeats`` samples of the seconds per call of ``fn()``.

    Each sample times ``inner`` calls in a row (for calls too short to time
    one at a time).
    """
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - start) / inner)
    return statistics.median(times)
