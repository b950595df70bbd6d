"""CSR first-layer kernels equal the dense kernels on the densified matrix."""

import numpy as np
import pytest
import scipy.sparse as sp
from fastmlp.kernels import ACTIVATION_CODES, SPARSE_KERNEL_NAMES, cpu, param_layout
from reference import ref_dense_forward, ref_loss_grad

DTYPES = [np.float32, np.float64]
RTOL = {np.float32: 2e-4, np.float64: 1e-10}


def random_csr(rng, n, d, density, dtype, index_dtype=np.int32):
    X = rng.standard_normal((n, d))
    X[rng.random((n, d)) > density] = 0.0
    if n > 2:
        X[1] = 0.0  # an empty row
    Xs = sp.csr_matrix(X.astype(dtype))
    Xs.indices = Xs.indices.astype(index_dtype)
    Xs.indptr = Xs.indptr.astype(index_dtype)
    return X.astype(dtype), Xs


def test_cpu_backend_defines_the_sparse_kernels():
    for name in SPARSE_KERNEL_NAMES:
        assert callable(getattr(cpu, name)), name
        assert getattr(cpu, name).__doc__


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ["identity", "relu", "tanh", "softmax"])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_sparse_dense_forward_matches_reference(dtype, activation, index_dtype):
    rng = np.random.default_rng(0)
    Xd, Xs = random_csr(rng, 33, 65, 0.2, dtype, index_dtype)
    W = rng.standard_normal((65, 7)).astype(dtype) * 0.3
    b = rng.standard_normal(7).astype(dtype)
    rows = np.array([5, 1, 0, 32, 5, 17], dtype=np.int64)
    out = np.full((rows.size, 7), np.nan, dtype=dtype)
    cpu.sparse_dense_forward(
        Xs.indptr, Xs.indices, Xs.data, rows, W, b, ACTIVATION_CODES[activation], out
    )
    expected = ref_dense_forward(Xd[rows], W, b, ACTIVATION_CODES[activation])
    np.testing.assert_allclose(out, expected, rtol=RTOL[dtype], atol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_sparse_dense_grad_matches_dense_grad(dtype):
    rng = np.random.default_rng(1)
    Xd, Xs = random_csr(rng, 20, 30, 0.3, dtype)
    rows = np.array([3, 0, 19, 1, 7], dtype=np.int64)
    D = rng.standard_normal((rows.size, 4)).astype(dtype)
    W = rng.standard_normal((30, 4)).astype(dtype)
    gW, gb = np.full((30, 4), np.nan, dtype), np.full(4, np.nan, dtype)
    cpu.sparse_dense_grad(Xs.indptr, Xs.indices, Xs.data, rows, D, W, 0.3, 0.2, gW, gb)
    expected_gW = (Xd[rows].T @ D + 0.3 * W) * 0.2
    np.testing.assert_allclose(gW, expected_gW, rtol=RTOL[dtype], atol=RTOL[dtype])
    np.testing.assert_allclose(gb, 0.2 * D.sum(axis=0), rtol=RTOL[dtype])


def network(rng, sizes, dtype):
    _, _, n = param_layout(sizes)
    return (rng.standard_normal(n) * 0.3).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sizes", [[40, 6, 3], [40, 3]], ids=["hidden", "no-hidden"])
def test_forward_and_loss_grad_sparse_match_reference(dtype, sizes):
    rng = np.random.default_rng(2)
    sizes = np.array(sizes)
    Xd, Xs = random_csr(rng, 300, 40, 0.1, dtype)  # 300 rows: more than a chunk
    params = network(rng, sizes, dtype)
    Y = np.eye(3, dtype=dtype)[rng.integers(0, 3, 300)]
    sw = rng.random(300).astype(dtype)
    out = np.full((300, 3), np.nan, dtype)
    cpu.forward_sparse(Xs.indptr, Xs.indices, Xs.data, params, sizes, 2, 4, out)
    dense_out = np.empty_like(out)
    cpu.forward(Xd, params, sizes, 2, 4, dense_out)
    np.testing.assert_allclose(out, dense_out, rtol=RTOL[dtype], atol=RTOL[dtype])

    grads = np.empty_like(params)
    ws = 300 * int(sizes.sum())
    loss = cpu.loss_grad_sparse(
        Xs.indptr,
        Xs.indices,
        Xs.data,
        Y,
        sw,
        params,
        sizes,
        2,
        4,
        1,
        1e-2,
        grads,
        np.empty(ws, dtype),
        np.empty(ws, dtype),
    )
    ref_loss, ref_grads = ref_loss_grad(Xd, Y, sw, params, sizes, 2, 4, 1, 1e-2)
    np.testing.assert_allclose(loss, ref_loss, rtol=RTOL[dtype])
    np.testing.assert_allclose(grads, ref_grads, rtol=RTOL[dtype], atol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("solver", [0, 1], ids=["sgd", "adam"])
def test_train_epoch_sparse_equals_dense_epoch(dtype, solver):
    rng = np.random.default_rng(3)
    Xd, Xs = random_csr(rng, 37, 50, 0.2, dtype)
    sizes = np.array([50, 7, 3])
    params = network(rng, sizes, dtype)
    Y = np.eye(3, dtype=dtype)[rng.integers(0, 3, 37)]
    hyper = np.array([0.01, 0.9, 1, 0.9, 0.999, 1e-8, 1e-3, 0.0], dtype)
    results = []
    for sparse in (False, True):
        p, m, v = params.copy(), np.zeros_like(params), np.zeros_like(params)
        step, idx, work = np.zeros(1, np.int64), np.arange(37), 8 * int(sizes.sum())
        bufs = (np.empty(work, dtype), np.empty(work, dtype))
        common = (
            idx,
            3,
            p,
            np.empty_like(p),
            sizes,
            2,
            4,
            1,
            8,
            solver,
            hyper,
            m,
            v,
            step,
            *bufs,
        )
        if sparse:
            loss = cpu.train_epoch_sparse(
                Xs.indptr, Xs.indices, Xs.data, Y, np.empty(0, dtype), *common
            )
        else:
            loss = cpu.train_epoch(Xd, Y, np.empty(0, dtype), *common)
        results.append((loss, p, idx.copy()))
    np.testing.assert_array_equal(results[0][2], results[1][2])
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=RTOL[dtype])
    np.testing.assert_allclose(
        results[0][1], results[1][1], rtol=RTOL[dtype], atol=1e-6
    )
