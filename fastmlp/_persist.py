"""Saving and loading models without pickle, on top of skops (``skops`` extra).

skops stores an object as a zip of JSON describing each object's type and
state, and loads only the types it is told to trust, so loading a file never
runs code from it. :func:`load` trusts what skops trusts by default plus
fastmlp's own types (:func:`trusted_types`) and refuses a file that holds
any other type, naming it.
"""

import json
import os
import zipfile
import zlib

__all__ = ["load", "save", "trusted_types"]

# What a truncated or corrupted zip or JSON member raises while being read.
_UNREADABLE = (
    zipfile.BadZipFile,
    zlib.error,
    KeyError,
    EOFError,
    json.JSONDecodeError,
    UnicodeDecodeError,
)


def _skops_io():
    try:
        from skops import io as sio
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError(
            'fastmlp.save/load need skops: pip install "fastmlp[skops]"'
        ) from err
    return sio


def trusted_types() -> list[str]:
    """The fastmlp types :func:`load` trusts beyond skops' defaults.

    Returns
    -------
    list of str
        Fully qualified names, as skops writes them (``module.QualName``):
        both estimators and the stochastic solvers' state they keep for
        ``partial_fit``. Pass them as ``trusted=`` to ``skops.io.load`` to
        load a file holding fastmlp models inside other objects (a
        ``Pipeline``) with skops directly.
    """
    from ._engine.epochs import OptimizerState
    from ._mlp import FastMLPClassifier, FastMLPRegressor

    return [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in (FastMLPClassifier, FastMLPRegressor, OptimizerState)
    ]


def save(model, path: str | os.PathLike) -> None:
    """Save ``model`` (a fitted fastmlp estimator, or a pipeline holding one).

    Parameters
    ----------
    model : object
        Anything skops can persist. Fitted weights are host numpy arrays, so a
        model fitted on a GPU saves as one fitted on the CPU.
    path : str or path-like
        The file to write (skops format; ``.skops`` by convention).
    """
    _skops_io().dump(model, path)


def load(path: str | os.PathLike):
    """Load a model saved by :func:`save` (or ``skops.io.dump``), safely.

    Parameters
    ----------
    path : str or path-like
        A skops file.

    Returns
    -------
    model : object

    Raises
    ------
    skops.io.exceptions.UntrustedTypesFoundException
        The file holds a type that is neither one of :func:`trusted_types`
        nor trusted by skops by default; nothing of the file is loaded.
    ValueError
        The file is not a readable skops file (truncated or corrupted).
    """
    sio = _skops_io()
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except _UNREADABLE as err:
        raise ValueError(
            f"{os.fspath(path)!r} is not a readable model file (truncated or "
            f"corrupted?): {err}"
        ) from err
    unknown = sorted(set(untrusted) - set(trusted_types()))
    if unknown:
        raise UntrustedTypesFoundException(unknown)
    try:
        return sio.load(path, trusted=untrusted)
    except _UNREADABLE as err:
        raise ValueError(
            f"{os.fspath(path)!r} is not a readable model file: {err}"
        ) from err
