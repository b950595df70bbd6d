"""Package discovery for the one layout setuptools' config cannot express.

The kernels live in ``kernels/`` at the top of the repository but install as
``fastmlp.kernels``. A hand-written package list forgot ``fastmlp._engine``
once (the wheel could not fit), so every package under both trees is found
here, and a new subpackage cannot be left out. Everything else is in
``pyproject.toml``.
"""

from setuptools import find_packages, setup

PACKAGES = find_packages(include=["fastmlp", "fastmlp.*"]) + [
    "fastmlp." + name for name in find_packages(include=["kernels", "kernels.*"])
]

setup(
    packages=PACKAGES,
    package_dir={"fastmlp": "fastmlp", "fastmlp.kernels": "kernels"},
)
