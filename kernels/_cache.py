"""A writable on-disk cache for numba, also on read-only installs.

``cache=True`` makes numba write compiled kernels next to their source, or,
when that is read-only, under the user's cache directory; when both are
read-only (a system or container install with a read-only home) numba raises
"no locator available" at import. :func:`ensure_writable_cache` runs before
any kernel is decorated and, only in that case, points numba at a writable
directory in the temp folder. A user's own ``NUMBA_CACHE_DIR`` always wins.
"""

import os
import tempfile

import numba


def _writable(path):
    """True when a file can really be created in ``path`` (made if missing)."""
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
        return True
    except OSError:
        return False


def _user_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    return os.path.join(base, "numba")


def ensure_writable_cache(package_dir):
    """Make sure numba can cache the kernels of ``package_dir``.

    Parameters
    ----------
    package_dir : str
        Directory of the kernel sources (numba's first choice for its cache).

    Returns
    -------
    str or None
        The cache directory fastmlp chose, or None when numba's own choice
        (in-tree, user-wide, or the user's ``NUMBA_CACHE_DIR``) works.
    """
    if os.environ.get("NUMBA_CACHE_DIR") or numba.config.CACHE_DIR:
        return None
    if _writable(os.path.join(package_dir, "__pycache__")):
        return None
    if _writable(_user_cache_dir()):
        return None
    fallback = os.path.join(tempfile.gettempdir(), f"fastmlp-numba-cache-{os.getuid()}")
    if not _writable(fallback):
        return None  # nothing writable at all: numba will say so itself
    os.environ["NUMBA_CACHE_DIR"] = fallback  # worker processes inherit it
    numba.config.CACHE_DIR = fallback
    return fallback
