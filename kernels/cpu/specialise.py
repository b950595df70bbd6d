"""Kernels made by a factory from compile-time constants, memoised.

A factory makes a jitted closure whose arguments are constants of the code
(the narrow epoch's lane count): numba types them as integer literals, and
each value is cached on disk like any other kernel (numba's cache key holds
the closure's constants).
"""

import functools
import threading

_MADE = {}
_LOCK = threading.Lock()


def specialised(factory):
    """Memoise a kernel factory on its (integer) codes and record its kernels.

    Parameters
    ----------
    factory : callable
        ``factory(*codes)`` returns a numba dispatcher for those codes.

    Returns
    -------
    callable
        ``get(*codes)``: the one dispatcher for those codes in this process.
    """

    def get(*codes):
        key = (factory.__qualname__, codes)
        kernel = _MADE.get(key)
        if kernel is None:
            with _LOCK:  # two threads asking at once share one dispatcher
                kernel = _MADE.get(key)
                if kernel is None:
                    kernel = _MADE[key] = factory(*codes)
        return kernel

    return functools.wraps(factory)(get)


def specialised_kernels():
    """Every specialised kernel made in this process, by (factory, codes).

    Returns
    -------
    dict
        ``{(factory qualified name, codes): dispatcher}``; the dispatchers'
        ``stats`` hold numba's cache hits and misses.
    """
    with _LOCK:
        return dict(_MADE)
