"""Learning-rate schedules of the stochastic solvers (``lr_schedule``), per epoch.

A schedule is a factor in ``(0, 1]`` that multiplies the solver's learning
rate at the start of each epoch (the compiled epoch reads its rate from
``hyper`` once per call, so the rate is constant within an epoch, as PyTorch's
schedulers stepped once per epoch are). ``n_epochs`` is the horizon
(``max_iter``); epochs past it keep the last factor.

==================  ==========================================================
``"cosine"``        ``0.5 (1 + cos(pi e / T))`` (Keras ``CosineDecay``,
                    optax ``cosine_decay_schedule``, with a final value 0)
``"warmup_cosine"`` ``(e + 1) / (W + 1)`` for the ``W = round(warmup T)``
                    warm-up epochs, then ``0.5 (1 + cos(pi (e - W) / (T - W)))``
``"one_cycle"``     PyTorch's ``OneCycleLR`` (cosine annealing, two phases,
                    ``div_factor`` 25, ``final_div_factor`` 1e4) with
                    ``pct_start = warmup``, ``max_lr`` the learning rate
==================  ==========================================================
"""

import math

#: ``lr_schedule`` values and the warm-up fraction each takes when
#: ``lr_warmup`` is None (one_cycle's is PyTorch's ``pct_start``).
SCHEDULES = {"cosine": 0.0, "warmup_cosine": 0.1, "one_cycle": 0.3}
ONE_CYCLE_DIV, ONE_CYCLE_FINAL_DIV = 25.0, 1e4


def _annealing_cos(start, end, pct):
    """PyTorch's cosine interpolation from ``start`` (pct 0) to ``end`` (pct 1)."""
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1.0)


def schedule_factor(schedule, epoch, n_epochs, warmup=None):
    """The factor on the learning rate of epoch ``epoch`` (0-based).

    Parameters
    ----------
    schedule : {"cosine", "warmup_cosine", "one_cycle"}
    epoch : int
        Epochs run before this one; clamped to ``n_epochs - 1``.
    n_epochs : int
        The horizon ``T`` (``max_iter``), >= 1.
    warmup : float in [0, 1) or None
        Share of ``T`` spent warming up; None is the schedule's default
        (:data:`SCHEDULES`).

    Returns
    -------
    float
    """
    T = int(n_epochs)
    e = min(int(epoch), T - 1)
    if warmup is None:
        warmup = SCHEDULES[schedule]
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * e / T))
    if schedule == "warmup_cosine":
        W = min(int(round(warmup * T)), T - 1)
        if e < W:
            return (e + 1) / (W + 1)
        return 0.5 * (1.0 + math.cos(math.pi * (e - W) / (T - W)))
    if schedule == "one_cycle":
        initial = 1.0 / ONE_CYCLE_DIV
        phases = (
            (float(warmup * T) - 1.0, initial, 1.0),
            (T - 1.0, 1.0, initial / ONE_CYCLE_FINAL_DIV),
        )
        start = 0.0
        for i, (end_step, lo, hi) in enumerate(phases):
            if e <= end_step or i == len(phases) - 1:
                span = end_step - start
                pct = (e - start) / span if span > 0 else 1.0
                return _annealing_cos(lo, hi, pct)
            start = end_step
    raise ValueError(f"unknown lr_schedule {schedule!r}")
