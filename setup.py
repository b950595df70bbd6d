"""Package discovery, and the compiled kernels a wheel ships.

The kernels live in ``kernels/`` at the top of the repository but install as
``fastmlp.kernels``. A hand-written package list forgot ``fastmlp._engine``
once (the wheel could not fit), so every package under both trees is found
here, and a new subpackage cannot be left out. Everything else is in
``pyproject.toml``.

A wheel also ships numba's compiled code of the complete CPU kernel set for
the portable x86-64 levels (``fastmlp/_aot.py``; loaded by
``kernels/_cache.py``), so that nothing compiles after ``pip install``: the
build compiles it (about two minutes) and tags the wheel for its Python
version and manylinux x86-64. An editable install compiles the build host's
own level into ``kernels/_aot/`` instead. ``FASTMLP_SHIP_KERNELS=0`` skips the
step (a pure wheel that compiles on first use, as any numba package does);
``host`` or ``all`` choose the levels.
"""

import os
import platform
import subprocess
import sys

from setuptools import Distribution, find_packages, setup

try:
    from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
except ImportError:  # setuptools < 70.1 (a --no-build-isolation build)
    from wheel.bdist_wheel import bdist_wheel as _bdist_wheel
from setuptools.command.build_py import build_py as _build_py

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGES = find_packages(include=["fastmlp", "fastmlp.*"]) + [
    "fastmlp." + name for name in find_packages(include=["kernels", "kernels.*"])
]
SHIP_ENV = "FASTMLP_SHIP_KERNELS"


def ship_levels(editable):
    """``"all"``, ``"host"`` or None (no compiled kernels in this build)."""
    choice = os.environ.get(SHIP_ENV, "").strip().lower()
    if choice in ("0", "false", "no", "off"):
        return None
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None  # the shipped levels are x86-64 ones
    if choice in ("host", "all"):
        return choice
    return "host" if editable else "all"


class build_py(_build_py):
    """``build_py``, then the ahead-of-time compile of the kernel set."""

    def run(self):
        super().run()
        editable = bool(getattr(self, "editable_mode", False))
        levels = ship_levels(editable)
        if levels is None:
            return
        if editable:
            fastmlp_dir = os.path.join(HERE, "fastmlp")
            kernels_dir = os.path.join(HERE, "kernels")
        else:
            fastmlp_dir = os.path.join(self.build_lib, "fastmlp")
            kernels_dir = os.path.join(fastmlp_dir, "kernels")
        subprocess.check_call(
            [
                sys.executable,
                os.path.join(HERE, "fastmlp", "_aot.py"),
                "build",
                "--fastmlp",
                fastmlp_dir,
                "--kernels",
                kernels_dir,
                "--into",
                os.path.join(kernels_dir, "_aot"),
                "--levels",
                levels,
            ]
        )


class KernelDistribution(Distribution):
    """A platform distribution when the wheel carries compiled kernels (they
    hold x86-64 machine code, and their file names the Python version): the
    package installs into platlib, the wheel is tagged for the platform."""

    def has_ext_modules(self):
        return ship_levels(editable=False) is not None


class bdist_wheel(_bdist_wheel):
    """The platform tag of a wheel with compiled kernels: manylinux x86-64 (the
    kernels link to nothing but the process they load into)."""

    def finalize_options(self):
        super().finalize_options()
        if not self.root_is_pure and not self.plat_name_supplied:
            self.plat_name = "manylinux_2_17_x86_64"

    def get_tag(self):
        python, abi, plat = super().get_tag()
        if not self.root_is_pure:
            abi = "none"  # no C extension: any ABI of that Python version
        return python, abi, plat


setup(
    packages=PACKAGES,
    package_dir={"fastmlp": "fastmlp", "fastmlp.kernels": "kernels"},
    cmdclass={"build_py": build_py, "bdist_wheel": bdist_wheel},
    distclass=KernelDistribution,
)
