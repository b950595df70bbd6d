"""Choosing the compute backend for ``device="auto" | "cpu" | "cuda"``.

Backends are modules implementing the kernel contract of
:mod:`fastmlp.kernels`. They are imported on first use so that
``import fastmlp`` compiles nothing and never imports ``numba.cuda``.
"""

import importlib


class BackendUnavailableError(RuntimeError):
    """The requested device cannot be used on this machine or in this build."""


def resolve_device(device):
    """Return the concrete device name ("cpu" or "cuda") for a ``device`` param.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"}

    Returns
    -------
    str
        ``"cpu"`` for now: ``"auto"`` uses the CPU, ``"cuda"`` raises.

    Raises
    ------
    BackendUnavailableError
        For ``device="cuda"``: the GPU backend is not part of this version.
    """
    if device == "cuda":
        raise BackendUnavailableError(
            "device='cuda' was requested, but this version of fastmlp has no GPU "
            "backend yet (the numba-cuda kernels are not available). Use "
            "device='cpu' or device='auto'."
        )
    return "cpu"


def get_backend(device_name):
    """Import and return the kernel module for a concrete device name."""
    return importlib.import_module(f"fastmlp.kernels.{device_name}")
