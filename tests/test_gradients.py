"""Central finite-difference checks of the CPU ``loss_grad`` in float64.

The gradient written into ``grads`` must be the derivative of the loss that
the same call returns, for every hidden activation and every canonical
output/loss pair, with the L2 term (``alpha > 0``) and with sample weights.
This is independent of scikit-learn and of the oracle: it would catch a
backend and an oracle that share a mistake.

Squared error is checked with ONE output only. scikit-learn's squared loss is
``0.5 * mean over outputs`` of the weighted row average, so its derivative has
a factor ``1 / n_outputs``; but the output delta it backpropagates is
``P - Y`` (divided by ``n`` rows only). Its "gradient" is therefore
``n_outputs`` times the derivative of its loss when there are several outputs;
the fastmlp kernels follow scikit-learn, and
``test_multioutput_squared_error_gradient_is_n_outputs_times_loss_derivative``
pins that convention down. The log losses and the Poisson deviance SUM over
outputs, so their gradient is exact for any number of outputs.
"""

import numpy as np
import pytest
from fastmlp.kernels import ACTIVATION_CODES, cpu, param_layout, workspace_size
from reference import (
    BINARY_LOG_LOSS,
    EXP,
    IDENTITY,
    LOG_LOSS,
    LOGISTIC,
    POISSON,
    RELU,
    SOFTMAX,
    SQUARED_ERROR,
    TANH,
    ref_forward_activations,
)

HIDDEN_CODES = [IDENTITY, LOGISTIC, TANH, RELU]
CODE_NAMES = {code: name for name, code in ACTIVATION_CODES.items()}

# (output activation, loss, n_outputs)
OUTPUT_LOSS_CASES = {
    "softmax-log_loss": (SOFTMAX, LOG_LOSS, 4),
    "logistic-binary_log_loss": (LOGISTIC, BINARY_LOG_LOSS, 1),
    "logistic-binary_log_loss-multilabel": (LOGISTIC, BINARY_LOG_LOSS, 3),
    "identity-squared_error": (IDENTITY, SQUARED_ERROR, 1),
    "exp-poisson": (EXP, POISSON, 1),
    "exp-poisson-multioutput": (EXP, POISSON, 2),
}

STEP = 1e-6
# Pre-activations of relu units stay this far from the kink at 0, so a step of
# STEP in any parameter (times |x| <= ~4) cannot cross it.
RELU_MARGIN = 1e-3


def loss_and_grad(X, Y, sw, params, layer_sizes, hidden, output, loss, alpha, l1=0.0):
    grads = np.empty_like(params)
    size = workspace_size(layer_sizes, X.shape[0])
    act_buf = np.empty(size)
    delta_buf = np.empty(size)
    value = cpu.loss_grad(
        X,
        Y,
        sw,
        params,
        layer_sizes,
        hidden,
        output,
        loss,
        alpha,
        grads,
        act_buf,
        delta_buf,
        l1,
    )
    return value, grads


def central_differences(
    X, Y, sw, params, layer_sizes, hidden, output, loss, alpha, l1=0.0
):
    """``(f(p + h e_i) - f(p - h e_i)) / 2h`` for every parameter ``i``."""
    numeric = np.empty_like(params)
    for i in range(params.shape[0]):
        shifted = params.copy()
        shifted[i] = params[i] + STEP
        plus, _ = loss_and_grad(
            X, Y, sw, shifted, layer_sizes, hidden, output, loss, alpha, l1
        )
        shifted[i] = params[i] - STEP
        minus, _ = loss_and_grad(
            X, Y, sw, shifted, layer_sizes, hidden, output, loss, alpha, l1
        )
        numeric[i] = (plus - minus) / (2 * STEP)
    return numeric


def hidden_preactivations(X, params, layer_sizes, hidden):
    """Every hidden layer's ``Z = A @ W + b`` (where relu's kink lives)."""
    activations = ref_forward_activations(X, params, layer_sizes, hidden, IDENTITY)
    coef_offsets, intercept_offsets, _ = param_layout(layer_sizes)
    out = []
    for i in range(len(layer_sizes) - 2):
        fan_in, fan_out = int(layer_sizes[i]), int(layer_sizes[i + 1])
        start = coef_offsets[i]
        W = params[start : start + fan_in * fan_out].reshape(fan_in, fan_out)
        b = params[intercept_offsets[i] : intercept_offsets[i] + fan_out]
        out.append(activations[i] @ W + b)
    return out


def make_problem(seed, layer_sizes, hidden, output, loss, n_rows=9):
    """Data and parameters of a small net; for relu, redrawn until every hidden
    pre-activation is at least RELU_MARGIN away from 0 (and some units are off,
    so the zeroed derivative is exercised too)."""
    rng = np.random.default_rng(seed)
    layer_sizes = np.asarray(layer_sizes, dtype=np.int64)
    n_params = param_layout(layer_sizes)[2]
    n_out = int(layer_sizes[-1])
    for _ in range(1000):
        X = rng.normal(size=(n_rows, int(layer_sizes[0])))
        params = rng.uniform(-0.8, 0.8, n_params)
        if hidden != RELU:
            break
        Z = np.concatenate(
            [z.ravel() for z in hidden_preactivations(X, params, layer_sizes, hidden)]
        )
        if np.abs(Z).min() > RELU_MARGIN and (Z < 0).any() and (Z > 0).any():
            break
    else:
        raise RuntimeError("no relu problem away from the kinks")
    if loss == LOG_LOSS:
        Y = np.eye(n_out)[rng.integers(0, n_out, n_rows)]
    elif loss == BINARY_LOG_LOSS:
        Y = rng.integers(0, 2, (n_rows, n_out)).astype(np.float64)
    elif loss == POISSON:
        Y = rng.poisson(1.5, (n_rows, n_out)).astype(np.float64)
    else:
        Y = rng.normal(size=(n_rows, n_out))
    sw = rng.uniform(0.3, 2.5, n_rows)
    return X, Y, sw, params, layer_sizes


@pytest.mark.parametrize("case", sorted(OUTPUT_LOSS_CASES))
@pytest.mark.parametrize("hidden", HIDDEN_CODES, ids=CODE_NAMES.get)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_loss_grad_is_derivative_of_its_loss(case, hidden, weighted):
    output, loss, n_out = OUTPUT_LOSS_CASES[case]
    X, Y, sw, params, layer_sizes = make_problem(
        17 + hidden, [3, 5, 4, n_out], hidden, output, loss
    )
    if not weighted:
        sw = np.empty(0)
    alpha = 0.3
    args = (X, Y, sw, params, layer_sizes, hidden, output, loss, alpha)
    value, grads = loss_and_grad(*args)
    numeric = central_differences(*args)
    assert np.isfinite(value)
    np.testing.assert_allclose(grads, numeric, rtol=1e-6, atol=1e-8)
    # The check is not vacuous: the gradient is far from zero.
    assert np.abs(grads).max() > 1e-2


def test_multioutput_squared_error_gradient_is_n_outputs_times_loss_derivative():
    """scikit-learn's convention (see the module docstring): with 2 outputs and
    no penalty, ``grads == 2 * d loss / d params``."""
    n_out = 2
    X, Y, _, params, layer_sizes = make_problem(
        5, [3, 5, 4, n_out], TANH, IDENTITY, SQUARED_ERROR
    )
    args = (X, Y, np.empty(0), params, layer_sizes, TANH, IDENTITY, SQUARED_ERROR, 0.0)
    _, grads = loss_and_grad(*args)
    numeric = central_differences(*args)
    np.testing.assert_allclose(grads, n_out * numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("case", ["softmax-log_loss", "identity-squared_error"])
@pytest.mark.parametrize("hidden", [TANH, RELU], ids=CODE_NAMES.get)
def test_loss_grad_with_l1_is_derivative_of_its_loss(case, hidden):
    """With ``l1 > 0`` (and L2 and sample weights) the gradient is the
    derivative of the returned loss, every weight far from L1's kink at 0."""
    output, loss, n_out = OUTPUT_LOSS_CASES[case]
    X, Y, sw, params, layer_sizes = make_problem(
        29 + hidden, [3, 5, 4, n_out], hidden, output, loss
    )
    n_coef = int(param_layout(layer_sizes)[1][0])
    assert np.abs(params[:n_coef]).min() > 1e3 * STEP
    args = (X, Y, sw, params, layer_sizes, hidden, output, loss, 0.3, 0.7)
    value, grads = loss_and_grad(*args)
    numeric = central_differences(*args)
    np.testing.assert_allclose(grads, numeric, rtol=1e-6, atol=1e-8)
    # The L1 term is there: it moves every coefficient gradient by 0.7/sw_sum.
    _, plain = loss_and_grad(*args[:-1])
    np.testing.assert_allclose(
        grads[:n_coef] - plain[:n_coef],
        0.7 * np.sign(params[:n_coef]) / sw.sum(),
        rtol=1e-9,
    )
