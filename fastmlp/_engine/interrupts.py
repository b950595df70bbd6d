"""Ctrl-C during a fit: honoured at the end of the epoch it arrives in.

A compiled epoch cannot be interrupted inside (numba's code never returns
to the interpreter), and Python raises ``KeyboardInterrupt`` at whatever
bytecode runs next: between the epoch's weight update and its bookkeeping, a
fit would stop with weights one epoch ahead of ``n_iter_``, ``t_`` and
``loss_curve_``. So while a stochastic fit runs in the main thread, SIGINT
only sets a flag, and the loop raises ``KeyboardInterrupt`` itself once the
epoch's bookkeeping is done; the fit then ends as scikit-learn's does after an
interrupt ("Training interrupted by user."), with a consistent state.
"""

import signal
import threading


class DeferredInterrupt:
    """Context manager: SIGINT sets :attr:`pending` instead of raising.

    Installed only in the main thread and only over Python's default handler
    (a handler the user or a framework installed is left alone). An interrupt
    still pending when the block ends is raised then.
    """

    def __init__(self):
        self.pending = False
        self._previous = None

    def __enter__(self):
        main = threading.current_thread() is threading.main_thread()
        if main and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame):
        self.pending = True

    def check(self):
        """Raise ``KeyboardInterrupt`` if SIGINT arrived since the last check."""
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt

    def __exit__(self, exc_type, exc, tb):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        if self.pending and exc_type is None:
            self.pending = False
            raise KeyboardInterrupt
        return False
