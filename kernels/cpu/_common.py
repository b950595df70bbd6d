"""Compile options and code constants shared by the CPU kernel modules."""

from .. import ACTIVATION_CODES, LOSS_CODES, SOLVER_CODES

# Reassociation and FMA contraction let LLVM vectorise reductions; no
# 'nnan'/'ninf': NaN and inf must propagate so that divergence is detected.
# Every kernel also uses error_model="numpy": with Python's error model each
# float division checks for zero and may raise, which stops LLVM from
# vectorising any loop that divides (Adam's update ran 4x slower); numpy's
# model gives inf/NaN instead, which the engine reports as divergence.
FASTMATH = {"reassoc", "contract", "nsz"}
#: The options every CPU kernel and overload implementation compiles with.
JIT_OPTIONS = {"fastmath": FASTMATH, "error_model": "numpy"}

IDENTITY = ACTIVATION_CODES["identity"]
LOGISTIC = ACTIVATION_CODES["logistic"]
TANH = ACTIVATION_CODES["tanh"]
RELU = ACTIVATION_CODES["relu"]
SOFTMAX = ACTIVATION_CODES["softmax"]
EXP = ACTIVATION_CODES["exp"]

SQUARED = LOSS_CODES["squared_error"]
LOG = LOSS_CODES["log_loss"]
BINARY_LOG = LOSS_CODES["binary_log_loss"]
POISSON = LOSS_CODES["poisson"]

SGD = SOLVER_CODES["sgd"]
ADAM = SOLVER_CODES["adam"]
