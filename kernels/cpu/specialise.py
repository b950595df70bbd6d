"""Entry points compiled per configuration: the codes become constants.

The whole-network kernels (``train_epoch``, ``loss_grad``, ``forward``) take
activation, loss and solver codes. Compiled with run-time codes, each holds
every activation, loss and solver it might meet; a first fit compiled all of
them. Here each configuration gets its own kernel: a factory makes a jitted
closure whose codes are constants, numba types them as integer literals, and
the helpers it calls (resolved by overloads with ``prefer_literal=True``)
compile only the branch for that code. Each kernel is cached on disk like any
other (numba's cache key holds the closure's constants).
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


def cache_stats():
    """numba cache hits and misses, summed over :func:`specialised_kernels`.

    Returns
    -------
    dict
        ``{"hits": int, "misses": int}``.
    """
    hits = misses = 0
    for kernel in specialised_kernels().values():
        hits += sum(kernel.stats.cache_hits.values())
        misses += sum(kernel.stats.cache_misses.values())
    return {"hits": hits, "misses": misses}
