"""The package installs as ``fastmlp`` + ``fastmlp.kernels``, never a ``kernels``."""

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import fastmlp
from fastmlp import kernels

REPO = Path(__file__).resolve().parents[1]

SMOKE = """
import sys, warnings
import numpy as np
import fastmlp
assert "numba.cuda" not in sys.modules, "import fastmlp imported numba.cuda"
X = np.random.RandomState(0).rand(20, 3)
y = np.arange(20) % 2
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fastmlp.FastMLPClassifier((4,), max_iter=2, random_state=0).fit(X, y).predict(X)
assert "kernels" not in sys.modules, "a top-level 'kernels' module was imported"
assert "numba.cuda" not in sys.modules, "the CPU path imported numba.cuda"
print(fastmlp.__file__)
print(sys.modules["fastmlp.kernels.cpu"].__name__)
"""


def test_kernels_is_a_subpackage_of_fastmlp():
    assert kernels.__name__ == "fastmlp.kernels"
    assert importlib.util.find_spec("kernels") is None


def test_import_and_fit_never_import_a_top_level_kernels(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", SMOKE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.splitlines()[-1] == "fastmlp.kernels.cpu"


def test_import_fastmlp_compiles_nothing(tmp_path):
    code = (
        "import fastmlp, fastmlp.kernels.cpu as c\n"
        "print(sum(len(f.signatures) for f in vars(c).values() "
        "if hasattr(f, 'signatures')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "0"


@pytest.mark.integration
def test_built_wheel_ships_kernels_inside_fastmlp(tmp_path):
    # Built from a clean copy: setuptools' build/ folder keeps files of
    # earlier builds, which would hide a package missing from this one.
    source = tmp_path / "source"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*cache"
        ),
    )
    wheel_dir = tmp_path / "wheel"
    # Without the compiled kernels (FASTMLP_SHIP_KERNELS=0): the pure wheel a
    # source install or a non-x86 platform gets, which compiles on first use
    # (the wheel with them: tests/test_shipped.py).
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(source),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheel_dir),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "FASTMLP_SHIP_KERNELS": "0"},
    )
    (wheel,) = wheel_dir.glob("fastmlp-*.whl")
    assert wheel.name.endswith("-py3-none-any.whl"), wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    assert "fastmlp/kernels/__init__.py" in names
    kernels_dir = Path(kernels.__file__).parent
    sources = {
        "fastmlp/kernels/" + p.relative_to(kernels_dir).as_posix()
        for p in kernels_dir.rglob("*.py")
    }
    assert "fastmlp/kernels/cpu/__init__.py" in sources
    assert sources <= set(names), sources - set(names)
    assert "fastmlp/py.typed" in names
    assert not [n for n in names if n.startswith("kernels/")]

    # Installed into a fresh venv where nothing else of fastmlp is importable
    # (an unpacked wheel on PYTHONPATH beside the editable install hid a
    # missing subpackage: the editable finder served it from the repository).
    # The venv sees this environment's site-packages as a plain path entry,
    # so numpy, numba and scikit-learn import without a download but the
    # editable install's .pth (its finder) is never processed.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    venv_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    outer_site = sysconfig.get_path("purelib")
    Path(venv_site, "_outer_site.pth").write_text(outer_site + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [str(python), "-c", SMOKE],
        cwd=run_dir,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].startswith(venv_site)


def test_version_is_exposed():
    assert fastmlp.__version__.count(".") == 2


def test_import_fastmlp_loads_neither_sklearn_nor_numba(tmp_path):
    code = (
        "import sys, fastmlp\n"
        "print(sorted(m for m in ('sklearn', 'numba', 'scipy', 'matplotlib') "
        "if m in sys.modules))\n"
        "fastmlp.FastMLPClassifier\n"
        "print('sklearn' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split("\n")[:2] == ["[]", "True"]


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        fastmlp.nothing  # noqa: B018
