"""Every kernel of the CUDA backend against the numpy oracle, in the simulator.

Runs only with ``NUMBA_ENABLE_CUDASIM=1`` (see ``tests/conftest.py``), with
the tunables patched small (``conftest.SMALL_CONFIG``): 4 x 4 GEMM tiles,
8-thread reductions and fused blocks of 3 rows, so the tiny shapes here
cover several blocks, partial tiles and both training paths (fused for
widths <= 8, tiled above). Outputs start as NaN: a kernel that leaves an
entry unwritten fails.
"""

import fastmlp.kernels
import numpy as np
import pytest
from fastmlp.kernels import KERNEL_NAMES, cpu, cuda, param_layout, workspace_size
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
RTOL = {np.float32: 2e-4, np.float64: 1e-10}
HIDDEN_CODES = [IDENTITY, LOGISTIC, TANH, RELU]
ALL_CODES = [IDENTITY, LOGISTIC, TANH, RELU, SOFTMAX, EXP]
OUTPUT_LOSS_CASES = {
    "softmax-log_loss": (SOFTMAX, LOG_LOSS, 3),
    "logistic-binary_log_loss": (LOGISTIC, BINARY_LOG_LOSS, 2),
    "identity-squared_error": (IDENTITY, SQUARED_ERROR, 2),
    "exp-poisson": (EXP, POISSON, 1),
}
# Fused nets have every width <= 8 (SMALL_CONFIG); tiled ones a width of 9.
NETS = {"fused": [3, 5, 4], "tiled": [3, 9, 4]}


def dtype_id(dtype):
    return np.dtype(dtype).name


def rng_for(*key):
    return np.random.default_rng([len(str(k)) + 7 * i for i, k in enumerate(key)])


def dev(a):
    return cuda.to_device(np.ascontiguousarray(a))


def nan_device(shape, dtype):
    return dev(np.full(shape, np.nan, dtype=dtype))


def assert_close(got, expected, dtype, magnitude=None):
    got = cuda.to_host(got) if hasattr(got, "copy_to_host") else got
    expected = np.asarray(expected, dtype=np.float64)
    rtol = RTOL[dtype]
    if magnitude is None:
        magnitude = float(np.max(np.abs(expected), initial=1.0))
    np.testing.assert_allclose(
        np.asarray(got, np.float64), expected, rtol=rtol, atol=rtol * magnitude
    )


def random_net(rng, sizes, n_out, dtype):
    sizes = list(sizes) + [n_out]
    _, _, n_params = param_layout(sizes)
    return (
        rng.uniform(-0.8, 0.8, n_params).astype(dtype),
        np.asarray(sizes, dtype=np.int64),
    )


def make_data(rng, n_rows, sizes, loss, dtype):
    X = rng.normal(size=(n_rows, int(sizes[0]))).astype(dtype)
    n_out = int(sizes[-1])
    if loss == LOG_LOSS:
        Y = np.eye(n_out)[rng.integers(0, n_out, n_rows)]
    elif loss == BINARY_LOG_LOSS:
        Y = rng.integers(0, 2, (n_rows, n_out))
    elif loss == POISSON:
        Y = rng.poisson(1.5, (n_rows, n_out))
    else:
        Y = rng.normal(size=(n_rows, n_out))
    return X, Y.astype(dtype)


def weights(rng, n_rows, weighted, dtype):
    if not weighted:
        return np.empty(0, dtype=dtype)
    return rng.uniform(0.2, 3.0, n_rows).astype(dtype)


# --------------------------------------------------------------------------
# contract
# --------------------------------------------------------------------------
@pytest.mark.parametrize("backend", [cpu, cuda], ids=["cpu", "cuda"])
def test_backend_defines_every_contract_kernel_with_a_docstring(backend):
    missing = [name for name in KERNEL_NAMES if not hasattr(backend, name)]
    assert not missing, f"{backend.__name__} lacks {missing}"
    for name in KERNEL_NAMES:
        kernel = getattr(backend, name)
        assert callable(kernel), name
        assert kernel.__doc__ and kernel.__doc__.strip(), f"{name} has no docstring"
    assert backend.__name__.startswith("fastmlp.kernels.")
    assert getattr(fastmlp.kernels, backend.__name__.rsplit(".", 1)[1]) is backend


def test_to_device_and_to_host_round_trip():
    host = np.arange(6.0).reshape(2, 3)
    on_device = cuda.to_device(host)
    assert not isinstance(on_device, np.ndarray)
    assert cuda.to_device(on_device) is on_device
    back = cuda.to_host(on_device)
    assert isinstance(back, np.ndarray)
    np.testing.assert_array_equal(back, host)
    assert cpu.to_device(host) is host and cpu.to_host(host) is host


# --------------------------------------------------------------------------
# matrix products and layers
# --------------------------------------------------------------------------
GEMM_SHAPES = [(1, 1, 1), (5, 3, 7), (9, 5, 4)]


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("m, k, n", GEMM_SHAPES)
def test_gemm_kernels_match_numpy_in_all_three_orientations(dtype, m, k, n):
    """Shapes past one 4 x 4 tile and one 2-deep K slab, and 1 x 1 x 1."""
    rng = rng_for(m, k, n, dtype)
    A = rng.normal(size=(m, k)).astype(dtype)
    B = rng.normal(size=(k, n)).astype(dtype)
    Bt = np.ascontiguousarray(B.T)
    At = np.ascontiguousarray(A.T)
    for kernel, left, right, expected in (
        (cuda.gemm_nn, A, B, ref_gemm_nn(A, B)),
        (cuda.gemm_nt, A, Bt, ref_gemm_nt(A, Bt)),
        (cuda.gemm_tn, At, B, ref_gemm_tn(At, B)),
    ):
        C = nan_device((m, n), dtype)
        kernel(dev(left), dev(right), C)
        assert_close(C, expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("activation", ALL_CODES)
def test_apply_activation_and_dense_forward_match_reference(dtype, activation):
    rng = rng_for(activation, dtype)
    Z = (2 * rng.normal(size=(5, 3))).astype(dtype)
    Z[0, 0] = 60.0  # softmax/logistic must stay finite
    d_Z = dev(Z)
    cuda.apply_activation(d_Z, activation)
    assert_close(d_Z, ref_apply_activation(Z.astype(np.float64), activation), dtype)

    A = rng.normal(size=(6, 5)).astype(dtype)
    W = rng.normal(size=(5, 7)).astype(dtype)
    b = rng.normal(size=7).astype(dtype)
    out = nan_device((6, 7), dtype)
    cuda.dense_forward(dev(A), dev(W), dev(b), activation, out)
    assert_close(out, ref_dense_forward(A, W, b, activation), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("activation", HIDDEN_CODES)
def test_hidden_delta_fuses_the_activation_derivative(dtype, activation):
    rng = rng_for(activation, dtype, "hd")
    D_next = rng.normal(size=(7, 5)).astype(dtype)
    W = rng.normal(size=(6, 5)).astype(dtype)
    A = ref_apply_activation(rng.normal(size=(7, 6)), activation).astype(dtype)
    out = nan_device((7, 6), dtype)
    cuda.hidden_delta(dev(D_next), dev(W), dev(A), activation, out)
    assert_close(out, ref_hidden_delta(D_next, W, A, activation), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_dense_grad_fuses_l2_scale_and_bias_column_sums(dtype, alpha):
    """7 batch rows = 4 K slabs; 9 output columns = 3 column tiles of gb."""
    rng = rng_for(alpha, dtype, "dg")
    A = rng.normal(size=(7, 5)).astype(dtype)
    D = rng.normal(size=(7, 9)).astype(dtype)
    W = rng.normal(size=(5, 9)).astype(dtype)
    gW = nan_device((5, 9), dtype)
    gb = nan_device(9, dtype)
    cuda.dense_grad(dev(A), dev(D), dev(W), alpha, 1 / 7, gW, gb)
    expected_gW, expected_gb = ref_dense_grad(A, D, W, alpha, 1 / 7)
    assert_close(gW, expected_gW, dtype)
    assert_close(gb, expected_gb, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("case", sorted(OUTPUT_LOSS_CASES))
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_loss_output_delta_accumulates_the_loss_on_the_device(dtype, case, weighted):
    """11 rows = 2 blocks of 8 threads: the block sums meet in one atomic."""
    output, loss, n_out = OUTPUT_LOSS_CASES[case]
    rng = rng_for(case, weighted, dtype)
    P = ref_apply_activation(1.5 * rng.normal(size=(11, n_out)), output).astype(dtype)
    _, Y = make_data(rng, 11, [1, n_out], loss, dtype)
    sw = weights(rng, 11, weighted, dtype)
    delta = nan_device((11, n_out), dtype)
    total = cuda.loss_output_delta(dev(P), dev(Y), dev(sw), loss, delta)
    expected_delta, expected_total = ref_loss_output_delta(P, Y, sw, loss)
    assert_close(delta, expected_delta, dtype)
    assert total == pytest.approx(expected_total, rel=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_update_matches_reference(dtype, nesterov):
    rng = rng_for(nesterov, dtype, "sgd")
    size, n_coef = 37, 30
    params, grads, vel = (rng.normal(size=size).astype(dtype) for _ in range(3))
    d_params, d_vel = dev(params), dev(vel)
    sq = cuda.sgd_update(d_params, dev(grads), d_vel, 0.1, 0.9, nesterov, n_coef)
    exp_params, exp_vel, exp_sq = ref_sgd_update(
        params, grads, vel, 0.1, 0.9, nesterov, n_coef
    )
    assert_close(d_params, exp_params, dtype)
    assert_close(d_vel, exp_vel, dtype)
    assert sq == pytest.approx(exp_sq, rel=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("t", [1, 5])
def test_adam_update_matches_reference(dtype, t):
    rng = rng_for(t, dtype, "adam")
    size, n_coef = 37, 30
    params, grads = (rng.normal(size=size).astype(dtype) for _ in range(2))
    m = (0.1 * rng.normal(size=size)).astype(dtype)
    v = rng.uniform(0.0, 0.2, size).astype(dtype)
    d_params, d_m, d_v = dev(params), dev(m), dev(v)
    sq = cuda.adam_update(
        d_params, dev(grads), d_m, d_v, t, 0.01, 0.9, 0.999, 1e-8, n_coef
    )
    expected = ref_adam_update(params, grads, m, v, t, 0.01, 0.9, 0.999, 1e-8, n_coef)
    for got, want in zip((d_params, d_m, d_v), expected[:3], strict=True):
        assert_close(got, want, dtype)
    assert sq == pytest.approx(expected[3], rel=RTOL[dtype])


# --------------------------------------------------------------------------
# whole network
# --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("net", sorted(NETS))
@pytest.mark.parametrize(
    "hidden, output", [(TANH, SOFTMAX), (RELU, IDENTITY), (LOGISTIC, EXP)]
)
def test_forward_matches_reference_on_fused_and_tiled_paths(dtype, net, hidden, output):
    """7 rows: 3 fused blocks of 3 rows (the last short), or 2 tiled chunks."""
    rng = rng_for(net, hidden, output, dtype)
    params, sizes = random_net(rng, NETS[net], 3, dtype)
    X = rng.normal(size=(7, 3)).astype(dtype)
    assert cuda.fused_mlp_supported(sizes) == (net == "fused")
    out = nan_device((7, 3), dtype)
    cuda.forward(dev(X), dev(params), sizes, hidden, output, out)
    assert_close(out, ref_forward(X, params, sizes, hidden, output), dtype)


@pytest.mark.parametrize("case", sorted(OUTPUT_LOSS_CASES))
@pytest.mark.parametrize(
    "dtype, weighted, l1",
    [(np.float64, False, 0.0), (np.float32, True, 0.05)],
    ids=["float64-unweighted-l2", "float32-weighted-l2+l1"],
)
def test_loss_grad_matches_reference(case, dtype, weighted, l1):
    output, loss, n_out = OUTPUT_LOSS_CASES[case]
    rng = rng_for(case, weighted, l1, dtype)
    params, sizes = random_net(rng, [3, 5, 4], n_out, dtype)
    X, Y = make_data(rng, 6, sizes, loss, dtype)
    sw = weights(rng, 6, weighted, dtype)
    size = workspace_size(sizes, 6)
    grads = nan_device(params.shape, dtype)
    value = cuda.loss_grad(
        dev(X),
        dev(Y),
        dev(sw),
        dev(params),
        sizes,
        TANH,
        output,
        loss,
        0.2,
        grads,
        nan_device(size, dtype),
        nan_device(size, dtype),
        l1,
    )
    exp_value, exp_grads = ref_loss_grad(
        X, Y, sw, params, sizes, TANH, output, loss, 0.2, l1
    )
    assert value == pytest.approx(exp_value, rel=RTOL[dtype])
    assert_close(grads, exp_grads, dtype)


def run_epoch(
    backend,
    X,
    Y,
    sw,
    order,
    seed,
    params,
    sizes,
    codes,
    batch_size,
    solver,
    hyper,
    opt_m,
    opt_v,
    step,
):
    """One ``train_epoch`` of ``backend`` on copies; returns its results on the host."""
    up, down = backend.to_device, backend.to_host
    dtype = params.dtype
    size = workspace_size(sizes, batch_size)
    arrays = [
        up(np.array(a, copy=True)) for a in (X, Y, sw, order, params, opt_m, opt_v)
    ]
    d_X, d_Y, d_sw, d_idx, d_params, d_m, d_v = arrays
    step = np.array(step, copy=True)
    value = backend.train_epoch(
        d_X,
        d_Y,
        d_sw,
        d_idx,
        seed,
        d_params,
        up(np.zeros_like(params)),
        sizes,
        *codes,
        batch_size,
        solver,
        hyper,
        d_m,
        d_v,
        step,
        up(np.full(size, np.nan, dtype)),
        up(np.full(size, np.nan, dtype)),
    )
    return value, down(d_idx), down(d_params), down(d_m), down(d_v), int(step[0])


EPOCH_CASES = {
    "tanh-softmax": (TANH, SOFTMAX, LOG_LOSS, 3),
    "relu-identity": (RELU, IDENTITY, SQUARED_ERROR, 2),
    "logistic-logistic": (LOGISTIC, LOGISTIC, BINARY_LOG_LOSS, 1),
}


# (net, dtype, solver, case): each path with each solver, dtype and output.
EPOCH_GRID = [
    ("fused", np.float32, ADAM, "tanh-softmax"),
    ("fused", np.float64, SGD, "logistic-logistic"),
    ("fused", np.float64, ADAM, "relu-identity"),
    ("tiled", np.float64, ADAM, "tanh-softmax"),
    ("tiled", np.float32, SGD, "relu-identity"),
    ("tiled", np.float64, SGD, "logistic-logistic"),
]


@pytest.mark.parametrize(
    "net, dtype, solver, case",
    EPOCH_GRID,
    ids=[
        f"{n}-{dtype_id(d)}-{'adam' if s else 'sgd'}-{c}" for n, d, s, c in EPOCH_GRID
    ],
)
def test_train_epoch_without_shuffle_equals_cpu_epoch_and_reference(
    net, dtype, solver, case
):
    """11 rows in batches of 4 (a short last batch of 3), weighted rows,
    L2 + L1 in ``hyper``: loss, params, moments and Adam's step all equal
    the CPU backend's epoch and the oracle's."""
    hidden, output, loss, n_out = EPOCH_CASES[case]
    rng = rng_for(net, solver, case, dtype)
    params, sizes = random_net(rng, NETS[net], n_out, dtype)
    X, Y = make_data(rng, 11, sizes, loss, dtype)
    sw = weights(rng, 11, case != "relu-identity", dtype)
    order = rng.permutation(11).astype(np.int64)
    hyper = np.array([0.05, 0.9, 1.0, 0.9, 0.999, 1e-8, 0.1, 0.01], dtype=dtype)
    opt_m = (0.01 * rng.normal(size=params.shape)).astype(dtype)
    opt_v = (
        rng.uniform(0, 1e-3, params.shape).astype(dtype)
        if solver == ADAM
        else np.zeros_like(params)
    )
    step = np.array([3 if solver == ADAM else 0], dtype=np.int64)
    args = (
        X,
        Y,
        sw,
        order,
        -1,
        params,
        sizes,
        (hidden, output, loss),
        4,
        solver,
        hyper,
        opt_m,
        opt_v,
        step,
    )

    got = run_epoch(cuda, *args)
    on_cpu = run_epoch(cpu, *args)
    expected = ref_train_epoch(
        X,
        Y,
        sw,
        order,
        params,
        sizes,
        hidden,
        output,
        loss,
        4,
        solver,
        hyper,
        opt_m,
        opt_v,
        step,
    )

    np.testing.assert_array_equal(got[1], order)  # seed -1: no shuffle
    for want in (on_cpu, (expected[0], order, *expected[1:])):
        assert got[0] == pytest.approx(want[0], rel=RTOL[dtype])
        for g, w in zip(got[2:5], want[2:5], strict=True):
            assert_close(g, w, dtype)
        assert got[5] == want[5]


def test_train_epoch_shuffles_on_the_device_reproducibly_from_the_seed():
    """seed >= 0: sample_idx becomes a permutation (in place, on the device),
    the same seed gives the same order and params, another seed another
    order; the epoch visited the rows in the order it left in sample_idx."""
    dtype = np.float64
    rng = rng_for("shuffle")
    params, sizes = random_net(rng, NETS["fused"], 3, dtype)
    X, Y = make_data(rng, 13, sizes, LOG_LOSS, dtype)
    sw = np.empty(0, dtype=dtype)
    hyper = np.array([0.05, 0.9, 0.0, 0.9, 0.999, 1e-8, 0.0, 0.0], dtype=dtype)
    zeros = np.zeros_like(params)
    step = np.zeros(1, dtype=np.int64)

    def epoch(seed):
        return run_epoch(
            cuda,
            X,
            Y,
            sw,
            np.arange(13),
            seed,
            params,
            sizes,
            (TANH, SOFTMAX, LOG_LOSS),
            5,
            ADAM,
            hyper,
            zeros,
            zeros,
            step,
        )

    loss_a, idx_a, params_a, *_ = epoch(123)
    np.testing.assert_array_equal(np.sort(idx_a), np.arange(13))
    assert not np.array_equal(idx_a, np.arange(13))
    loss_b, idx_b, params_b, *_ = epoch(123)
    np.testing.assert_array_equal(idx_b, idx_a)
    assert loss_b == pytest.approx(loss_a, rel=1e-12)
    assert_close(params_b, params_a, dtype)
    _, idx_c, _, *_ = epoch(7)
    assert not np.array_equal(idx_c, idx_a)

    expected_loss, expected_params, *_ = ref_train_epoch(
        X,
        Y,
        sw,
        idx_a,
        params,
        sizes,
        TANH,
        SOFTMAX,
        LOG_LOSS,
        5,
        ADAM,
        hyper,
        zeros,
        zeros,
        0,
    )
    assert loss_a == pytest.approx(expected_loss, rel=1e-10)
    assert_close(params_a, expected_params, dtype)


@pytest.mark.parametrize("n", [1, 2, 3, 17, 64])
def test_device_shuffle_is_a_permutation_for_any_length(n):
    idx = cuda.to_device(np.arange(n, dtype=np.int64))
    cuda._shuffle(cuda._ns(np.float64), idx, 5)
    np.testing.assert_array_equal(np.sort(cuda.to_host(idx)), np.arange(n))
