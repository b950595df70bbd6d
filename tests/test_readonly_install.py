"""A read-only install (and a read-only home) still caches compiled kernels."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import fastmlp.kernels
import pytest

import fastmlp

FIT = (
    "import warnings, numpy as np, numba, fastmlp\n"
    "X = np.random.RandomState(0).rand(20, 3)\n"
    "with warnings.catch_warnings():\n"
    "    warnings.simplefilter('ignore')\n"
    "    fastmlp.FastMLPClassifier((4,), max_iter=2).fit(X, np.arange(20) % 2)\n"
    "print(fastmlp.__file__)\n"
    "print(numba.config.CACHE_DIR)\n"
)


def can_make_read_only_mounts():
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount --bind / /mnt 2>/dev/null; echo ok"],
        capture_output=True,
        text=True,
    )
    return probe.returncode == 0 and "ok" in probe.stdout


@pytest.mark.skipif(
    not can_make_read_only_mounts(),
    reason="needs 'unshare -m' and bind mounts (root in a Linux sandbox)",
)
@pytest.mark.integration
def test_read_only_install_and_home_fall_back_to_a_temp_cache(tmp_path):
    site, home, tmp = tmp_path / "site", tmp_path / "home", tmp_path / "tmp"
    # the shipped kernels (an editable install compiles them into kernels/_aot/)
    # are left out: this is the JIT path and its cache on a read-only install
    ignore = shutil.ignore_patterns("__pycache__", "_aot")
    shutil.copytree(Path(fastmlp.__file__).parent, site / "fastmlp", ignore=ignore)
    kernels_src = Path(fastmlp.kernels.__file__).parent
    if not (site / "fastmlp" / "kernels").exists():  # editable layout
        shutil.copytree(kernels_src, site / "fastmlp" / "kernels", ignore=ignore)
    home.mkdir()
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update(HOME=str(home), TMPDIR=str(tmp), PYTHONPATH=str(site))
    env.pop("XDG_CACHE_HOME", None)
    script = (
        f"mount --bind {site} {site} && mount -o remount,ro,bind {site} && "
        f"mount --bind {home} {home} && mount -o remount,ro,bind {home} && "
        f'exec {sys.executable} -c "$FIT"'
    )
    env["FIT"] = FIT
    out = subprocess.run(
        ["unshare", "-m", "sh", "-c", script],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    module_file, cache_dir = out.stdout.split()[-2:]
    assert module_file.startswith(str(site))
    assert cache_dir.startswith(str(tmp))
    assert list(Path(cache_dir).rglob("*.nbi")), "no kernel was cached"
    assert not list((site / "fastmlp").rglob("*.nbi"))
