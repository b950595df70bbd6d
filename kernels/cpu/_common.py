"""Compile options and code constants shared by the CPU kernel modules."""

# The codes by name: one table, in ``fastmlp.kernels`` (re-exported here).
from .. import (  # noqa: F401
    ADAM,
    BINARY_LOG_LOSS,
    ELU,
    ELU_ALPHA,
    EXP,
    IDENTITY,
    LEAKY_RELU,
    LEAKY_RELU_SLOPE,
    LOG_LOSS,
    LOGISTIC,
    POISSON,
    RELU,
    SELU,
    SELU_ALPHA,
    SELU_SCALE,
    SGD,
    SOFTMAX,
    SQUARED_ERROR,
    TANH,
    TANH_SQUARED_ERROR,
)

# Reassociation and FMA contraction let LLVM vectorise reductions; no
# 'nnan'/'ninf': NaN and inf must propagate so that divergence is detected.
# Every kernel also uses error_model="numpy": with Python's error model each
# float division checks for zero and may raise, which stops LLVM from
# vectorising any loop that divides (Adam's update ran 4x slower); numpy's
# model gives inf/NaN instead, which the engine reports as divergence.
FASTMATH = {"reassoc", "contract", "nsz"}
#: The options every CPU kernel and overload implementation compiles with.
JIT_OPTIONS = {"fastmath": FASTMATH, "error_model": "numpy"}
