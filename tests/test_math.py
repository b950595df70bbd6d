"""Accuracy of the vectorisable exp, tanh and logistic of the CPU kernels.

They replace libm inside the activation kernels, so they are checked here
against float64 numpy over dense grids and the special values, in units of
the float32 result's last place (ulp) for float32 and relative error for
float64.
"""

import numpy as np
import pytest
from fastmlp.kernels import ACTIVATION_CODES, cpu


def _grid(dtype):
    dense = np.linspace(-30.0, 30.0, 600_001)
    tiny = np.geomspace(1e-30, 1.0, 20_001)
    x = np.concatenate([dense, tiny, -tiny, [0.0, 1e-45, 0.4, 0.1, 9.0, 20.0]])
    return x.astype(dtype)


def _activate(x, name):
    Z = x.reshape(1, -1).copy()
    cpu.apply_activation(Z, ACTIVATION_CODES[name])
    return Z.ravel()


def _max_ulp(got, ref64):
    ref32 = ref64.astype(np.float32)
    spacing = np.spacing(np.abs(ref32)).astype(np.float64)
    err = np.abs(got.astype(np.float64) - ref64)
    # Results below the smallest normal float32 are compared absolutely.
    return float(np.max(err / np.maximum(spacing, np.spacing(np.float32(1e-38)))))


#: Largest error measured over the grid, rounded up.
ULP = {"tanh": 2.5, "logistic": 2.5}

REFERENCES = {
    "tanh": np.tanh,
    "logistic": lambda x: 1.0 / (1.0 + np.exp(-x)),
}


@pytest.mark.parametrize("name", ["tanh", "logistic"])
def test_float32_ulp_error(name):
    x = _grid(np.float32)
    got = _activate(x, name)
    assert got.dtype == np.float32
    assert _max_ulp(got, REFERENCES[name](x.astype(np.float64))) <= ULP[name]


def test_float32_exp_within_one_and_a_bit_ulp():
    x = np.linspace(-103.0, 88.7, 1_000_001).astype(np.float32)
    got = _activate(x, "exp")
    assert _max_ulp(got, np.exp(x.astype(np.float64))) <= 1.05


@pytest.mark.parametrize("name", ["tanh", "logistic", "exp"])
def test_float64_relative_error(name):
    x = _grid(np.float64)
    if name == "exp":
        x = x[np.abs(x) < 700]
    ref = np.exp(x) if name == "exp" else REFERENCES[name](x)
    got = _activate(x, name)
    np.testing.assert_allclose(got, ref, rtol=3e-14, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values(dtype):
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0], dtype=dtype)
    t = _activate(x, "tanh")
    assert t[0] == 1 and t[1] == -1 and np.isnan(t[2])
    assert t[3] == 0 and not np.signbit(t[3]) and np.signbit(t[4])
    s = _activate(x, "logistic")
    assert s[0] == 1 and s[1] == 0 and np.isnan(s[2]) and s[3] == 0.5
    e = _activate(x, "exp")
    assert e[0] == np.inf and e[1] == 0 and np.isnan(e[2]) and e[3] == 1 and e[4] == 1
    edges = np.array([-1000.0, -746.0, -104.0, 89.0, 710.0, 1000.0], dtype=dtype)
    with np.errstate(over="ignore", under="ignore"):
        np.testing.assert_allclose(_activate(edges, "exp"), np.exp(edges), rtol=1e-6)
    big = np.array([-200.0, 200.0], dtype=dtype)
    np.testing.assert_array_equal(_activate(big, "tanh"), [-1, 1])


def test_softmax_rows_sum_to_one_and_match_numpy():
    rng = np.random.default_rng(0)
    for dtype, rtol in [(np.float32, 3e-7), (np.float64, 1e-14)]:
        Z = (rng.standard_normal((50, 7)) * 20).astype(dtype)
        ref = np.exp(Z.astype(np.float64) - Z.max(axis=1, keepdims=True))
        ref /= ref.sum(axis=1, keepdims=True)
        cpu.apply_activation(Z, ACTIVATION_CODES["softmax"])
        np.testing.assert_allclose(Z, ref, rtol=rtol * 10, atol=rtol * 1e-3)
