"""Every kernel of the Numba CPU backend against the numpy oracle.

``tests/test_reference.py`` proves the oracle is scikit-learn's MLP; here each
kernel of ``fastmlp.kernels.cpu`` is run on float32 and float64 over awkward
shapes (1 row, odd sizes, sizes just past a block of 4 or 64) and its in-place
outputs compared to the oracle. Output arrays are preallocated with
``np.empty`` and poisoned with NaN, so a kernel that reads its output before
writing it, or leaves part of it unwritten, fails.
"""

import fastmlp.kernels
import numpy as np
import pytest
from fastmlp.kernels import (
    ACTIVATION_CODES,
    KERNEL_NAMES,
    PIECE_ONLY_ACTIVATIONS,
    cpu,
    param_layout,
    workspace_size,
)
from fastmlp.kernels.cpu import narrow
from fastmlp.kernels.cpu.gemm import blas_nn, blas_nt, blas_tn
from numba import njit
from reference import (
    ADAM,
    BINARY_LOG_LOSS,
    EXP,
    IDENTITY,
    LOG_LOSS,
    LOGISTIC,
    POISSON,
    RELU,
    SGD,
    SOFTMAX,
    SQUARED_ERROR,
    TANH,
    TANH_SQUARED_ERROR,
    ref_adam_update,
    ref_apply_activation,
    ref_dense_forward,
    ref_dense_grad,
    ref_forward,
    ref_gemm_nn,
    ref_gemm_nt,
    ref_gemm_tn,
    ref_hidden_delta,
    ref_loss_grad,
    ref_loss_output_delta,
    ref_sgd_update,
    ref_train_epoch,
)

DTYPES = [np.float32, np.float64]
RTOL = {np.float32: 1e-4, np.float64: 1e-10}
ROWS = [1, 7, 33, 257]
WIDTHS = [1, 3, 65]
HIDDEN_CODES = [IDENTITY, LOGISTIC, TANH, RELU]
# the contract kernels' codes; the activations that are pieces only are
# tested through the pieces and the skeletons (tests/test_activations.py)
ALL_ACTIVATION_CODES = sorted(
    code
    for name, code in ACTIVATION_CODES.items()
    if name not in PIECE_ONLY_ACTIVATIONS
)
CODE_NAMES = {code: name for name, code in ACTIVATION_CODES.items()}

# Output activation paired with its canonical-link loss, and the output width.
OUTPUT_LOSS_CASES = {
    "softmax-log_loss": (SOFTMAX, LOG_LOSS, 3),
    "logistic-binary_log_loss": (LOGISTIC, BINARY_LOG_LOSS, 1),
    "logistic-binary_log_loss-multilabel": (LOGISTIC, BINARY_LOG_LOSS, 2),
    "identity-squared_error": (IDENTITY, SQUARED_ERROR, 1),
    "identity-squared_error-multioutput": (IDENTITY, SQUARED_ERROR, 2),
    "exp-poisson": (EXP, POISSON, 1),
    "exp-poisson-multioutput": (EXP, POISSON, 2),
}


def dtype_id(dtype):
    return np.dtype(dtype).name


def code_id(code):
    return CODE_NAMES[code]


def dtype_grid(outer, inner, outer_id=str, inner_id=str):
    """``(outer, inner, dtype)`` cases: every pair in float64, a covering set
    in float32.

    A whole-network kernel compiles once per (configuration, dtype), and the
    configurations are the pairs. What differs between the dtypes is per
    activation or per loss (the float32 exp and tanh, the clipping bounds),
    not per pair: float32 gets ``max(len(outer), len(inner))`` pairs in which
    every ``outer`` and every ``inner`` value occurs, which saves the suite
    ~30 compiles (~50 s of a cold run) and tests every float32 code path.
    """
    pairs = [(a, b, np.float64) for a in outer for b in inner]
    n = max(len(outer), len(inner))
    pairs += [
        (outer[i % len(outer)], inner[i % len(inner)], np.float32) for i in range(n)
    ]
    return [
        pytest.param(a, b, dtype, id=f"{outer_id(a)}-{inner_id(b)}-{dtype_id(dtype)}")
        for a, b, dtype in pairs
    ]


def rng_for(*key):
    """A generator seeded from the test's parameters (deterministic)."""
    seed = [int(k) if isinstance(k, int | np.integer) else len(str(k)) for k in key]
    return np.random.default_rng(seed)


def poisoned(shape, dtype):
    """``np.empty`` filled with NaN: the kernel must overwrite every entry."""
    out = np.empty(shape, dtype=dtype)
    out.fill(np.nan)
    return out


def assert_close(got, expected, dtype, magnitude=None):
    """``got ~ expected`` with ``rtol`` by dtype and ``atol = rtol * magnitude``.

    ``magnitude`` defaults to the largest ``|expected|``: entries that cancel
    to near zero are judged against the size of the numbers that produced them.
    """
    rtol = RTOL[dtype]
    expected = np.asarray(expected, dtype=np.float64)
    if magnitude is None:
        magnitude = float(np.max(np.abs(expected), initial=0.0))
    atol = rtol * max(magnitude, np.finfo(dtype).tiny)
    np.testing.assert_allclose(
        np.asarray(got, np.float64), expected, rtol=rtol, atol=atol
    )


def assert_dtype_kept(*arrays, dtype):
    for a in arrays:
        assert a.dtype == dtype
        assert a.flags.c_contiguous


def activation_output(rng, shape, code, dtype):
    """A plausible layer output ``A = f(Z)`` (relu outputs hold exact zeros)."""
    Z = rng.normal(size=shape).astype(dtype)
    return ref_apply_activation(Z, code).astype(dtype)


def random_targets(rng, P, loss):
    n_rows, n_out = P.shape
    if loss == LOG_LOSS:
        return np.eye(n_out, dtype=P.dtype)[rng.integers(0, n_out, n_rows)]
    if loss == BINARY_LOG_LOSS:
        return rng.integers(0, 2, (n_rows, n_out)).astype(P.dtype)
    if loss == POISSON:
        return rng.poisson(1.5, (n_rows, n_out)).astype(P.dtype)
    if loss == TANH_SQUARED_ERROR:  # the Playground's labels
        return rng.choice([-1.0, 1.0], (n_rows, n_out)).astype(P.dtype)
    return rng.normal(size=(n_rows, n_out)).astype(P.dtype)


def random_outputs(rng, shape, loss, dtype):
    """Network outputs ``P`` in the range of the loss's output activation."""
    Z = 1.5 * rng.normal(size=shape)
    code = {
        LOG_LOSS: SOFTMAX,
        BINARY_LOG_LOSS: LOGISTIC,
        POISSON: EXP,
        SQUARED_ERROR: IDENTITY,
        TANH_SQUARED_ERROR: TANH,
    }[loss]
    return ref_apply_activation(Z, code).astype(dtype)


def sample_weights(rng, n_rows, weighted, dtype):
    if not weighted:
        return np.empty(0, dtype=dtype)
    return rng.uniform(0.2, 3.0, n_rows).astype(dtype)


# --------------------------------------------------------------------------
# contract
# --------------------------------------------------------------------------
def test_cpu_backend_defines_every_contract_kernel_with_a_docstring():
    missing = [name for name in KERNEL_NAMES if not hasattr(cpu, name)]
    assert not missing, f"fastmlp.kernels.cpu lacks {missing}"
    for name in KERNEL_NAMES:
        kernel = getattr(cpu, name)
        assert callable(kernel), name
        assert kernel.__doc__ and kernel.__doc__.strip(), f"{name} has no docstring"
    assert cpu.__name__ == "fastmlp.kernels.cpu"
    assert fastmlp.kernels.cpu is cpu


def test_cpu_to_device_and_to_host_are_identities():
    """The CPU's memory is the host's: the engine's uploads cost nothing."""
    a = np.arange(6.0).reshape(2, 3)
    assert cpu.to_device(a) is a
    assert cpu.to_host(a) is a


# --------------------------------------------------------------------------
# matrix products
# --------------------------------------------------------------------------
# Beyond the awkward grid: a larger product, and outputs wider than one column
# block of the CPU kernels (256), so the block edges are exercised.
LARGE_SHAPES = [(300, 129, 70), (7, 5, 300), (5, 300, 513)]
GEMM_SHAPES = [(m, k, n) for m in ROWS for k in WIDTHS for n in WIDTHS] + LARGE_SHAPES


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("m, k, n", GEMM_SHAPES)
def test_gemm_kernels_match_numpy(dtype, m, k, n):
    rng = rng_for(m, k, n)
    A = rng.uniform(-1, 1, (m, k)).astype(dtype)
    B = rng.uniform(-1, 1, (k, n)).astype(dtype)
    magnitude = float((np.abs(A) @ np.abs(B)).max())

    C = poisoned((m, n), dtype)
    cpu.gemm_nn(A, B, C)
    assert_close(C, ref_gemm_nn(A, B), dtype, magnitude)

    Bt = np.ascontiguousarray(B.T)  # (n, k)
    C = poisoned((m, n), dtype)
    cpu.gemm_nt(A, Bt, C)
    assert_close(C, ref_gemm_nt(A, Bt), dtype, magnitude)

    At = np.ascontiguousarray(A.T)  # (k, m)
    C = poisoned((m, n), dtype)
    cpu.gemm_tn(At, B, C)
    assert_close(C, ref_gemm_tn(At, B), dtype, magnitude)
    assert_dtype_kept(C, dtype=dtype)


@njit(cache=False)
def _blas_products(A, B, Bt, At, D, C_nn, C_nt, C_tn, ref_nn, ref_nt, ref_tn):
    blas_nn(A, B, C_nn)  # A @ B
    blas_nt(A, Bt, C_nt)  # A @ Bt.T
    blas_tn(At, B, C_tn)  # At.T @ B
    np.dot(A, B, ref_nn)  # numba's own call of the same BLAS
    np.dot(A, Bt.T, ref_nt)
    np.dot(At.T, B, ref_tn)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(
    "m, k, n", [(1, 1, 1), (5, 3, 7), (64, 128, 10), *LARGE_SHAPES]
)
def test_direct_blas_products_equal_numbas_np_dot(dtype, m, k, n):
    # The kernels call scipy's sgemm/dgemm directly (kernels/cpu/gemm.py):
    # the same library and arguments as numba's np.dot, so the same bits.
    rng = rng_for(m, k, n, 7)
    A = rng.uniform(-1, 1, (m, k)).astype(dtype)
    B = rng.uniform(-1, 1, (k, n)).astype(dtype)
    Bt = np.ascontiguousarray(B.T)
    At = np.ascontiguousarray(A.T)
    out = [poisoned((m, n), dtype) for _ in range(6)]
    _blas_products(A, B, Bt, At, None, *out)
    for got, expected in zip(out[:3], out[3:], strict=True):
        np.testing.assert_array_equal(got, expected)
    assert_close(out[0], A @ B, dtype, float((np.abs(A) @ np.abs(B)).max()))


# --------------------------------------------------------------------------
# activations and layers
# --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("activation", ALL_ACTIVATION_CODES, ids=code_id)
@pytest.mark.parametrize("m", ROWS)
@pytest.mark.parametrize("n", WIDTHS)
def test_apply_activation_matches_reference(dtype, activation, m, n):
    rng = rng_for(m, n, activation)
    Z = (2.0 * rng.normal(size=(m, n))).astype(dtype)
    Z[0, 0] = 0.0  # relu's boundary
    expected = ref_apply_activation(Z, activation)
    cpu.apply_activation(Z, activation)
    assert_close(Z, expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_softmax_and_logistic_are_stable_for_large_inputs(dtype):
    """Row-max stabilised softmax: huge logits give finite probabilities."""
    Z = np.array([[800.0, 799.0, -50.0], [-900.0, -901.0, -899.0]], dtype=dtype)
    expected = ref_apply_activation(Z, SOFTMAX)
    cpu.apply_activation(Z, SOFTMAX)
    assert np.all(np.isfinite(Z))
    assert_close(Z, expected, dtype)
    np.testing.assert_allclose(Z.sum(axis=1), 1.0, rtol=RTOL[dtype])

    Z = np.array([[80.0, -80.0, 0.0]], dtype=dtype)
    expected = ref_apply_activation(Z, LOGISTIC)
    cpu.apply_activation(Z, LOGISTIC)
    assert_close(Z, expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("activation", ALL_ACTIVATION_CODES, ids=code_id)
@pytest.mark.parametrize("m", ROWS)
@pytest.mark.parametrize("k", WIDTHS)
@pytest.mark.parametrize("n", WIDTHS)
def test_dense_forward_matches_reference(dtype, activation, m, k, n):
    rng = rng_for(m, k, n, activation)
    A = rng.uniform(-1, 1, (m, k)).astype(dtype)
    W = (rng.uniform(-1, 1, (k, n)) / np.sqrt(k)).astype(dtype)
    b = rng.uniform(-0.5, 0.5, n).astype(dtype)
    out = poisoned((m, n), dtype)
    cpu.dense_forward(A, W, b, activation, out)
    expected = ref_dense_forward(A, W, b, activation)
    # Pre-activations are O(1), so f(z) is judged at O(1) scale too.
    assert_close(out, expected, dtype, max(1.0, float(np.abs(expected).max())))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("activation", ALL_ACTIVATION_CODES, ids=code_id)
@pytest.mark.parametrize("m, k, n", LARGE_SHAPES)
def test_dense_forward_matches_reference_on_wide_layers(dtype, activation, m, k, n):
    """Softmax normalises over every column block of the output row."""
    test_dense_forward_matches_reference(dtype, activation, m, k, n)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("activation", HIDDEN_CODES, ids=code_id)
@pytest.mark.parametrize("m", ROWS)
@pytest.mark.parametrize("k", WIDTHS)
@pytest.mark.parametrize("n", WIDTHS)
def test_hidden_delta_matches_reference(dtype, activation, m, k, n):
    rng = rng_for(m, k, n, activation)
    D_next = rng.normal(size=(m, n)).astype(dtype)
    W = rng.uniform(-1, 1, (k, n)).astype(dtype)
    A = activation_output(rng, (m, k), activation, dtype)
    out = poisoned((m, k), dtype)
    cpu.hidden_delta(D_next, W, A, activation, out)
    expected = ref_hidden_delta(D_next, W, A, activation)
    magnitude = float((np.abs(D_next) @ np.abs(W.T)).max())
    assert_close(out, expected, dtype, magnitude)
    if activation == RELU:
        # scikit-learn zeroes the delta exactly where the relu output is 0.
        assert np.all(out[A == 0] == 0)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("m", ROWS)
@pytest.mark.parametrize("k", WIDTHS)
@pytest.mark.parametrize("n", WIDTHS)
def test_dense_grad_matches_reference(dtype, alpha, m, k, n):
    rng = rng_for(m, k, n, int(alpha * 10))
    A = rng.uniform(-1, 1, (m, k)).astype(dtype)
    D = rng.normal(size=(m, n)).astype(dtype)
    W = rng.uniform(-1, 1, (k, n)).astype(dtype)
    scale = 1.0 / (0.7 * m)
    gW = poisoned((k, n), dtype)
    gb = poisoned(n, dtype)
    cpu.dense_grad(A, D, W, alpha, scale, gW, gb)
    expected_gW, expected_gb = ref_dense_grad(A, D, W, alpha, scale)
    gW_mag = scale * float((np.abs(A.T) @ np.abs(D) + alpha * np.abs(W)).max())
    assert_close(gW, expected_gW, dtype, gW_mag)
    assert_close(gb, expected_gb, dtype, scale * float(np.abs(D).sum(axis=0).max()))
    assert_dtype_kept(gW, gb, dtype=dtype)


# --------------------------------------------------------------------------
# loss at the output
# --------------------------------------------------------------------------
LOSS_CODE_CASES = [
    SQUARED_ERROR,
    LOG_LOSS,
    BINARY_LOG_LOSS,
    POISSON,
    TANH_SQUARED_ERROR,
]
LOSS_NAMES = {
    TANH_SQUARED_ERROR: "tanh_squared_error",
    SQUARED_ERROR: "squared_error",
    LOG_LOSS: "log_loss",
    BINARY_LOG_LOSS: "binary_log_loss",
    POISSON: "poisson",
}


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("loss", LOSS_CODE_CASES, ids=LOSS_NAMES.get)
@pytest.mark.parametrize("m", ROWS)
@pytest.mark.parametrize("n", WIDTHS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_loss_output_delta_matches_reference(dtype, loss, m, n, weighted):
    rng = rng_for(m, n, loss, int(weighted))
    P = random_outputs(rng, (m, n), loss, dtype)
    Y = random_targets(rng, P, loss)
    sw = sample_weights(rng, m, weighted, dtype)
    delta = poisoned((m, n), dtype)
    got = cpu.loss_output_delta(P, Y, sw, loss, delta)
    expected_delta, expected = ref_loss_output_delta(P, Y, sw, loss)
    assert_close(delta, expected_delta, dtype)
    w = np.ones(m) if sw.shape[0] == 0 else sw.astype(np.float64)
    assert_close(got, expected, dtype, float(w.sum()) * max(1.0, abs(expected) / m))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("loss", [LOG_LOSS, BINARY_LOG_LOSS], ids=LOSS_NAMES.get)
def test_log_losses_clip_saturated_probabilities_like_sklearn(dtype, loss):
    """p = 0 or 1 exactly: the loss is finite, ``-log(eps)`` per wrong label."""
    P = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]], dtype=dtype)
    Y = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=dtype)
    sw = np.array([1.0, 2.0, 0.5], dtype=dtype)
    delta = poisoned(P.shape, dtype)
    got = cpu.loss_output_delta(P, Y, sw, loss, delta)
    expected_delta, expected = ref_loss_output_delta(P, Y, sw, loss)
    assert np.isfinite(got)
    assert got == pytest.approx(expected, rel=RTOL[dtype])
    assert_close(delta, expected_delta, dtype)
    # The first row is maximally wrong, so it costs -log(eps) (times 2 for binary).
    eps = np.finfo(dtype).eps
    assert got > -np.log(eps)


# --------------------------------------------------------------------------
# optimizers
# --------------------------------------------------------------------------
OPT_SIZES = [1, 7, 65, 1000]


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(
    "momentum, nesterov",
    [(0.0, False), (0.9, False), (0.9, True)],
    ids=["plain", "momentum", "nesterov"],
)
@pytest.mark.parametrize("size", OPT_SIZES)
def test_sgd_update_matches_reference(dtype, momentum, nesterov, size):
    rng = rng_for(size, int(momentum * 10), int(nesterov))
    n_coef = (2 * size) // 3
    params = rng.uniform(-1, 1, size).astype(dtype)
    velocity = (0.1 * rng.normal(size=size)).astype(dtype)
    ref_params, ref_velocity = params.copy(), velocity.copy()
    for _ in range(3):
        grads = rng.normal(size=size).astype(dtype)
        sq = cpu.sgd_update(params, grads, velocity, 0.05, momentum, nesterov, n_coef)
        ref_params, ref_velocity, ref_sq = ref_sgd_update(
            ref_params, grads, ref_velocity, 0.05, momentum, nesterov, n_coef
        )
        assert_close(params, ref_params, dtype)
        assert_close(velocity, ref_velocity, dtype)
        assert sq == pytest.approx(ref_sq, rel=RTOL[dtype], abs=RTOL[dtype])
    assert_dtype_kept(params, velocity, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("t", [1, 5])
@pytest.mark.parametrize("size", OPT_SIZES)
def test_adam_update_matches_reference(dtype, t, size):
    rng = rng_for(size, t)
    n_coef = (2 * size) // 3
    params = rng.uniform(-1, 1, size).astype(dtype)
    grads = rng.normal(size=size).astype(dtype)
    if t == 1:  # the first step starts from zero moments
        m = np.zeros(size, dtype=dtype)
        v = np.zeros(size, dtype=dtype)
    else:
        m = (0.1 * rng.normal(size=size)).astype(dtype)
        v = rng.uniform(0.0, 0.2, size).astype(dtype)
    expected = ref_adam_update(params, grads, m, v, t, 0.01, 0.9, 0.999, 1e-8, n_coef)
    sq = cpu.adam_update(params, grads, m, v, t, 0.01, 0.9, 0.999, 1e-8, n_coef)
    expected_params, expected_m, expected_v, expected_sq = expected
    assert_close(params, expected_params, dtype)
    assert_close(m, expected_m, dtype)
    assert_close(v, expected_v, dtype)
    assert sq == pytest.approx(expected_sq, rel=RTOL[dtype], abs=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("size", [7, 1000])
def test_adam_update_with_an_overflowing_squared_gradient_stays_finite(dtype, size):
    # g*g overflows: v becomes inf and the step m / sqrt(v) is 0, as in
    # scikit-learn; never inf - inf = NaN (the 'reassoc' rewrite of
    # (1 - b2) * g*g into g*g - b2*g*g did that).
    big = np.finfo(dtype).max / 4
    params = np.linspace(-1, 1, size).astype(dtype)
    grads = np.where(np.arange(size) % 3 == 0, -big, big).astype(dtype)
    grads[1::5] = 0.5  # ordinary entries next to the huge ones
    m = np.zeros(size, dtype=dtype)
    v = np.zeros(size, dtype=dtype)
    with np.errstate(over="ignore"):
        expected = ref_adam_update(
            params, grads, m, v, 1, 0.01, 0.9, 0.999, 1e-8, size // 2
        )
    cpu.adam_update(params, grads, m, v, 1, 0.01, 0.9, 0.999, 1e-8, size // 2)
    assert np.isfinite(params).all() and np.isfinite(m).all()
    np.testing.assert_array_equal(np.isinf(v), np.isinf(expected[2]))
    assert_close(params, expected[0], dtype)
    assert_close(m, expected[1], dtype)


# --------------------------------------------------------------------------
# whole network
# --------------------------------------------------------------------------
def random_net(rng, layer_sizes, dtype):
    _, _, n_params = param_layout(layer_sizes)
    coef_offsets, intercept_offsets, _ = param_layout(layer_sizes)
    params = np.empty(n_params)
    for i in range(len(layer_sizes) - 1):
        fan_in, fan_out = layer_sizes[i], layer_sizes[i + 1]
        bound = np.sqrt(6.0 / (fan_in + fan_out))  # Glorot, as scikit-learn
        start = coef_offsets[i]
        params[start : start + fan_in * fan_out] = rng.uniform(
            -bound, bound, fan_in * fan_out
        )
        start = intercept_offsets[i]
        params[start : start + fan_out] = rng.uniform(-bound, bound, fan_out)
    return params.astype(dtype), np.asarray(layer_sizes, dtype=np.int64)


def make_data(rng, n_rows, layer_sizes, loss, dtype):
    X = rng.normal(size=(n_rows, int(layer_sizes[0]))).astype(dtype)
    P = random_outputs(rng, (n_rows, int(layer_sizes[-1])), loss, dtype)
    return X, random_targets(rng, P, loss)


FORWARD_NETS = {
    "5-7-3-2": [5, 7, 3, 2],
    "3-65-65-1": [3, 65, 65, 1],
    "4-3": [4, 3],
}


@pytest.mark.parametrize("net", sorted(FORWARD_NETS))
@pytest.mark.parametrize("n_rows", [1, 7, 257, 1000])
@pytest.mark.parametrize(
    "output, hidden, dtype",
    dtype_grid(ALL_ACTIVATION_CODES, HIDDEN_CODES, code_id, code_id),
)
def test_forward_matches_reference(dtype, net, n_rows, hidden, output):
    """Chunked prediction pass == layer-by-layer oracle (1000 rows > one chunk)."""
    rng = rng_for(n_rows, hidden, output, net)
    params, layer_sizes = random_net(rng, FORWARD_NETS[net], dtype)
    X = rng.normal(size=(n_rows, int(layer_sizes[0]))).astype(dtype)
    out = poisoned((n_rows, int(layer_sizes[-1])), dtype)
    cpu.forward(X, params, layer_sizes, hidden, output, out)
    expected = ref_forward(X, params, layer_sizes, hidden, output)
    assert_close(out, expected, dtype, max(1.0, float(np.abs(expected).max())))


def run_cpu_loss_grad(
    X, Y, sw, params, layer_sizes, hidden, output, loss, alpha, l1=None
):
    """``cpu.loss_grad``; ``l1=None`` calls it without its trailing ``l1``."""
    grads = poisoned(params.shape, params.dtype)
    size = workspace_size(layer_sizes, X.shape[0])
    act_buf = poisoned(size, params.dtype)
    delta_buf = poisoned(size, params.dtype)
    args = (X, Y, sw, params, layer_sizes, hidden, output, loss, alpha, grads)
    if l1 is None:
        value = cpu.loss_grad(*args, act_buf, delta_buf)
    else:
        value = cpu.loss_grad(*args, act_buf, delta_buf, l1)
    return value, grads


@pytest.mark.parametrize(
    "case, hidden, dtype",
    dtype_grid(sorted(OUTPUT_LOSS_CASES), HIDDEN_CODES, inner_id=code_id),
)
@pytest.mark.parametrize("n_rows", [1, 33, 257])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_loss_grad_matches_reference(dtype, case, hidden, n_rows, weighted):
    output, loss, n_out = OUTPUT_LOSS_CASES[case]
    rng = rng_for(n_rows, hidden, output, n_out, int(weighted))
    params, layer_sizes = random_net(rng, [4, 6, 5, n_out], dtype)
    X, Y = make_data(rng, n_rows, layer_sizes, loss, dtype)
    sw = sample_weights(rng, n_rows, weighted, dtype)
    alpha = 0.2
    value, grads = run_cpu_loss_grad(
        X, Y, sw, params, layer_sizes, hidden, output, loss, alpha
    )
    expected_value, expected_grads = ref_loss_grad(
        X, Y, sw, params, layer_sizes, hidden, output, loss, alpha
    )
    assert value == pytest.approx(expected_value, rel=RTOL[dtype], abs=RTOL[dtype])
    assert_close(grads, expected_grads, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("case", ["softmax-log_loss", "identity-squared_error"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_loss_grad_with_l1_matches_reference(dtype, case, weighted):
    """``l1 > 0`` adds ``l1 sum|W| / sw_sum`` and ``l1 sign(W) / sw_sum``
    (coefficients only, an exact zero weight gets no push); ``l1 = 0`` passed
    explicitly is the call without it."""
    output, loss, n_out = OUTPUT_LOSS_CASES[case]
    rng = rng_for(n_out, int(weighted), 11)
    params, layer_sizes = random_net(rng, [4, 6, 5, n_out], dtype)
    params[3] = 0.0  # a coefficient exactly at L1's kink
    X, Y = make_data(rng, 33, layer_sizes, loss, dtype)
    sw = sample_weights(rng, 33, weighted, dtype)
    args = (X, Y, sw, params, layer_sizes, TANH, output, loss, 0.2)
    value, grads = run_cpu_loss_grad(*args, l1=0.3)
    expected_value, expected_grads = ref_loss_grad(*args, l1=0.3)
    assert value == pytest.approx(expected_value, rel=RTOL[dtype], abs=RTOL[dtype])
    assert_close(grads, expected_grads, dtype)

    plain_value, plain_grads = run_cpu_loss_grad(*args)
    zero_value, zero_grads = run_cpu_loss_grad(*args, l1=0.0)
    assert zero_value == plain_value
    np.testing.assert_array_equal(zero_grads, plain_grads)
    sw_sum = float(np.sum(sw)) if weighted else 33.0
    n_coef = int(param_layout(layer_sizes)[1][0])
    l1_term = 0.3 * float(np.abs(params[:n_coef].astype(np.float64)).sum()) / sw_sum
    assert value - plain_value == pytest.approx(l1_term, rel=10 * RTOL[dtype])
    assert grads[3] == pytest.approx(plain_grads[3], rel=RTOL[dtype])
    np.testing.assert_array_equal(grads[n_coef:], plain_grads[n_coef:])


# --------------------------------------------------------------------------
# one whole epoch
# --------------------------------------------------------------------------
def hyper_vector(dtype, solver, alpha=0.1, l1=0.0):
    """``[lr, momentum, nesterov, beta1, beta2, epsilon, alpha, l1]``."""
    lr = 0.05 if solver == SGD else 0.01
    return np.array([lr, 0.9, 1.0, 0.9, 0.999, 1e-8, alpha, l1], dtype=dtype)


def run_cpu_epoch(
    X,
    Y,
    sw,
    sample_idx,
    seed,
    params,
    layer_sizes,
    codes,
    batch_size,
    solver,
    hyper,
    opt_m,
    opt_v,
    step,
):
    hidden, output, loss = codes
    grads = poisoned(params.shape, params.dtype)
    size = workspace_size(layer_sizes, batch_size)
    act_buf = poisoned(size, params.dtype)
    delta_buf = poisoned(size, params.dtype)
    return cpu.train_epoch(
        X,
        Y,
        sw,
        sample_idx,
        seed,
        params,
        grads,
        layer_sizes,
        hidden,
        output,
        loss,
        batch_size,
        solver,
        hyper,
        opt_m,
        opt_v,
        step,
        act_buf,
        delta_buf,
    )


EPOCH_CASES = {
    "tanh-softmax-log_loss": (TANH, SOFTMAX, LOG_LOSS, 3),
    "relu-identity-squared_error": (RELU, IDENTITY, SQUARED_ERROR, 2),
    "logistic-logistic-binary_log_loss": (LOGISTIC, LOGISTIC, BINARY_LOG_LOSS, 1),
    "tanh-exp-poisson": (TANH, EXP, POISSON, 1),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("solver", [SGD, ADAM], ids=["sgd", "adam"])
@pytest.mark.parametrize("batch_size", [1, 7, 8, 35], ids=lambda b: f"batch{b}")
@pytest.mark.parametrize("case", sorted(EPOCH_CASES))
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("path", ["narrow", "general"])
def test_train_epoch_without_shuffle_matches_reference_epoch(
    dtype, solver, batch_size, case, weighted, path, monkeypatch
):
    """seed=-1: the epoch visits ``sample_idx`` as given and equals the
    oracle's epoch: loss, params, optimizer state and Adam's step. Both
    epochs: the narrow one (this 3-8-5-k network's layers padded to 8 lanes)
    and the general one (narrow training switched off).

    35 rows: batches of 8 leave a short last batch of 3 (whose loss weighs 3/35
    in the epoch loss), batches of 7 and 35 divide n, batches of 1 are pure SGD.
    """
    if path == "general":
        monkeypatch.setattr(narrow, "NARROW_MAX_WIDTH", 0)
    hidden, output, loss, n_out = EPOCH_CASES[case]
    n_rows = 35
    rng = rng_for(batch_size, solver, n_out, hidden, int(weighted))
    params, layer_sizes = random_net(rng, [3, 8, 5, n_out], dtype)
    X, Y = make_data(rng, n_rows, layer_sizes, loss, dtype)
    sw = sample_weights(rng, n_rows, weighted, dtype)
    order = rng.permutation(n_rows).astype(np.int64)
    hyper = hyper_vector(dtype, solver)
    opt_m = (0.01 * rng.normal(size=params.shape)).astype(dtype)
    opt_v = (
        rng.uniform(0, 1e-3, params.shape).astype(dtype)
        if solver == ADAM
        else np.zeros_like(params)
    )
    step = np.array([3 if solver == ADAM else 0], dtype=np.int64)

    expected = ref_train_epoch(
        X,
        Y,
        sw,
        order,
        params,
        layer_sizes,
        hidden,
        output,
        loss,
        batch_size,
        solver,
        hyper,
        opt_m,
        opt_v,
        step,
    )
    sample_idx = order.copy()
    got = run_cpu_epoch(
        X,
        Y,
        sw,
        sample_idx,
        -1,
        params,
        layer_sizes,
        (hidden, output, loss),
        batch_size,
        solver,
        hyper,
        opt_m,
        opt_v,
        step,
    )
    expected_loss, expected_params, expected_m, expected_v, expected_step = expected
    np.testing.assert_array_equal(sample_idx, order)  # no shuffle with seed=-1
    assert got == pytest.approx(expected_loss, rel=RTOL[dtype])
    assert_close(params, expected_params, dtype)
    assert_close(opt_m, expected_m, dtype)
    if solver == ADAM:
        assert_close(opt_v, expected_v, dtype)
    assert step[0] == expected_step


@pytest.mark.parametrize("solver", [SGD, ADAM], ids=["sgd", "adam"])
def test_train_epoch_with_seed_shuffles_sample_idx_reproducibly(solver):
    """seed >= 0: sample_idx becomes a permutation (in place) and the epoch
    follows it; the same seed gives the same order and the same params, another
    seed another order."""
    dtype = np.float64
    n_rows, batch_size = 41, 6
    hidden, output, loss = TANH, SOFTMAX, LOG_LOSS
    rng = rng_for(n_rows, solver)
    params0, layer_sizes = random_net(rng, [3, 5, 3], dtype)
    X, Y = make_data(rng, n_rows, layer_sizes, loss, dtype)
    sw = np.empty(0, dtype=dtype)
    hyper = hyper_vector(dtype, solver)

    def epoch(seed):
        sample_idx = np.arange(n_rows, dtype=np.int64)
        params = params0.copy()
        opt_m, opt_v = np.zeros_like(params), np.zeros_like(params)
        step = np.zeros(1, dtype=np.int64)
        value = run_cpu_epoch(
            X,
            Y,
            sw,
            sample_idx,
            seed,
            params,
            layer_sizes,
            (hidden, output, loss),
            batch_size,
            solver,
            hyper,
            opt_m,
            opt_v,
            step,
        )
        return sample_idx, value, params

    idx_a, loss_a, params_a = epoch(123)
    np.testing.assert_array_equal(np.sort(idx_a), np.arange(n_rows))
    assert not np.array_equal(idx_a, np.arange(n_rows))

    idx_b, loss_b, params_b = epoch(123)
    np.testing.assert_array_equal(idx_b, idx_a)
    assert loss_b == loss_a
    np.testing.assert_array_equal(params_b, params_a)

    idx_c, _, params_c = epoch(7)
    assert not np.array_equal(idx_c, idx_a)
    assert not np.array_equal(params_c, params_a)

    # The epoch visited the rows in the shuffled order it left in sample_idx.
    zeros = np.zeros_like(params0)
    expected_loss, expected_params, *_ = ref_train_epoch(
        X,
        Y,
        sw,
        idx_a,
        params0,
        layer_sizes,
        hidden,
        output,
        loss,
        batch_size,
        solver,
        hyper,
        zeros,
        zeros,
        0,
    )
    assert loss_a == pytest.approx(expected_loss, rel=1e-10)
    assert_close(params_a, expected_params, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("solver", [SGD, ADAM], ids=["sgd", "adam"])
def test_train_epoch_with_l1_in_hyper_matches_reference_epoch(dtype, solver):
    """``hyper[7] = l1``: the epoch applies the L1 penalty in every batch, as
    the oracle; a zero raises the loss by nothing."""
    hidden, output, loss, n_out = EPOCH_CASES["tanh-softmax-log_loss"]
    n_rows, batch_size = 35, 8
    rng = rng_for(n_rows, solver, 3)
    params0, layer_sizes = random_net(rng, [3, 8, 5, n_out], dtype)
    X, Y = make_data(rng, n_rows, layer_sizes, loss, dtype)
    sw = np.empty(0, dtype=dtype)
    order = rng.permutation(n_rows).astype(np.int64)

    def epoch(hyper):
        params = params0.copy()
        opt_m, opt_v = np.zeros_like(params), np.zeros_like(params)
        step = np.zeros(1, dtype=np.int64)
        codes = (hidden, output, loss)
        value = run_cpu_epoch(
            X, Y, sw, order.copy(), -1, params, layer_sizes, codes, batch_size,
            solver, hyper, opt_m, opt_v, step,
        )  # fmt: skip
        return value, params

    hyper = hyper_vector(dtype, solver, l1=0.05)
    got_loss, got_params = epoch(hyper)
    zeros = np.zeros_like(params0)
    expected_loss, expected_params, *_ = ref_train_epoch(
        X, Y, sw, order, params0, layer_sizes, hidden, output, loss, batch_size,
        solver, hyper, zeros, zeros, 0,
    )  # fmt: skip
    assert got_loss == pytest.approx(expected_loss, rel=RTOL[dtype])
    assert_close(got_params, expected_params, dtype)

    loss_0, _ = epoch(hyper_vector(dtype, solver, l1=0.0))
    assert got_loss > loss_0
    with pytest.raises(ValueError, match="hyper must hold 8 values"):
        epoch(hyper_vector(dtype, solver)[:7])
