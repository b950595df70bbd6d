"""numba's on-disk cache for fastmlp's kernels, keyed on everything they use.

numba keys a cached function on the source of its own file only: a kernel
that calls a jitted helper, an overload or an intrinsic from another module,
or reads a global constant defined there, has that code frozen into its cached
machine code and would keep running it after the other module changed. The
kernels here are split over many modules, so every cached kernel of
``fastmlp.kernels`` gets a cache whose *source stamp* is
:func:`package_stamp`: the SHA-256 of every ``.py`` file of this package
(path and content) together with the numba, llvmlite and numpy
versions (and numba-cuda's for CUDA kernels). Any change to any of them makes
every kernel recompile; nothing stale is ever loaded.

How it plugs in: numba's own extension points, its cache classes. A cache is
a ``Cache`` subclass (``FunctionCache`` for the CPU, numba-cuda's
``CUDACache``) whose ``_impl_class`` lists the *locator classes* that choose
the directory and give the source stamp; here each of numba's file-backed
locators gets a mixin that returns the package stamp. The one private touch
is installing that cache on a dispatcher (``dispatcher._cache``, the attribute
numba's own ``enable_caching`` sets), done by :func:`njit` and
:func:`cuda_jit`, which kernels use in place of numba's decorators.
Checked against numba 0.68.0 and 0.68.1 and numba-cuda 0.30 (the oldest
numba the project allows is 0.68.0: ``tests/test_cache.py`` checks the
classes and attributes used here exist).

Two more differences from numba's default files, both for a tree that is
edited often and for processes that compile at the same time:

* the file names carry the module and qualified name only, not the line
  number, so an edit that moves a function rewrites its index file instead of
  adding one (numba's names pile up one ``.nbi`` per edited line position);
* data files are named by a hash of their index key, not by a counter, so two
  processes that compile different signatures at once never write the same
  data file; files the rewritten index no longer names are removed.

:func:`ensure_writable_cache` keeps read-only installs working: when neither
the package folder nor the user cache folder is writable it points numba at a
folder in the temp directory. A user's own ``NUMBA_CACHE_DIR`` always wins.
"""

import functools
import glob
import hashlib
import os
import tempfile

import numba
from numba.core import caching

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _writable(path):
    """True when a file can really be created in ``path`` (made if missing)."""
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
        return True
    except OSError:
        return False


def _user_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    return os.path.join(base, "numba")


def ensure_writable_cache(package_dir=_PACKAGE_DIR):
    """Make sure numba can cache the kernels of ``package_dir``.

    Parameters
    ----------
    package_dir : str
        Folder of the kernel package (numba's first choice for its cache is
        the ``__pycache__`` beside each module).

    Returns
    -------
    str or None
        The cache directory fastmlp chose, or None when numba's own choice
        (in-tree, user-wide, or the user's ``NUMBA_CACHE_DIR``) works.
    """
    if os.environ.get("NUMBA_CACHE_DIR") or numba.config.CACHE_DIR:
        return None
    # numba caches a kernel in the __pycache__ beside its module: every folder
    # of the package that holds modules must be writable.
    folders = {
        os.path.dirname(os.path.join(package_dir, rel))
        for rel in _source_files(package_dir)
    }
    if all(_writable(os.path.join(d, "__pycache__")) for d in folders):
        return None
    if _writable(_user_cache_dir()):
        return None
    fallback = os.path.join(tempfile.gettempdir(), f"fastmlp-numba-cache-{os.getuid()}")
    if not _writable(fallback):
        return None  # nothing writable at all: numba will say so itself
    os.environ["NUMBA_CACHE_DIR"] = fallback  # worker processes inherit it
    numba.config.CACHE_DIR = fallback
    return fallback


def _version(dist):
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "absent"


def _source_files(root):
    """Every ``.py`` file under ``root``, as sorted relative paths."""
    paths = glob.glob(os.path.join(root, "**", "*.py"), recursive=True)
    return sorted(os.path.relpath(p, root).replace(os.sep, "/") for p in paths)


@functools.cache
def package_stamp(*extra_dists, root=_PACKAGE_DIR):
    """The source stamp of every cached kernel: sources and versions.

    Parameters
    ----------
    *extra_dists : str
        Further distributions whose versions the compiled code depends on
        (``"numba-cuda"`` for the CUDA kernels).
    root : str
        The kernel package's folder.

    Returns
    -------
    str
        Hex SHA-256 of the path and bytes of every ``.py`` file under ``root``
        and of the versions of numba, llvmlite, numpy and
        ``extra_dists``. Computed once per process (the kernels are compiled
        from the sources as they were imported).
    """
    digest = hashlib.sha256()
    for rel in _source_files(root):
        with open(os.path.join(root, rel), "rb") as f:
            content = f.read()
        digest.update(f"{rel}\0{len(content)}\0".encode())
        digest.update(content)
    # fastmlp's own version is left out: the kernels are the files hashed
    # above, and a wheel's shipped kernels are compiled before it is installed
    # (when fastmlp's version is not yet known to importlib.metadata).
    for dist in ("numba", "llvmlite", "numpy", *extra_dists):
        digest.update(f"{dist}={_version(dist)}\0".encode())
    return digest.hexdigest()


class _PackageStampedLocator:
    """Mixin over one of numba's file-backed locators (folder choice kept)."""

    _extra_dists = ()

    def get_source_stamp(self):
        return package_stamp(*self._extra_dists)

    def get_disambiguator(self):
        # numba uses the line number: every edit that moves a function would
        # leave its old index behind. The qualified name is in the file name
        # already, and the index key holds the bytecode and closure hashes.
        return "k"


def _key_digest(key):
    return hashlib.sha256(repr(key).encode()).hexdigest()[:20]


@functools.cache
def _pruning_cache_file(base):
    """numba's index/data file class, with data named by key and pruned."""

    class PackageIndexDataCacheFile(base):
        """Data files named by their key; unreferenced ones removed."""

        def save(self, key, data):
            overloads = self._load_index()
            stale = not overloads
            name = f"{self._index_name[: -len('.nbi')]}.{_key_digest(key)}.nbc"
            if overloads.get(key) != name:
                overloads[key] = name
                self._save_index(overloads)
            self._save_data(name, data)
            if stale:
                self._prune(set(overloads.values()))

        def _prune(self, keep):
            pattern = os.path.join(
                glob.escape(self._cache_path),
                glob.escape(self._index_name[: -len(".nbi")]) + ".*.nbc",
            )
            for path in glob.glob(pattern):
                if os.path.basename(path) not in keep:
                    try:
                        os.unlink(path)
                    except OSError:
                        pass  # another process removed or replaced it

    return PackageIndexDataCacheFile


@functools.cache
def package_cache_class(base_cache, extra_dists=()):
    """A subclass of numba cache class ``base_cache`` keyed on the package.

    Parameters
    ----------
    base_cache : type
        numba's ``FunctionCache`` or numba-cuda's ``CUDACache``.
    extra_dists : tuple of str
        Distributions added to the stamp (see :func:`package_stamp`).
    """
    base_impl = base_cache._impl_class
    locators = [
        type(
            f"Package{cls.__name__.lstrip('_')}",
            (_PackageStampedLocator, cls),
            {"_extra_dists": extra_dists, "__module__": __name__},
        )
        for cls in base_impl._locator_classes
        # the IPython and zip locators stamp other sources than files on disk
        if "IPython" not in cls.__name__ and "Zip" not in cls.__name__
    ]
    impl = type(
        f"Package{base_impl.__name__}",
        (base_impl,),
        {"_locator_classes": locators, "__module__": __name__},
    )

    cpu = not extra_dists  # the CUDA kernels are never shipped

    def __init__(self, py_func):
        base_cache.__init__(self, py_func)
        into = os.environ.get(SHIP_INTO_ENV) if cpu else None
        if into:  # the wheel build compiling the kernels it ships
            os.makedirs(into, exist_ok=True)
            self._cache_path = into
        self._cache_file = _pruning_cache_file(type(self._cache_file))(
            cache_path=self._cache_path,
            filename_base=self._impl.filename_base,
            source_stamp=self._impl.locator.get_source_stamp(),
        )

    def _load_overload(self, sig, target_context):
        data = base_cache._load_overload(self, sig, target_context)
        if data is None and self._enabled and cpu:
            data = _load_shipped(self, sig, target_context)
        return data

    return type(
        f"Package{base_cache.__name__}",
        (base_cache,),
        {
            "_impl_class": impl,
            "__init__": __init__,
            "_load_overload": _load_overload,
            "__module__": __name__,
        },
    )


# --- the kernels shipped in the wheel -----------------------------------------
#
# A wheel carries numba's cached code of the complete CPU kernel set, compiled
# when the wheel was built (``fastmlp._aot``) for portable x86-64 levels, each
# in its own process with ``NUMBA_CPU_NAME`` set to the level and
# ``NUMBA_CPU_FEATURES`` empty, so that the code uses no feature of the build
# host beyond the level's. numba keys a cache entry on the compiling process's
# CPU name and features (``codegen.magic_tuple()``): a plain process on the
# user's host looks for its own CPU's key and misses, so when the user's own
# cache has no entry, the entry of the best level the host supports is looked
# up under that level's key instead. It is loaded only when it is right: the
# same package stamp (the kernel sources and the numba, llvmlite and numpy
# versions), the same numba (the index header), the same Python minor version
# (the file names), a level whose every feature the host has. Anything else
# compiles exactly as a source install does.

#: Folder of the shipped kernels in the installed package: one folder per
#: level, numba's index and data files flat inside (names carry the module).
SHIPPED_DIR = os.path.join(_PACKAGE_DIR, "_aot")
#: ``FASTMLP_SHIPPED_KERNELS=0`` ignores the shipped kernels (as a source
#: install would: compile into the user's cache).
SHIPPED_ENV = "FASTMLP_SHIPPED_KERNELS"
#: Set by the wheel build: CPU kernels are cached into this folder, flat.
SHIP_INTO_ENV = "FASTMLP_SHIP_INTO"
#: ``FASTMLP_SHIPPED_LEVEL=x86-64-v3`` caps the shipped level loaded (a
#: cluster of mixed machines, or a comparison); never above the host's.
SHIPPED_LEVEL_ENV = "FASTMLP_SHIPPED_LEVEL"

_V2 = ("cx16", "popcnt", "sahf", "sse3", "sse4.1", "sse4.2", "ssse3")
_V3 = (*_V2, "avx", "avx2", "bmi", "bmi2", "f16c", "fma", "lzcnt", "movbe", "xsave")
#: The x86-64 levels kernels ship for, best first, with the LLVM feature names
#: each one requires (the psABI's micro-architecture levels).
LEVELS = {
    "x86-64-v4": (*_V3, "avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"),
    "x86-64-v3": _V3,
}

_SHIPPED_LOADS = {"hits": 0}


def best_level(features, levels=tuple(LEVELS)):
    """The best of ``levels`` whose features are all in ``features``.

    Parameters
    ----------
    features : mapping of str to bool
        LLVM feature names, as ``llvmlite.binding.get_host_cpu_features()``
        gives them for the host.
    levels : sequence of str
        Candidate levels (keys of :data:`LEVELS`).

    Returns
    -------
    str or None
        The level name, or None when the host lacks a feature of each.
    """
    for level in LEVELS:
        if level in levels and all(features.get(f, False) for f in LEVELS[level]):
            return level
    return None


def shipped_enabled():
    """False when ``FASTMLP_SHIPPED_KERNELS`` is ``0``, ``false``, ``no`` or ``off``."""
    value = os.environ.get(SHIPPED_ENV, "1").strip().lower()
    return value not in ("0", "false", "no", "off")


@functools.cache
def _host_level(available):
    import platform

    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    from llvmlite import binding

    return best_level(binding.get_host_cpu_features(), available)


def shipped_level():
    """The shipped level this process loads kernels of, or None.

    None when the package ships no kernels, ``FASTMLP_SHIPPED_KERNELS`` is off,
    the user set numba's target (``NUMBA_CPU_NAME`` or ``NUMBA_CPU_FEATURES``:
    their choice is kept), or the host lacks every shipped level (at or below
    ``FASTMLP_SHIPPED_LEVEL`` when set).
    """
    if not shipped_enabled() or not os.path.isdir(SHIPPED_DIR):
        return None
    if numba.config.CPU_NAME is not None or numba.config.CPU_FEATURES is not None:
        return None
    cap = os.environ.get(SHIPPED_LEVEL_ENV, "").strip()
    names = list(LEVELS)
    allowed = names[names.index(cap) :] if cap in LEVELS else names
    available = tuple(
        level for level in allowed if os.path.isdir(os.path.join(SHIPPED_DIR, level))
    )
    return _host_level(available)


def shipped_loads():
    """How many kernels this process loaded from the shipped set."""
    return _SHIPPED_LOADS["hits"]


def _load_shipped(cache, sig, target_context):
    level = shipped_level()
    if level is None:
        return None
    shipped = caching.IndexDataCacheFile(
        cache_path=os.path.join(SHIPPED_DIR, level),
        filename_base=cache._impl.filename_base,
        source_stamp=cache._impl.locator.get_source_stamp(),
    )
    sig_key, magic, code_hashes = cache._index_key(sig, target_context.codegen())
    data = shipped.load((sig_key, (magic[0], level, ""), code_hashes))
    if data is None:
        return None
    _SHIPPED_LOADS["hits"] += 1
    return cache._impl.rebuild(target_context, data)


def _install(dispatcher, base_cache, extra_dists):
    cache = getattr(dispatcher, "_cache", None)
    if cache is None or isinstance(cache, caching.NullCache):
        return dispatcher  # not cached (or the CUDA simulator's stand-in)
    cls = package_cache_class(base_cache, extra_dists)
    if not isinstance(cache, cls):
        dispatcher._cache = cls(dispatcher.py_func)
    return dispatcher


def _keyed(decorated, base_cache, extra_dists):
    if callable(decorated) and not hasattr(decorated, "py_func"):
        # numba returned a decorator (options given, function not yet)
        return lambda func: _install(decorated(func), base_cache, extra_dists)
    return _install(decorated, base_cache, extra_dists)


@functools.cache
def _cache_folder_checked():
    # Before the first cached dispatcher: on a read-only install numba's
    # locators would all fail ("no locator available").
    ensure_writable_cache()


def njit(*args, **options):
    """``numba.njit`` whose ``cache=True`` is keyed on :func:`package_stamp`.

    Same arguments as ``numba.njit``; every cached CPU kernel of fastmlp is
    decorated through it.
    """
    _cache_folder_checked()
    return _keyed(numba.njit(*args, **options), caching.FunctionCache, ())


#: Environment switch: ``FASTMLP_CUDA_CACHE=0`` compiles the CUDA kernels
#: without any on-disk cache (a fallback should caching fail on a target).
CUDA_CACHE_ENV = "FASTMLP_CUDA_CACHE"


def cuda_cache_enabled():
    """False when ``FASTMLP_CUDA_CACHE`` is ``0``, ``false``, ``no`` or ``off``."""
    value = os.environ.get(CUDA_CACHE_ENV, "1").strip().lower()
    return value not in ("0", "false", "no", "off")


def cuda_jit(*args, **options):
    """``numba.cuda.jit`` whose ``cache=True`` is keyed on :func:`package_stamp`
    (with numba-cuda's version). Imports ``numba.cuda`` on first use only.
    With ``FASTMLP_CUDA_CACHE=0`` in the environment nothing is cached (read
    when a kernel is built)."""
    from numba import cuda

    if not cuda_cache_enabled():
        options.pop("cache", None)
        return cuda.jit(*args, **options)
    _cache_folder_checked()
    decorated = cuda.jit(*args, **options)
    if numba.config.ENABLE_CUDASIM:
        return decorated  # the simulator caches nothing
    from numba.cuda.dispatcher import CUDACache

    return _keyed(decorated, CUDACache, ("numba-cuda",))


def cfunc(signature, **options):
    """``numba.cfunc(signature, cache=True)`` keyed on :func:`package_stamp`.

    A decorator that compiles the function at once (or loads it from the
    cache) and returns numba's ``CFunc``: its ``address`` is a C function
    pointer, valid for the life of the process. The kernel pieces
    (:mod:`fastmlp.kernels.cpu.pieces`) are made through it, each on first use.
    """
    from numba.core import sigutils
    from numba.core.ccallback import CFunc

    _cache_folder_checked()
    args, return_type = sigutils.normalize_signature(signature)

    def compile_cfunc(func):
        compiled = CFunc(func, (args, return_type), locals={}, options=options)
        compiled._cache = package_cache_class(caching.FunctionCache, ())(func)
        compiled.compile()
        return compiled

    return compile_cfunc
