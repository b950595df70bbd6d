"""The kernel cache never goes stale, and stays tidy.

Each test works on a private copy of the installed package (see
``package_copy``), runs kernels in fresh processes, edits the copy between
them as a release or a developer would, and checks that the next process
computes what the edited source says, with the old cache left in place.
Those tests start fresh processes that compile kernels: they are in the
integration lane (``pytest -m integration``, run by CI); the checks that run
in this process stay in the default run.
"""

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import fastmlp.kernels
import numpy as np
import pytest
from fastmlp.kernels import _cache, cpu
from numba.core import caching
from package_copy import copy_installed_package, file_defining

import fastmlp

ACTIVATE = """
import json, numpy as np
from fastmlp.kernels import ACTIVATION_CODES, cpu
Z = np.linspace(-2.0, 2.0, 12).reshape(3, 4)
cpu.apply_activation(Z, ACTIVATION_CODES["tanh"])
stats = cpu.apply_activation.stats
print(json.dumps({"Z": Z.ravel().tolist(),
                  "hits": sum(stats.cache_hits.values()),
                  "misses": sum(stats.cache_misses.values()),
                  "file": cpu.__file__}))
"""

FIT = """
import json, sys, warnings, numpy as np, numba
import fastmlp
from fastmlp.kernels import cpu
rng = np.random.RandomState(0)
X = rng.rand(40, 3)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    clf = fastmlp.FastMLPClassifier((5,), activation="tanh", max_iter=3,
                                    random_state=0).fit(X, np.arange(40) % 2)
stats = cpu.cache_stats()  # the skeleton and the pieces this fit made
print(json.dumps({"coef": np.concatenate([c.ravel() for c in clf.coefs_]).tolist(),
                  "hits": stats["hits"],
                  "misses": stats["misses"],
                  "numba": numba.__version__, "file": fastmlp.__file__}))
"""

TANH = np.tanh(np.linspace(-2.0, 2.0, 12))


def run(script, site, cache_dir=None, extra_path=()):
    """Run ``script`` in a fresh interpreter that imports fastmlp from ``site``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env["PYTHONPATH"] = os.pathsep.join([*map(str, extra_path), str(site)])
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def site(tmp_path):
    site = tmp_path / "site"
    copy_installed_package(site)
    return site


def edit(path, old, new):
    text = path.read_text()
    assert text.count(old) == 1, (path, old)
    path.write_text(text.replace(old, new))


def swap_tanh_and_relu_codes(kernels):
    """Renumber two activation codes in the kernel contract's module."""
    edit(
        kernels / "__init__.py",
        '"tanh": 2,\n    "relu": 3,',
        '"tanh": 3,\n    "relu": 2,',
    )


def halve_tanh(kernels):
    """Edit the float64 tanh helper (wherever it lives) to return tanh / 2."""
    helper = file_defining(kernels, "def _tanh64(")
    edit(
        helper, "    return np.copysign(t, x)\n", "    return np.copysign(t, x) * 0.5\n"
    )


def kernel_module(dispatcher):
    """Path of the module defining ``dispatcher``, relative to the package."""
    path = Path(inspect.getfile(dispatcher.py_func))
    return path.relative_to(Path(fastmlp.kernels.__file__).parent)


def cache_files(root, pattern):
    return sorted(p.name for p in Path(root).rglob(pattern))


@pytest.mark.integration
def test_a_changed_code_in_another_module_is_recompiled(site):
    first = run(ACTIVATE, site)
    assert first["file"].startswith(str(site))
    np.testing.assert_allclose(first["Z"], TANH, rtol=1e-13)
    again = run(ACTIVATE, site)
    assert (again["hits"], again["misses"]) == (1, 0)  # the cache works at all
    # The activation codes live in kernels/__init__.py; a release that swaps
    # two must not run kernels compiled with the old numbering.
    swap_tanh_and_relu_codes(site / "fastmlp" / "kernels")
    after = run(ACTIVATE, site)
    assert after["misses"] == 1
    np.testing.assert_allclose(after["Z"], TANH, rtol=1e-13)


@pytest.mark.integration
def test_a_changed_helper_formula_is_recompiled(site):
    run(ACTIVATE, site)
    halve_tanh(site / "fastmlp" / "kernels")
    after = run(ACTIVATE, site)
    assert after["misses"] == 1
    np.testing.assert_allclose(after["Z"], 0.5 * TANH, rtol=1e-13)


@pytest.mark.integration
def test_edits_rewrite_the_cache_files_instead_of_adding_more(site):
    kernels = site / "fastmlp" / "kernels"
    run(ACTIVATE, site)
    index, data = cache_files(kernels, "*.nbi"), cache_files(kernels, "*.nbc")
    assert index and data
    # An edit that moves every function down two lines, as edits do.
    module = kernels / kernel_module(cpu.apply_activation)
    module.write_text("# edited\n\n" + module.read_text())
    assert run(ACTIVATE, site)["misses"] == 1
    assert cache_files(kernels, "*.nbi") == index
    assert cache_files(kernels, "*.nbc") == data


@pytest.mark.integration
def test_numba_cache_dir_wins(site, tmp_path):
    cache_dir = tmp_path / "cache"
    run(ACTIVATE, site, cache_dir=cache_dir)
    assert cache_files(cache_dir, "*.nbi")
    assert not cache_files(site, "*.nbi")
    assert run(ACTIVATE, site, cache_dir=cache_dir)["hits"] == 1


@pytest.mark.integration
def test_processes_compiling_at_once_share_the_cache(site, tmp_path):
    # Two processes start with an empty cache and compile the same kernels at
    # the same time; both succeed with equal results and a third loads them.
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update(PYTHONPATH=str(site), NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", FIT],
            cwd=site,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    first, second = (json.loads(out.strip().splitlines()[-1]) for out, _ in outs)
    assert first["coef"] == second["coef"]
    third = run(FIT, site, cache_dir=tmp_path / "cache")
    assert (third["hits"], third["misses"]) == (first["misses"], 0)
    assert third["coef"] == first["coef"]


def source_tree():
    root = Path(fastmlp.__file__).resolve().parent.parent
    if not (root / "pyproject.toml").exists() or not (root / "kernels").is_dir():
        pytest.skip("fastmlp is not installed from a source tree")
    return root


def pip_install(src, target):
    out = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        + ["--no-build-isolation", "--upgrade", "--target", str(target), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
        # the JIT path and numba's cache are tested here: no shipped kernels
        env={**os.environ, "FASTMLP_SHIP_KERNELS": "0"},
    )
    assert out.returncode == 0, out.stderr


@pytest.mark.integration
def test_an_upgrade_that_changes_only_another_module_recompiles(tmp_path):
    import shutil

    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc", "*.egg-info")
    root = source_tree()
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(root / name, src / name)
    for name in ("fastmlp", "kernels"):
        shutil.copytree(root / name, src / name, ignore=ignore)
    site, cache = tmp_path / "site", tmp_path / "cache"
    pip_install(src, site)  # version A
    a = run(FIT, site, cache_dir=cache)
    # the fit's skeleton and its pieces (tanh, the logistic output, the loss)
    assert a["file"].startswith(str(site)) and a["misses"] >= 2 and a["hits"] == 0
    # Version B, with the same version number, changes only the codes that
    # every kernel reads from kernels/__init__.py: kernels compiled with A's
    # numbering would treat B's tanh code as relu.
    swap_tanh_and_relu_codes(src / "kernels")
    pip_install(src, site)
    b = run(FIT, site, cache_dir=cache)
    fresh = run(FIT, site, cache_dir=tmp_path / "fresh")
    assert (b["hits"], b["misses"]) == (0, a["misses"])
    assert b["coef"] == fresh["coef"] == a["coef"]


def test_the_stamp_covers_every_source_file_and_the_versions(tmp_path, monkeypatch):
    stamp = _cache.package_stamp.__wrapped__
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.py").write_text("X = 1\n")
    (tmp_path / "sub" / "b.py").write_text("Y = 2\n")
    base = stamp(root=str(tmp_path))
    assert stamp(root=str(tmp_path)) == base
    (tmp_path / "sub" / "b.py").write_text("Y = 3\n")
    changed = stamp(root=str(tmp_path))
    assert changed != base
    (tmp_path / "sub" / "c.py").write_text("")
    assert stamp(root=str(tmp_path)) != changed
    assert stamp("numba-cuda", root=str(tmp_path)) != stamp(root=str(tmp_path))
    before = stamp(root=str(tmp_path))
    # fastmlp's own version is not in it: the wheel's shipped kernels are
    # compiled before fastmlp is installed; its kernel files are hashed.
    for dist in ("numba", "llvmlite", "numpy"):
        monkeypatch.setattr(
            _cache, "_version", lambda d, dist=dist: "new" if d == dist else "old"
        )
        assert stamp(root=str(tmp_path)) != before, dist


def kernel_dispatchers():
    import importlib
    import pkgutil

    import fastmlp.kernels as pkg
    from numba.core.registry import CPUDispatcher

    found = {}
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        if ".cuda" in info.name:
            continue  # needs numba-cuda; the CUDA lanes check those
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == info.name:
                found[f"{info.name}.{name}"] = obj
    # The narrow epoch, made by a factory per lane count.
    from fastmlp.kernels.cpu import narrow

    found["narrow_epoch_kernel(8)"] = narrow.narrow_epoch_kernel(8)
    return found


def test_every_piece_is_cached_keyed_on_the_package():
    from fastmlp.kernels.cpu import pieces

    keyed = _cache.package_cache_class(caching.FunctionCache, ())
    for kind, code in [("activation", 2), ("output_delta", 1)]:
        made = pieces.piece(kind, code, "float32")
        assert isinstance(made._cache, keyed), (kind, code)


def test_every_cpu_kernel_is_cached_keyed_on_the_package():
    keyed = _cache.package_cache_class(caching.FunctionCache, ())
    dispatchers = kernel_dispatchers()
    cached = {
        n: d
        for n, d in dispatchers.items()
        if not isinstance(d._cache, caching.NullCache)
    }
    assert len(cached) > 20
    wrong = [n for n, d in cached.items() if not isinstance(d._cache, keyed)]
    assert not wrong, f"cached with numba's own key: {wrong}"
    # inline="always" helpers are compiled into their callers, never alone
    uncached = [
        n
        for n, d in dispatchers.items()
        if n not in cached and d.targetoptions.get("inline") != "always"
    ]
    assert not uncached, f"compiled in every process: {uncached}"


def test_pieces_differ_by_code_and_dtype_and_are_made_once():
    from fastmlp.kernels.cpu import pieces

    relu = pieces.piece("activation", 3, "float64")
    assert pieces.piece("activation", 3, np.float64) is relu
    assert pieces.piece("activation", 2, "float64") is not relu
    assert pieces.piece("activation", 3, "float32") is not relu
    assert pieces.made_pieces()[("activation", 3, "float64")] is relu
    fns = pieces.piece_addresses(3, 4, 1, np.float64)
    assert fns is pieces.piece_addresses(3, 4, 1, np.float64)  # cached
    assert fns[pieces.HIDDEN] == fns[pieces.DERIVATIVE] == relu.address
    # the identity has no derivative: the skeletons skip address 0
    assert pieces.piece_addresses(0, 0, 0, np.float64)[pieces.DERIVATIVE] == 0


SPECIALISED = """
import json, numpy as np
from fastmlp.kernels import cpu, workspace_size
rng = np.random.RandomState(0)
X = rng.rand(20, 3); Y = np.eye(2)[np.arange(20) % 2]
sizes = np.array([3, 4, 2]); n = 3 * 4 + 4 * 2 + 6
out = []
for hidden in (1, 2):  # logistic, then tanh: a second piece, its own entry
    params = rng.rand(n) - 0.5
    buf = np.empty(workspace_size(sizes, 5))
    hyper = np.array([1e-2, 0.9, 0, 0.9, 0.999, 1e-8, 1e-4, 0])
    cpu.train_epoch(X, Y, np.empty(0), np.arange(20), 0, params, np.zeros(n), sizes,
                    hidden, 4, 1, 5, 1, hyper, np.zeros(n), np.zeros(n),
                    np.zeros(1, np.int64), buf, buf.copy())
    out.append(params.tolist())
print(json.dumps({"params": out, **cpu.cache_stats()}))
"""


@pytest.mark.integration
def test_each_configuration_is_cached_and_loaded_on_its_own(site, tmp_path):
    # Two configurations share one skeleton and differ by one piece (the
    # hidden activation); a fresh process loads everything (no miss) and
    # computes the same weights; a third configuration in a new process
    # compiles its one new piece and loads the rest.
    cache_dir = tmp_path / "cache"
    first = run(SPECIALISED, site, cache_dir=cache_dir)
    assert first["hits"] == 0 and first["misses"] >= 3
    again = run(SPECIALISED, site, cache_dir=cache_dir)
    assert (again["hits"], again["misses"]) == (first["misses"], 0)
    assert again["params"] == first["params"]
    assert first["params"][0] != first["params"][1]
    relu = run(SPECIALISED.replace("(1, 2)", "(3,)"), site, cache_dir=cache_dir)
    assert relu["misses"] == 1 and relu["hits"] >= 2


def test_numba_still_has_what_the_cache_builds_on():
    # The classes and attributes kernels/_cache.py uses (checked on 0.68.0+).
    impl = caching.FunctionCache._impl_class
    assert issubclass(impl, caching.CacheImpl)
    names = {cls.__name__ for cls in impl._locator_classes}
    assert {"UserProvidedCacheLocator", "InTreeCacheLocator"} <= names
    for method in ("_load_index", "_save_index", "_save_data"):
        assert callable(getattr(caching.IndexDataCacheFile, method))
    f = caching.IndexDataCacheFile(cache_path="x", filename_base="b", source_stamp=1)
    assert f._index_name == "b.nbi" and f._cache_path == "x"


@pytest.mark.integration
def test_the_oldest_allowed_numba_keeps_the_cache_fresh(site, tmp_path):
    # numba 0.68.0 (the pyproject floor) in front of the installed one.
    old = tmp_path / "numba-0.68.0"
    out = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        + ["--target", str(old), "numba==0.68.0"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode != 0:
        pytest.skip(f"numba 0.68.0 could not be installed: {out.stderr[-300:]}")
    first = run(FIT, site, extra_path=[old])
    assert first["numba"] == "0.68.0"
    halve_tanh(site / "fastmlp" / "kernels")
    after = run(FIT, site, extra_path=[old])
    fresh = run(FIT, site, cache_dir=tmp_path / "fresh", extra_path=[old])
    assert (after["hits"], after["misses"]) == (0, first["misses"])
    assert after["coef"] == fresh["coef"] != first["coef"]
