"""The compiled kernels a wheel ships (issue 21): loaded when right, never else.

The wheel is built as a user's ``pip wheel`` builds it (``setup.py`` compiles
the complete kernel set for x86-64-v3 and x86-64-v4, ``fastmlp/_aot.py``),
installed into a fresh venv with no editable install beside it, and every
process starts with an empty user cache (``NUMBA_CACHE_DIR``). Compiles are
counted two ways: numba's ``numba:compile`` events (every dispatcher that
really compiles, nested ones included) and the kernels' cache misses (pieces
included). The first tests need no wheel and run in the default lane.
"""

import fcntl
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest
from fastmlp.kernels import _cache

REPO = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------
# default lane: the level choice and the switches
# ----------------------------------------------------------------------------
def _features(*names):
    return dict.fromkeys(names, True)


def test_best_level_needs_every_feature_of_the_level():
    v3 = _features(*_cache.LEVELS["x86-64-v3"])
    v4 = _features(*_cache.LEVELS["x86-64-v4"])
    assert _cache.best_level(v4) == "x86-64-v4"
    assert _cache.best_level(v3) == "x86-64-v3"
    # AVX-512 F without VL (Xeon Phi) is not v4
    assert _cache.best_level({**v4, "avx512vl": False}) == "x86-64-v3"
    assert _cache.best_level({**v3, "fma": False}) is None  # no AVX2-era level
    assert _cache.best_level({}) is None
    # only levels the package ships count
    assert _cache.best_level(v4, ("x86-64-v3",)) == "x86-64-v3"
    assert _cache.best_level(v4, ()) is None


@pytest.mark.parametrize("value", ["0", "false", "No", "off"])
def test_shipped_kernels_can_be_switched_off(monkeypatch, value):
    monkeypatch.setenv(_cache.SHIPPED_ENV, value)
    assert not _cache.shipped_enabled()
    assert _cache.shipped_level() is None


def _shipped_level_with(folder, **env):
    code = (
        "from fastmlp.kernels import _cache; "
        f"_cache.SHIPPED_DIR = {str(folder)!r}; print(_cache.shipped_level())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, _cache.SHIPPED_ENV: "1", **env},
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_the_level_is_the_best_one_shipped_and_a_user_chosen_target_is_kept(
    tmp_path,
):
    host = _cache.best_level(_host_features())
    assert _shipped_level_with(tmp_path) == "None"  # nothing shipped
    (tmp_path / "x86-64-v3").mkdir()
    assert _shipped_level_with(tmp_path) == str(
        _cache.best_level(_host_features(), ("x86-64-v3",))
    )
    (tmp_path / "x86-64-v4").mkdir()
    assert _shipped_level_with(tmp_path) == str(host)
    v4 = {_cache.SHIPPED_LEVEL_ENV: "x86-64-v4"}
    assert _shipped_level_with(tmp_path, **v4) == str(host)
    v3 = {_cache.SHIPPED_LEVEL_ENV: "x86-64-v3"}  # capped: never above it
    assert _shipped_level_with(tmp_path, **v3) == str(
        _cache.best_level(_host_features(), ("x86-64-v3",))
    )
    # NUMBA_CPU_NAME (say "generic" for a cache shared by several machines):
    # the user asked numba for that code; shipped code is not substituted.
    assert _shipped_level_with(tmp_path, NUMBA_CPU_NAME="generic") == "None"


# ----------------------------------------------------------------------------
# integration lane: a real wheel in a fresh venv
# ----------------------------------------------------------------------------
FIT = r"""
import json, sys, time, warnings
t0 = time.perf_counter()
import numpy as np
import scipy.sparse as sp
from numba.core import event
warnings.simplefilter("ignore")
compiled = []

class Count(event.Listener):
    def on_start(self, ev):
        compiled.append(ev.data["dispatcher"].py_func.__qualname__)

    def on_end(self, ev):
        pass

event.register("numba:compile", Count())
import fastmlp
from fastmlp import FastMLPClassifier, FastMLPRegressor
from fastmlp.kernels import _cache
from fastmlp.kernels.cpu.compiled import cache_stats
from sklearn.datasets import load_digits

X, y = load_digits(return_X_y=True)
X = X / 16
started = time.perf_counter()
first = FastMLPClassifier(random_state=0, max_iter=20).fit(X, y)
first_fit_s = time.perf_counter() - started
out = {"first": first.predict_proba(X[:20]).tolist()}
if sys.argv[1] == "all":
    X32, Xs = X.astype(np.float32), sp.csr_matrix(X[:400])
    runs = {
        "float32": lambda: FastMLPClassifier(max_iter=3, random_state=0).fit(X32, y),
        "sgd": lambda: FastMLPClassifier(solver="sgd", max_iter=3, random_state=0)
        .fit(X, y),
        "lbfgs": lambda: FastMLPClassifier(solver="lbfgs", max_iter=5, random_state=0)
        .fit(X, y),
        "tanh": lambda: FastMLPClassifier(activation="tanh", max_iter=3,
                                          random_state=0).fit(X32, y),
        "logistic": lambda: FastMLPClassifier(activation="logistic", max_iter=3,
                                              random_state=0).fit(X, y),
        "early": lambda: FastMLPClassifier(early_stopping=True, max_iter=3,
                                           random_state=0).fit(X, y),
        "binary": lambda: FastMLPClassifier(max_iter=3, random_state=0)
        .fit(X, y % 2),
        "narrow": lambda: FastMLPClassifier((4,), max_iter=3, random_state=0)
        .fit(X32, y % 2),
        "csr": lambda: FastMLPClassifier(max_iter=3, random_state=0)
        .fit(Xs, y[:400]),
        "regressor": lambda: FastMLPRegressor(max_iter=3, random_state=0)
        .fit(X, y.astype(float)),
        "l1": lambda: FastMLPRegressor(max_iter=3, random_state=0, l1=1e-3)
        .fit(X32, y.astype(float)),
    }
    for name, run in runs.items():
        model = run()
        out[name] = model.predict(X[:20]).tolist()
out.update(
    compiled=compiled,
    stats=cache_stats(),
    shipped=_cache.shipped_loads(),
    level=_cache.shipped_level(),
    first_fit_s=first_fit_s,
    file=fastmlp.__file__,
)
print(json.dumps(out))
"""


def _locked_once(path, make):
    """``make(path)`` once across pytest-xdist workers (a file lock)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(str(path) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            make(path)
    return path


def _build_wheel(wheel_dir):
    source = wheel_dir.parent / "source"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "build",
            "dist",
            "*.egg-info",
            "__pycache__",
            ".*cache",
            "_aot",
            "*.nbi",
            "*.nbc",
        ),  # fmt: skip
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.pop("FASTMLP_SHIP_KERNELS", None)
    # --no-build-isolation: the build compiles with this environment's numba,
    # llvmlite and numpy, the versions the test venv runs (a user's isolated
    # build gets the newest, as their install does).
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
         "--no-build-isolation", "-q", "-w", str(wheel_dir)],
        check=True, capture_output=True, env=env,
    )  # fmt: skip


def session_wheel(tmp_path_factory):
    """The wheel of this test session, built once across xdist workers."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the session's folder, shared by its workers
    shared = base / "fastmlp-shipped-wheel"
    _locked_once(shared / "wheel", _build_wheel)
    (path,) = (shared / "wheel").glob("fastmlp-*.whl")
    return path


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    return session_wheel(tmp_path_factory)


def _fresh_venv(root, wheel):
    """A venv holding the wheel; this environment's site-packages on a plain
    path entry (no download; the editable install's finder never runs)."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    Path(site, "_outer_site.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    return python, Path(site)


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory):
    return _fresh_venv(tmp_path_factory.mktemp("shipped"), wheel)


def run(python, what, cache_dir, **env_extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NUMBA_", "FASTMLP_")) and k != "PYTHONPATH"
    }
    env.update(NUMBA_CACHE_DIR=str(cache_dir), **env_extra)
    out = subprocess.run(
        [str(python), "-c", FIT, what],
        cwd=cache_dir.parent,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.integration
def test_the_wheel_is_a_platform_wheel_with_both_levels(wheel):
    assert wheel.name.endswith(
        "-cp{}{}-none-manylinux_2_17_x86_64.whl".format(*sys.version_info[:2])
    )
    size = wheel.stat().st_size
    assert size <= 20 * 2**20, size
    names = zipfile.ZipFile(wheel).namelist()
    for level in _cache.LEVELS:
        shipped = [n for n in names if n.startswith(f"fastmlp/kernels/_aot/{level}/")]
        assert any(n.endswith(".nbi") for n in shipped), level
        assert any("train_epoch_skeleton" in n for n in shipped), level
        assert any("narrow_epoch" in n for n in shipped), level
    print(f"wheel {wheel.name}: {size / 2**20:.1f} MiB")


@pytest.mark.integration
def test_no_configuration_compiles_after_install(venv, tmp_path):
    python, site = venv
    shipped = run(python, "all", tmp_path / "cache")
    assert shipped["file"].startswith(str(site))
    assert shipped["level"] in _cache.LEVELS
    assert shipped["compiled"] == [], shipped["compiled"]
    assert shipped["stats"]["misses"] == 0, shipped["stats"]
    assert shipped["shipped"] > 0
    # The same fits, the shipped kernels ignored: everything compiles for
    # this host, and the results agree (the levels differ from the host's
    # code in vector width and instruction choice only).
    jit = run(python, "all", tmp_path / "cache-jit", FASTMLP_SHIPPED_KERNELS="0")
    assert jit["shipped"] == 0 and jit["stats"]["misses"] > 0 and jit["compiled"]
    for name in jit:
        if name in ("compiled", "stats", "shipped", "level", "first_fit_s", "file"):
            continue
        np.testing.assert_allclose(shipped[name], jit[name], rtol=1e-4, atol=1e-6)
    print(
        f"first fit (20 epochs): shipped {shipped['first_fit_s']:.2f} s, "
        f"compiled {jit['first_fit_s']:.2f} s"
    )


@pytest.mark.integration
def test_a_missing_level_falls_back_then_compiles(venv, tmp_path):
    python, site = venv
    aot = site / "fastmlp" / "kernels" / "_aot"
    moved = tmp_path / "moved"
    moved.mkdir()
    try:
        shutil.move(aot / "x86-64-v4", moved / "x86-64-v4")
        v3 = run(python, "first", tmp_path / "a")
        if _cache.best_level(_host_features(), ("x86-64-v3",)) is not None:
            assert v3["level"] == "x86-64-v3"
            assert v3["compiled"] == [] and v3["stats"]["misses"] == 0
        shutil.move(aot / "x86-64-v3", moved / "x86-64-v3")
        none = run(python, "first", tmp_path / "b")
        assert none["level"] is None and none["shipped"] == 0
        assert none["stats"]["misses"] > 0 and none["compiled"]
        np.testing.assert_allclose(none["first"], v3["first"], rtol=1e-4, atol=1e-7)
    finally:
        for level in ("x86-64-v4", "x86-64-v3"):
            if (moved / level).exists():
                shutil.move(moved / level, aot / level)


def _host_features():
    from llvmlite import binding

    return binding.get_host_cpu_features()


@pytest.mark.integration
def test_an_edited_kernel_is_never_loaded_stale(wheel, tmp_path):
    python, site = _fresh_venv(tmp_path, wheel)
    losses = site / "fastmlp" / "kernels" / "cpu" / "losses.py"
    losses.write_text(losses.read_text() + "\n# edited after install\n")
    out = run(python, "first", tmp_path / "cache")
    assert out["level"] in _cache.LEVELS  # the level is there ...
    assert out["shipped"] == 0  # ... but the stamp differs: nothing loaded
    assert out["stats"]["misses"] > 0 and out["compiled"]


@pytest.mark.integration
def test_other_library_versions_compile(wheel, tmp_path):
    # numpy's version is in the stamp (numba's and llvmlite's too; numba's is
    # also the index header): a venv with another numpy compiles.
    python, site = _fresh_venv(tmp_path, wheel)
    import numpy

    other = "2.3.5" if numpy.__version__ != "2.3.5" else "2.2.6"
    pip = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"numpy=={other}"],
        capture_output=True,
        text=True,
    )
    if pip.returncode != 0:
        pytest.skip(f"numpy {other} could not be installed: {pip.stderr[-500:]}")
    out = run(python, "first", tmp_path / "cache")
    assert out["shipped"] == 0
    assert out["stats"]["misses"] > 0 and out["compiled"]
