"""What this process has compiled or loaded: skeletons and pieces, for tests,
``fastmlp.warmup`` and the benchmarks."""

from .epoch import loss_grad_skeleton, train_epoch_skeleton
from .pieces import made_pieces
from .predict import forward_skeleton
from .specialise import specialised_kernels

#: The skeletons compiled once per dtype and input kind (see :mod:`.pieces`).
SKELETONS = {
    "train_epoch_skeleton": train_epoch_skeleton,
    "loss_grad_skeleton": loss_grad_skeleton,
    "forward_skeleton": forward_skeleton,
}


def compiled_kernels():
    """Every whole-network kernel and piece this process holds.

    Returns
    -------
    dict
        ``{name: dispatcher}`` for the skeletons (and each narrow epoch
        kernel, by lane count) and ``{(kind, code, dtype): CFunc}`` for the
        pieces made so far.
    """
    made = dict(SKELETONS)
    for (factory, codes), kernel in specialised_kernels().items():
        made[f"{factory}{codes}"] = kernel
    made.update({key: p for key, p in made_pieces().items() if p is not None})
    return made


def cache_stats():
    """numba cache hits and misses over :func:`compiled_kernels`.

    A dispatcher counts one per signature; a piece is a hit when it was
    loaded from the cache and a miss when it was compiled.

    Returns
    -------
    dict
        ``{"hits": int, "misses": int}``.
    """
    hits = misses = 0
    for kernel in compiled_kernels().values():
        stats = getattr(kernel, "stats", None)
        if stats is not None:
            hits += sum(stats.cache_hits.values())
            misses += sum(stats.cache_misses.values())
        else:
            hits += kernel.cache_hits
            misses += 1 - kernel.cache_hits
    return {"hits": hits, "misses": misses}
