"""The implementations the harness times, behind one estimator interface.

Each implementation is an :class:`Impl`: a name and a factory that turns the
workload's scikit-learn keyword arguments into an object with ``fit(X, y)``
and, unless ``predicts`` is false, ``predict(X)`` and ``predict_proba(X)``.

* ``fastmlp``: ``fastmlp.FastMLPClassifier(device="cpu", **params)``.
* ``fastmlp-cuda``: ``fastmlp.FastMLPClassifier(device="cuda", **params)``,
  only where a real CUDA GPU is usable (never the simulator).
* ``sklearn``: ``sklearn.neural_network.MLPClassifier(**params)``.
* ``torch``: :class:`bench.peers.TorchMLPClassifier`, a plain PyTorch CPU
  loop (two threads), only where ``import torch`` works.
* ``torch-cuda``: the same loop on a CUDA GPU in fp32 (TF32 off), only where
  torch sees one.
* ``jax``: :class:`bench.peers.JaxMLPClassifier`, a ``jax.jit`` epoch
  (``lax.scan`` over minibatches, ``optax.adam``), only where jax and optax
  are installed (the ``bench`` extra brings them).
* ``gemm``: :class:`bench.peers.GemmBound`, the fit's matrix products alone
  through numpy's BLAS: an upper bound for any implementation built on them.

The peers themselves live in :mod:`bench.peers`; this module imports it only
when a peer is asked for, and imports nothing heavy itself, so that
``bench.run`` can read :data:`DEFAULT_IMPLS` before it times
``import fastmlp``.
"""

import functools
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_IMPLS",
    "IMPL_NAMES",
    "OPTIONAL_IMPLS",
    "Impl",
    "get_impl",
]

#: Every implementation the harness knows, in display order.
IMPL_NAMES = (
    "fastmlp",
    "fastmlp-cuda",
    "sklearn",
    "torch",
    "torch-cuda",
    "jax",
    "gemm",
)

#: Measured unless ``--impls`` says otherwise; the optional ones only where
#: available (torch installed, a CUDA GPU present).
DEFAULT_IMPLS = ("fastmlp", "fastmlp-cuda", "sklearn", "torch", "torch-cuda", "jax")

#: Left out without a word from the default set when unavailable.
OPTIONAL_IMPLS = ("fastmlp-cuda", "torch", "torch-cuda", "jax")


@dataclass
class Impl:
    """An implementation under test.

    Attributes
    ----------
    name : str
        Short name used in tables, JSON and plots.
    make : callable
        ``make(**params)`` returns an unfitted estimator; ``params`` are
        :meth:`bench.workloads.Workload.estimator_params`.
    description : str
        One line for the report.
    predicts : bool
        Whether the fitted object predicts (``gemm`` does not).
    jit : bool
        Whether its first fit in a process compiles code (fastmlp).
    """

    name: str
    make: Any
    description: str
    predicts: bool = True
    jit: bool = False


def _fastmlp_factory():
    """``FastMLPClassifier`` on the CPU; raises ImportError when unavailable."""
    import fastmlp

    cls = getattr(fastmlp, "FastMLPClassifier", None)
    if cls is None:
        raise ImportError(
            "fastmlp.FastMLPClassifier does not exist yet in this checkout"
        )
    return functools.partial(cls, device="cpu")


def _fastmlp_cuda_factory():
    """``FastMLPClassifier`` on a real GPU; raises ImportError without one."""
    from fastmlp._backend import real_gpu_available

    if not real_gpu_available():
        raise ImportError("no CUDA GPU usable by numba-cuda (fastmlp[cuda])")
    return functools.partial(_fastmlp_factory().func, device="cuda")


def get_impl(name, fastmlp_stand_in=False, torch_threads=2):
    """The :class:`Impl` called ``name`` (one of :data:`IMPL_NAMES`).

    Parameters
    ----------
    name : str
    fastmlp_stand_in : bool, default=False
        Build scikit-learn's ``MLPClassifier`` in the ``fastmlp`` slot: tests
        the harness before fastmlp's estimators exist.
    torch_threads : int, default=2
        ``torch.set_num_threads`` of the torch baseline.

    Raises
    ------
    ImportError
        When the implementation's package (fastmlp, torch) or, for
        ``fastmlp-cuda``, a CUDA GPU is unavailable.
    """
    from sklearn.neural_network import MLPClassifier

    if name == "fastmlp":
        if fastmlp_stand_in:
            return Impl(
                "fastmlp",
                MLPClassifier,
                "STAND-IN: scikit-learn MLPClassifier in the fastmlp slot",
                jit=True,
            )
        return Impl(
            "fastmlp",
            _fastmlp_factory(),
            'fastmlp.FastMLPClassifier(device="cpu")',
            jit=True,
        )
    if name == "fastmlp-cuda":
        return Impl(
            "fastmlp-cuda",
            _fastmlp_cuda_factory(),
            'fastmlp.FastMLPClassifier(device="cuda")',
            jit=True,
        )
    if name == "sklearn":
        return Impl("sklearn", MLPClassifier, "sklearn.neural_network.MLPClassifier")
    if name in ("torch", "torch-cuda", "jax", "gemm"):
        return _peer(name, torch_threads)
    raise ValueError(f"unknown implementation {name!r}; choose from {IMPL_NAMES}.")


def _peer(name, torch_threads):
    """The :class:`Impl` of a peer of :mod:`bench.peers` (imported here)."""
    from bench import peers

    if name == "torch":
        if not peers.torch_available():
            raise ImportError("torch is not installed")
        return Impl(
            "torch",
            functools.partial(peers.TorchMLPClassifier, n_threads=torch_threads),
            f"PyTorch CPU: nn.Sequential + Adam + minibatch loop, "
            f"{torch_threads} threads",
        )
    if name == "torch-cuda":
        if not peers.torch_available():
            raise ImportError("torch is not installed")
        import torch

        if not torch.cuda.is_available():
            raise ImportError("torch sees no CUDA GPU")
        return Impl(
            "torch-cuda",
            functools.partial(peers.TorchMLPClassifier, device="cuda"),
            "PyTorch CUDA fp32 (TF32 off): nn.Sequential + Adam + minibatch loop",
        )
    if name == "jax":
        if not peers.jax_available():
            raise ImportError("jax and optax are not installed")
        return Impl(
            "jax",
            peers.JaxMLPClassifier,
            "JAX CPU: jax.jit epoch (lax.scan over minibatches) + optax.adam",
            jit=True,
        )
    return Impl(
        "gemm",
        peers.GemmBound,
        "GEMM-only bound: the fit's matrix products alone, numpy BLAS",
        predicts=False,
    )
