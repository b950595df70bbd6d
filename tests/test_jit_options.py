"""Every jitted CPU kernel compiles with the shared JIT options.

``kernels/cpu/_common.py`` holds the options once (``JIT_OPTIONS``: fastmath
``FASTMATH`` and ``error_model="numpy"``, with the reasons beside them). A
kernel compiled without them is slower (Python's error model stops LLVM from
vectorising a loop that divides) or handles NaN differently, and nothing else
would notice. This test reads the source of ``kernels/cpu/`` (nested and
factory-made kernels included, which no module attribute shows) and checks
every ``njit(...)``, ``cfunc(...)`` and ``overload(..., jit_options=...)``.

The few kernels that differ on purpose are listed in :data:`EXCEPTIONS` with
the reason; a new one must be added there, reason and all.
"""

import ast
from pathlib import Path

import pytest
from fastmlp.kernels.cpu import _common

CPU_DIR = Path(_common.__file__).resolve().parent

#: The options a kernel may be given instead of ``**JIT_OPTIONS``, written
#: out: the same two entries.
SHARED = {"fastmath": "FASTMATH", "error_model": "'numpy'"}

#: (file, kernel) -> (the options it has instead, why). ``"*"`` stands for
#: every kernel of the file.
EXCEPTIONS = {
    ("elementwise.py", "*"): (
        {"fastmath": "FASTMATH_EXACT", "error_model": "'numpy'"},
        "no 'reassoc': it folds exp's two-constant ln2 split back into one "
        "(float32 exp 3.5 ulp instead of 1.03); see elementwise.py",
    ),
    ("elementwise.py", "clip"): (
        {"error_model": "'numpy'"},
        "a comparison, no arithmetic for fastmath to change",
    ),
    **{
        ("gemm.py", name): (
            {"error_model": "'numpy'"},
            "hands the product to BLAS (xgemm): no arithmetic of its own",
        )
        for name in ("blas_nn", "blas_nt", "blas_tn")
    },
    **{
        ("network.py", name): (
            {"error_model": "'numpy'"},
            "integer indices and row copies: no float arithmetic",
        )
        for name in ("shuffle_order", "gather_rows", "gather_targets")
    },
    **{
        ("fpenv.py", name): ({}, "reads and writes the MXCSR register only")
        for name in ("flush_denormals_enter", "flush_denormals_exit")
    },
    ("views.py", "_keep_alive"): ({}, "keeps an array alive: no arithmetic"),
    ("losses.py", "_ov_epsilon"): ({}, "returns a constant of the dtype"),
}

_DECORATORS = ("njit", "jit", "cfunc", "overload")


def _call_name(call):
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _options(call):
    """The compile options a decorator call passes, as source text.

    ``**JIT_OPTIONS`` (or ``jit_options=JIT_OPTIONS``) reads as
    :data:`SHARED`; ``inline``, ``cache``, ``nogil`` and ``prefer_literal``
    are not compile options of the kind checked here.
    """
    options = {}
    for kw in call.keywords:
        value = ast.unparse(kw.value)
        if kw.arg is None and value == "JIT_OPTIONS":
            options.update(SHARED)
        elif kw.arg == "jit_options":
            if value == "JIT_OPTIONS":
                options.update(SHARED)
            elif isinstance(kw.value, ast.Dict):
                for k, v in zip(kw.value.keys, kw.value.values, strict=True):
                    options[ast.literal_eval(k)] = ast.unparse(v).replace('"', "'")
        elif kw.arg in ("fastmath", "error_model"):
            options[kw.arg] = value.replace('"', "'")
    return options


def _target(call, parents):
    """The name of the kernel a decorator call compiles."""
    node = parents.get(call)
    while node is not None:
        if isinstance(node, ast.FunctionDef) and call in node.decorator_list:
            return node.name
        if isinstance(node, ast.Assign):
            return ast.unparse(node.targets[0])
        if isinstance(node, ast.Call) and node.func is call and node.args:
            return ast.unparse(node.args[0])
        call, node = node, parents.get(node)
    return "?"


def kernel_sites():
    """``[(file, kernel, line, options), ...]`` of every jit decorator call."""
    sites = []
    for path in sorted(CPU_DIR.glob("*.py")):
        tree = ast.parse(path.read_text())
        parents = {
            ch: node for node in ast.walk(tree) for ch in ast.iter_child_nodes(node)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _call_name(node) not in _DECORATORS:
                continue
            if _call_name(node) == "overload" and not _is_decorator(node, parents):
                continue
            sites.append(
                (path.name, _target(node, parents), node.lineno, _options(node))
            )
    return sites


def _is_decorator(call, parents):
    parent = parents.get(call)
    return isinstance(parent, ast.FunctionDef) and call in parent.decorator_list


def test_shared_options_are_fastmath_and_numpy_error_model():
    """``JIT_OPTIONS`` is exactly what the written-out form means."""
    assert _common.JIT_OPTIONS == {
        "fastmath": _common.FASTMATH,
        "error_model": "numpy",
    }
    # No flag that assumes no NaN or inf: divergence must stay visible.
    assert not {"nnan", "ninf", "fast"} & set(_common.FASTMATH)


def test_the_scan_finds_the_kernels():
    """The scan sees the skeletons, the pieces and the nested kernels."""
    names = {kernel for _, kernel, _, _ in kernel_sites()}
    for expected in ("train_epoch_skeleton", "gemm_nn", "adam_update", "activation"):
        assert expected in names, sorted(names)
    assert len(names) > 40


@pytest.mark.parametrize("site", kernel_sites(), ids=lambda s: f"{s[0]}:{s[1]}:{s[2]}")
def test_every_cpu_kernel_compiles_with_the_shared_options(site):
    file, kernel, line, options = site
    allowed = [SHARED]
    for key in ((file, kernel), (file, "*")):
        if key in EXCEPTIONS:
            allowed.append(EXCEPTIONS[key][0])
    assert options in allowed, (
        f"kernels/cpu/{file}:{line} compiles {kernel} with {options}: pass "
        "**JIT_OPTIONS (kernels/cpu/_common.py), or add it to EXCEPTIONS in "
        "this test with the reason"
    )


def test_every_exception_still_names_a_kernel():
    """No stale entry: each listed kernel is still there with those options."""
    sites = {(file, kernel): options for file, kernel, _, options in kernel_sites()}
    for (file, kernel), (options, _) in EXCEPTIONS.items():
        if kernel == "*":
            assert any(f == file and o == options for (f, _), o in sites.items())
        else:
            assert sites.get((file, kernel)) == options, (file, kernel)
