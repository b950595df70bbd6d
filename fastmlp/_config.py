"""fastmlp's global switches, in scikit-learn's ``set_config`` style.

By default every estimator behaves exactly as scikit-learn's MLPs do, so a
script or a test suite written against scikit-learn runs unchanged. The one
switch so far, ``strict``, turns on fastmlp's stricter checks:

* a classifier fitted on a single class raises ``ValueError`` (scikit-learn
  trains a model that always predicts that class);
* when an epoch's loss becomes non-finite, ``fit`` stops at that epoch, keeps
  the weights of the last finite epoch and raises ``ValueError`` saying what
  to change (scikit-learn goes on to ``max_iter`` with non-finite weights and
  raises at the end, or, with ``early_stopping=True``, restores the best
  weights and raises nothing);
* a Python bool where a parameter is a number (``max_iter=True``) is an
  ``InvalidParameterError`` (scikit-learn takes it as 1 or 0).
"""

import contextlib
import contextvars

_DEFAULTS = {"strict": False}
_global = dict(_DEFAULTS)
_local: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "fastmlp_config", default=None
)


def get_config() -> dict:
    """The switches in force here (``config_context`` over ``set_config``).

    Returns
    -------
    config : dict
        ``{"strict": bool}``.
    """
    overrides = _local.get()
    return {**_global, **(overrides or {})}


def _checked(strict):
    if strict is not None and not isinstance(strict, bool):
        raise TypeError(f"strict must be a bool or None, got {strict!r}.")
    return {} if strict is None else {"strict": strict}


def set_config(strict: bool | None = None) -> None:
    """Set fastmlp's switches for the whole process.

    Parameters
    ----------
    strict : bool or None, default=None
        fastmlp's stricter checks (see :mod:`fastmlp._config`) instead of
        scikit-learn's behaviour; None leaves the setting as it is.
    """
    _global.update(_checked(strict))


@contextlib.contextmanager
def config_context(*, strict: bool | None = None):
    """Switches for the code inside the ``with`` block (this thread/context).

    Parameters
    ----------
    strict : bool or None, default=None
        As in :func:`set_config`; None keeps the surrounding setting.

    Examples
    --------
    >>> import fastmlp
    >>> with fastmlp.config_context(strict=True):
    ...     fastmlp.get_config()["strict"]
    True
    """
    token = _local.set({**(_local.get() or {}), **_checked(strict)})
    try:
        yield
    finally:
        _local.reset(token)
