"""The L-BFGS solver: scipy's L-BFGS-B over one compiled loss/gradient call."""

import warnings

import numpy as np
import scipy.optimize
import scipy.sparse as sp

from .._backend import get_backend
from ..exceptions import ConvergenceWarning
from ..kernels import ACTIVATION_CODES, workspace_size


def fit_lbfgs(est, X, y, sample_weight, layer_units, hooks=None):
    """Full-batch L-BFGS-B (scipy) on the flat vector, as scikit-learn.

    ``est`` is the estimator: its parameters, and the fitted state this
    updates (the weights in place, ``n_iter_``, ``loss_``, ``device_``).

    Each evaluation of loss and gradient is one compiled ``loss_grad``
    call over all of X, in X's dtype; buffers are allocated once here.
    """
    params = est._params_vector()
    if params is not est._packed:
        est._set_params_vector(params)
    dtype = params.dtype
    backend = get_backend("cpu")
    sparse = sp.issparse(X)
    if not sparse:
        X = np.ascontiguousarray(X)
    Y = np.ascontiguousarray(y, dtype=dtype)
    sw = (
        np.empty(0, dtype=dtype)
        if sample_weight is None
        else np.ascontiguousarray(sample_weight, dtype=dtype)
    )
    sizes = np.asarray(layer_units, dtype=np.int64)
    size = workspace_size(layer_units, X.shape[0])
    act_buf = np.empty(size, dtype=dtype)
    delta_buf = np.empty(size, dtype=dtype)
    grads = np.empty_like(params)
    work = np.empty_like(params)
    hidden = ACTIVATION_CODES[est.activation]
    output = ACTIVATION_CODES[est.out_activation_]
    loss_code = est._loss_code()
    alpha = float(est.alpha)
    l1 = float(est.l1)

    def loss_and_grad(x):
        work[:] = x
        if sparse:
            value = backend.loss_grad_sparse(
                X.indptr,
                X.indices,
                X.data,
                Y,
                sw,
                work,
                sizes,
                hidden,
                output,
                loss_code,
                alpha,
                grads,
                act_buf,
                delta_buf,
                l1,
            )
        else:
            value = backend.loss_grad(
                X,
                Y,
                sw,
                work,
                sizes,
                hidden,
                output,
                loss_code,
                alpha,
                grads,
                act_buf,
                delta_buf,
                l1,
            )
        return float(value), grads.astype(np.float64)

    bridge = _IterationHooks(hooks, params) if hooks and hooks.active else None
    result = scipy.optimize.minimize(
        loss_and_grad,
        params.astype(np.float64),
        method="L-BFGS-B",
        jac=True,
        callback=bridge,
        options={
            "maxfun": est.max_fun,
            "maxiter": est.max_iter,
            "gtol": est.tol,
        },
    )
    if bridge is not None:
        bridge.close()
    n_iter = min(result.nit, est.max_iter)
    if result.status != 0:
        msg = (
            f"lbfgs failed to converge after {n_iter} iteration(s) "
            f"(status={result.status}):\n{result.message}\n"
        )
        if n_iter == est.max_iter:
            msg += (
                "\nIncrease the number of iterations to improve the "
                f"convergence (max_iter={est.max_iter})."
            )
        msg += (
            "\nYou might also want to scale the data as shown in:\n"
            "    https://scikit-learn.org/stable/modules/preprocessing.html"
        )
        warnings.warn(msg, ConvergenceWarning, stacklevel=4)
    est.n_iter_ = n_iter
    est.loss_ = float(result.fun)
    params[:] = result.x
    est.device_ = "cpu"


class _IterationHooks:
    """scipy's per-iteration ``callback(xk)`` as one callback subtask each.

    A subtask begins before the first iteration and after every one; scipy's
    call ends the running one (its weights are ``xk``). The subtask begun
    after the last iteration never ran: :meth:`close` ends it empty. A hook
    asking to stop raises ``StopIteration``, which scipy honours.
    """

    def __init__(self, hooks, params):
        self.hooks = hooks
        self.dtype = params.dtype
        self.sub = hooks.step_begin("lbfgs-iter", params)

    def __call__(self, xk):
        weights = xk.astype(self.dtype)
        stop = self.hooks.step_end(self.sub, weights)
        self.sub = self.hooks.step_begin("lbfgs-iter", weights)
        if stop:
            raise StopIteration

    def close(self):
        self.sub.call_on_fit_task_end(estimator=self.hooks.est)
