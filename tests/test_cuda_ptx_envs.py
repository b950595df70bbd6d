"""``tests/test_cuda_ptx.py`` where it can run: in environments with NVVM.

The default test environment has numba-cuda without the CUDA toolkit wheels,
so there the PTX check skips. The integration lane (``pytest -m
integration``) builds what it needs and runs it in a child pytest:

* "as today": a venv with this environment's numpy, numba and numba-cuda,
  plus numba-cuda's ``cu12`` extra (NVVM, from the nvidia-cuda-nvcc wheel);
* "numpy 2.5": a Python 3.12 venv with numpy >= 2.5 (the lent GPU machine's),
  where numba-cuda's first compile raises ``AttributeError`` on
  ``np.row_stack`` unless fastmlp's shim is applied. Needs a Python 3.12:
  ``FASTMLP_PYTHON312``, ``python3.12`` on PATH or pyenv's; skipped without.

The venvs are kept under ``FASTMLP_TEST_VENVS`` (default: the user cache
folder) and reused while their requirements are unchanged. fastmlp is not
installed into them: a folder on ``PYTHONPATH`` maps ``fastmlp.kernels`` to
``kernels/`` as the package does.
"""

import glob
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.integration


def _venv_root():
    base = os.environ.get("FASTMLP_TEST_VENVS")
    if base:
        return Path(base)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    return Path(cache) / "fastmlp" / "test-venvs"


def _venv(python, requirements):
    """A venv of ``python`` with ``requirements``, built once and reused."""
    key = hashlib.sha256("\n".join([str(python), *requirements]).encode()).hexdigest()[
        :16
    ]
    path = _venv_root() / key
    exe = path / "bin" / "python"
    done = path / ".complete"
    if not done.exists():
        shutil.rmtree(path, ignore_errors=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(python), "-m", "venv", str(path)], check=True)
        proc = subprocess.run(
            [str(exe), "-m", "pip", "install", "-q", *requirements],
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        done.write_text("\n".join(requirements) + "\n")
    return exe


def _source_folder(tmp_path):
    """A folder on which ``import fastmlp`` finds this tree (kernels mapped)."""
    src = tmp_path / "src"
    shutil.copytree(
        ROOT / "fastmlp", src / "fastmlp", ignore=shutil.ignore_patterns("kernels")
    )
    (src / "fastmlp" / "kernels").symlink_to(ROOT / "kernels")
    return src


def _run_ptx_test(exe, tmp_path):
    env = dict(os.environ)
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    env["PYTHONPATH"] = os.pathsep.join([str(_source_folder(tmp_path)), str(ROOT)])
    proc = subprocess.run(
        [
            str(exe), "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "-o", "addopts=", "-rs", str(ROOT / "tests" / "test_cuda_ptx.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )  # fmt: skip
    output = f"{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    # It must have run, not skipped: the point is that NVVM is there.
    assert proc.returncode == 0 and "1 passed" in proc.stdout, output
    return proc.stdout


def _version(dist):
    return importlib.metadata.version(dist)


def _common_requirements():
    return [
        f"scikit-learn=={_version('scikit-learn')}",
        f"scipy=={_version('scipy')}",
        "pytest>=8",
    ]


@pytest.mark.skipif(
    importlib.util.find_spec("numba_cuda") is None, reason="numba-cuda not installed"
)
def test_every_kernel_compiles_to_ptx_with_todays_versions(tmp_path):
    exe = _venv(
        Path(getattr(sys, "_base_executable", sys.executable)),
        [
            f"numpy=={_version('numpy')}",
            f"numba=={_version('numba')}",
            f"numba-cuda[cu12]=={_version('numba-cuda')}",
            *_common_requirements(),
        ],
    )
    _run_ptx_test(exe, tmp_path)


def _python312():
    """A Python 3.12 interpreter that runs, or None."""
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates = [os.environ.get("FASTMLP_PYTHON312")]
    candidates += sorted(
        glob.glob(os.path.join(pyenv, "versions", "3.12*", "bin", "python"))
    )
    candidates.append(shutil.which("python3.12"))
    for candidate in candidates:
        if not candidate or not os.path.exists(candidate):
            continue
        try:
            proc = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            continue
        if proc.stdout.strip() == "True":
            return Path(candidate)
    return None


@pytest.mark.skipif(_python312() is None, reason="no Python 3.12 (numpy 2.5 needs it)")
def test_every_kernel_compiles_to_ptx_under_numpy_2_5(tmp_path):
    exe = _venv(
        _python312(),
        [
            "numpy>=2.5",
            "numba>=0.68",
            "numba-cuda[cu12]>=0.30",
            "scikit-learn>=1.6",
            "scipy>=1.11",
            "pytest>=8",
        ],
    )
    version = subprocess.run(
        [str(exe), "-c", "import numpy; print(hasattr(numpy, 'row_stack'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version == "False", "this venv's numpy still has row_stack"
    _run_ptx_test(exe, tmp_path)
