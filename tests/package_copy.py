"""A private copy of the installed fastmlp package, for tests that edit it."""

import shutil
from pathlib import Path

import fastmlp.kernels

import fastmlp


def copy_installed_package(site):
    """Copy ``fastmlp`` (with ``fastmlp.kernels``) into folder ``site``.

    Works for a wheel install and for the editable layout, where the kernels
    live in ``kernels/`` beside ``fastmlp/``. Caches are not copied.

    Returns
    -------
    pathlib.Path
        The copy's ``fastmlp/kernels`` folder.
    """
    ignore = shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc")
    site = Path(site)
    shutil.copytree(Path(fastmlp.__file__).parent, site / "fastmlp", ignore=ignore)
    kernels = site / "fastmlp" / "kernels"
    if not kernels.exists():  # editable layout
        shutil.copytree(Path(fastmlp.kernels.__file__).parent, kernels, ignore=ignore)
    return kernels


def file_defining(root, text):
    """The one ``.py`` file under ``root`` whose source contains ``text``."""
    hits = [p for p in sorted(Path(root).rglob("*.py")) if text in p.read_text()]
    assert len(hits) == 1, (text, hits)
    return hits[0]
