"""Compile the complete CPU kernel set ahead of time, for a wheel to ship.

Run by the build (``setup.py``'s ``build_py``), as a script, before fastmlp is
installed::

    python fastmlp/_aot.py build --fastmlp DIR --kernels DIR --into DIR \
        [--levels all|host]

It writes numba's cache files of every skeleton, narrow epoch and piece
(:func:`fastmlp.warmup` with ``complete=True``) into ``INTO/<level>/`` for the
portable x86-64 levels of :data:`fastmlp.kernels._cache.LEVELS`; the installed
package loads them when the user's own cache misses (see the last section of
``kernels/_cache.py``). Each level compiles in its own process with
``NUMBA_CPU_NAME`` set to the level and ``NUMBA_CPU_FEATURES`` empty, so that
no feature of the build host leaks into the code.

Two steps, because the set is known by running it: *record* runs the complete
warm-up in a process whose code the build host can run (the best requested
level the host has) and writes down every signature each cached dispatcher
compiled; *compile* compiles those signatures, and every piece, for each other
level without running anything (x86-64-v4 code never runs on a host without
AVX-512). A host that has none of the requested levels records at its own
level into a scratch folder and compiles every requested level.

Only the standard library is imported at the top: the script runs before the
package is importable and sets it up from ``--fastmlp`` and ``--kernels``
(``kernels/`` is ``fastmlp.kernels``).
"""

import argparse
import importlib
import importlib.util
import os
import pickle
import subprocess
import sys
import tempfile
import time

ALL_LEVELS = ("x86-64-v3", "x86-64-v4")


def _bootstrap(fastmlp_dir, kernels_dir):
    """Import ``fastmlp`` from ``fastmlp_dir`` with ``kernels_dir`` as its
    ``kernels`` subpackage (the repository's layout, or a build folder's)."""
    fastmlp_dir, kernels_dir = map(os.path.abspath, (fastmlp_dir, kernels_dir))
    search = [fastmlp_dir]
    if os.path.dirname(kernels_dir) != fastmlp_dir:
        if os.path.basename(kernels_dir) != "kernels":
            raise ValueError(f"the kernel folder must be named kernels: {kernels_dir}")
        search.append(os.path.dirname(kernels_dir))
    spec = importlib.util.spec_from_file_location(
        "fastmlp",
        os.path.join(fastmlp_dir, "__init__.py"),
        submodule_search_locations=search,
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["fastmlp"] = module
    spec.loader.exec_module(module)
    return module


def _check_target(level):
    """Fail unless numba really generates code for ``level`` and nothing more."""
    from numba.core.registry import cpu_target

    magic = cpu_target.target_context.codegen().magic_tuple()
    if level is not None and tuple(magic[1:]) != (level, ""):
        raise RuntimeError(f"numba compiles for {magic[1:]}, not ({level!r}, '')")


def _cached_dispatchers():
    """Every dispatcher of fastmlp's cache class with the signatures it holds:
    ``[(kind, module, name, codes, signatures)]`` (``kind`` ``"function"`` for
    a module-level kernel, ``"specialised"`` for a factory's kernel)."""
    import gc

    from numba.core.dispatcher import Dispatcher

    from fastmlp.kernels.cpu.specialise import specialised_kernels

    made = {
        id(kernel): (kernel.py_func.__module__, factory, codes)
        for (factory, codes), kernel in specialised_kernels().items()
    }
    records = []
    for obj in gc.get_objects():
        if not isinstance(obj, Dispatcher) or not obj.signatures:
            continue
        if not type(obj._cache).__name__.startswith("Package"):
            continue  # numba's own helpers and uncached overload bodies
        sigs = list(obj.signatures)
        if id(obj) in made:
            module, factory, codes = made[id(obj)]
            records.append(("specialised", module, factory, codes, sigs))
            continue
        module, name = obj.py_func.__module__, obj.py_func.__qualname__
        if (
            "." in name
            or getattr(importlib.import_module(module), name, None) is not obj
        ):
            raise RuntimeError(f"cannot name the cached kernel {module}.{name}")
        records.append(("function", module, name, (), sigs))
    return sorted(records, key=lambda r: r[:4])


def record(level, out):
    """Run the complete warm-up here; pickle what it compiled into ``out``."""
    _check_target(level)
    import warnings

    import fastmlp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fastmlp.warmup(complete=True)
    records = _cached_dispatchers()
    with open(out, "wb") as f:
        pickle.dump(records, f)
    return records


def compile_recorded(level, path):
    """Compile (never run) every signature recorded in ``path``, and every
    piece, for ``level``; returns the number of functions compiled."""
    _check_target(level)
    from fastmlp.kernels.cpu import pieces

    with open(path, "rb") as f:
        records = pickle.load(f)
    count = 0
    for kind, module, name, codes, sigs in records:
        kernel = getattr(importlib.import_module(module), name)
        if kind == "specialised":
            kernel = kernel(*codes)
        for sig in sigs:
            kernel.compile(sig)
            count += 1
    return count + pieces.every_piece(("float32", "float64"))


def _host_features():
    from llvmlite import binding

    return binding.get_host_cpu_features()


def _child(step, level, args, extra):
    env = dict(os.environ)
    env.pop("NUMBA_CACHE_DIR", None)
    env.update(
        NUMBA_CACHE_DIR=args.scratch,
        FASTMLP_SHIPPED_KERNELS="0",
        PYTHONDONTWRITEBYTECODE="1",
    )
    if level is None:  # the host's own code, into the scratch cache only
        env.pop("NUMBA_CPU_NAME", None)
        env.pop("NUMBA_CPU_FEATURES", None)
        env.pop("FASTMLP_SHIP_INTO", None)
    else:
        env.update(
            NUMBA_CPU_NAME=level,
            NUMBA_CPU_FEATURES="",
            FASTMLP_SHIP_INTO=os.path.join(args.into, level),
        )
    cmd = [sys.executable, os.path.abspath(__file__), step, "--fastmlp", args.fastmlp]
    cmd += ["--kernels", args.kernels, "--level", level or "host", *extra]
    return subprocess.Popen(cmd, env=env)


def build(args):
    """The build step: record at a level the host runs, compile the others."""
    # the feature table lives with the kernels' cache code
    _bootstrap_cache = importlib.util.spec_from_file_location(
        "_fastmlp_levels", os.path.join(args.kernels, "_cache.py")
    )
    cache = importlib.util.module_from_spec(_bootstrap_cache)
    _bootstrap_cache.loader.exec_module(cache)
    features = _host_features()
    if args.levels == "host":
        level = cache.best_level(features)
        levels = (level,) if level else ()
    else:
        levels = ALL_LEVELS
    if not levels:
        print("fastmlp: this host has no shipped x86-64 level; nothing compiled ahead")
        return 0
    runnable = cache.best_level(features, levels)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        args.scratch = scratch
        sigs = os.path.join(scratch, "signatures.pickle")
        rc = _child("record", runnable, args, ["--signatures", sigs]).wait()
        if rc:
            return rc
        rest = [lv for lv in levels if lv != runnable]
        children = [_child("compile", lv, args, ["--signatures", sigs]) for lv in rest]
        rcs = [c.wait() for c in children]
        if any(rcs):
            return max(rcs)
    sizes = {
        lv: sum(
            os.path.getsize(os.path.join(args.into, lv, f))
            for f in os.listdir(os.path.join(args.into, lv))
        )
        for lv in levels
    }
    print(
        f"fastmlp: compiled the kernel set for {', '.join(levels)} in "
        f"{time.perf_counter() - start:.1f} s ("
        + ", ".join(f"{lv} {n / 2**20:.1f} MiB" for lv, n in sizes.items())
        + ")"
    )
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("build", "record", "compile"))
    parser.add_argument("--fastmlp", required=True, help="the fastmlp package folder")
    parser.add_argument("--kernels", required=True, help="the kernels folder")
    parser.add_argument("--into", help="build: folder of the shipped levels")
    parser.add_argument("--levels", choices=("all", "host"), default="all")
    parser.add_argument("--level", help="record/compile: the level of this process")
    parser.add_argument("--signatures", help="record/compile: the signature file")
    args = parser.parse_args(argv)
    args.fastmlp, args.kernels = map(os.path.abspath, (args.fastmlp, args.kernels))
    if args.step == "build":
        args.into = os.path.abspath(args.into)
        return build(args)
    _bootstrap(args.fastmlp, args.kernels)
    level = None if args.level == "host" else args.level
    start = time.perf_counter()
    if args.step == "record":
        n = sum(len(r[4]) for r in record(level, args.signatures))
        what = f"ran the complete warm-up ({n} kernel signatures)"
    else:
        n = compile_recorded(level, args.signatures)
        what = f"compiled {n} functions without running them"
    print(f"fastmlp [{args.level}]: {what} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
