"""GPU benchmarks of the CUDA backend: ``python -m bench.gpu``.

Needs ``fastmlp[cuda]`` and an NVIDIA GPU. With ``NUMBA_ENABLE_CUDASIM=1`` it
runs in numba-cuda's simulator on tiny sizes: a smoke test of this harness
(simulated timings mean nothing, and the report says so).

Four sections, written to ``--out`` as ``gpu.json`` (after every measured row,
so a run stopped by ``--deadline-s`` or a timeout keeps what it measured) and
``gpu.md`` (at the end):

* **launches**: CUDA kernel launches per minibatch in one training epoch, for
  a network the fully fused kernel takes (widths <= ``FUSED_MAX_WIDTH``) and
  one it does not (the tiled path).
* **sgemm**: the backend's own tiled SGEMM (``fastmlp.kernels.cuda.gemm_nn``)
  against cuBLAS (``torch.matmul`` with TF32 off, or CuPy) in GFLOP/s at
  4096^3 and 8192^3 (``--sgemm-sizes``), timed with CUDA events (median of
  ``--repeats``), their ratio (issue 5 asks for >= 50%) and the share of the
  FP32 peak (``--peak-tflops``, the H200's 67 by default).
* **host**: host vs device time per minibatch of one training epoch (fused
  and tiled path): wall time, the host's time inside kernel launches, and the
  device's busy time (CUDA events around every launch); launch-bound when the
  host's launch time is the larger.
* **sweep**: training samples/s of ``FastMLPClassifier(device="cuda")``
  against a PyTorch CUDA fp32 loop (TF32 off, ``Adam(fused=True)``) over
  batch 2^6 .. 2^20 x width 16, 64, 128, 256, 1024 (two hidden layers of that
  width, 32 features, 10 classes, adam), fits after one warm-up fit per
  point; the ratio column is paired (the two fits of a point run back to
  back).
"""

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

__all__ = [
    "count_launches",
    "launches_per_batch",
    "sgemm",
    "host_device_split",
    "sweep",
    "main",
]

BATCHES = tuple(2**p for p in range(6, 21))
WIDTHS = (16, 64, 128, 256, 1024)
SGEMM_SIZES = (4096, 8192)
SECTIONS = ("launches", "sgemm", "host", "sweep")
#: FP32 peak of an H200 SXM (the vendor's datasheet), TFLOP/s.
PEAK_TFLOPS = 67.0


class _Deadline:
    """``expired()`` once ``seconds`` have passed (never for None)."""

    def __init__(self, seconds=None):
        self.end = None if seconds is None else time.perf_counter() + seconds

    def expired(self):
        return self.end is not None and time.perf_counter() >= self.end


class _Events:
    """Elapsed seconds between two points on the device's timeline: CUDA
    events on a GPU, the host clock after a synchronize in the simulator."""

    def __init__(self):
        from numba import cuda

        self.cuda = cuda
        self.real = not _simulated()

    def mark(self):
        if self.real:
            ev = self.cuda.event(timing=True)
            ev.record()
            return ev
        self.cuda.synchronize()
        return time.perf_counter()

    def seconds(self, start, end):
        if self.real:
            end.synchronize()
            return self.cuda.event_elapsed_time(start, end) / 1e3
        return end - start


def _simulated():
    from numba import config

    return bool(config.ENABLE_CUDASIM)


@contextlib.contextmanager
def count_launches():
    """Count CUDA kernel launches inside the block: ``with ... as n: ...; n[0]``.

    Patches numba-cuda's launch entry point (the simulator's kernel call in
    simulator mode) for the duration of the block.
    """
    counter = [0]
    if _simulated():
        from numba.cuda.simulator.kernel import FakeCUDAKernel as owner

        name = "__call__"
        original = owner.__call__

        def counting(self, *args):
            if not self._device:  # device functions are not launches
                counter[0] += 1
            return original(self, *args)
    else:
        from numba.cuda.dispatcher import CUDADispatcher as owner

        name = "call"
        original = owner.call

        def counting(self, *args, **kwargs):
            counter[0] += 1
            return original(self, *args, **kwargs)

    setattr(owner, name, counting)
    try:
        yield counter
    finally:
        setattr(owner, name, original)


def _data(n, n_features=32, n_classes=10, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_classes, n_features)).astype(np.float32)
    y = rng.integers(0, n_classes, n)
    X = rng.standard_normal((n, n_features), dtype=np.float32) + centres[y]
    return X, y


def _estimator(width, batch, epochs):
    from fastmlp import FastMLPClassifier

    return FastMLPClassifier(
        hidden_layer_sizes=(width, width),
        activation="relu",
        solver="adam",
        batch_size=batch,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        shuffle=True,
        random_state=0,
        device="cuda",
    )


def launches_per_batch(
    width, batch, n_batches=4, n_features=32, n_classes=10, warm=True
):
    """Kernel launches per minibatch of one epoch of ``(width, width)``.

    One fit of one epoch is counted whole (its set-up launches included) and
    divided by the number of batches; ``fused`` says which path ran.
    """
    import warnings

    from fastmlp.kernels import cuda as backend

    X, y = _data(batch * n_batches, n_features, n_classes)
    layer_sizes = [n_features, width, width, n_classes]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if warm:
            _estimator(width, batch, 1).fit(X, y)  # compile first
        with count_launches() as n:
            _estimator(width, batch, 1).fit(X, y)
    return {
        "width": width,
        "batch": batch,
        "batches": n_batches,
        "fused": bool(backend.fused_mlp_supported(layer_sizes)),
        "launches": n[0],
        "launches_per_batch": n[0] / n_batches,
    }


def _cublas_matmul():
    """``(name, matmul(A, B) -> C, sync)`` of a cuBLAS FP32 GEMM, or None."""
    try:
        import torch

        if torch.cuda.is_available():
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False

            def to(a):
                return torch.from_numpy(a).cuda()

            return (
                "torch.matmul (cuBLAS, TF32 off)",
                to,
                torch.matmul,
                torch.cuda.synchronize,
            )
    except ImportError:
        pass
    try:
        import cupy

        return (
            "cupy.matmul (cuBLAS)",
            cupy.asarray,
            cupy.matmul,
            cupy.cuda.Device().synchronize,
        )
    except ImportError:
        return None


def _time(fn, args, sync, repeats):
    """Median seconds of ``fn(*args)`` followed by ``sync()`` (host clock)."""
    fn(*args)
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _time_events(fn, args, repeats, start_event, end_event, elapsed_s):
    """Median seconds of ``fn(*args)`` between two device events (one warm-up)."""
    fn(*args)
    times = []
    for _ in range(repeats):
        start = start_event()
        fn(*args)
        end = end_event()
        times.append(elapsed_s(start, end))
    return statistics.median(times)


def _cublas_events(name):
    """``(start, end, elapsed_s)`` event functions of the library ``name``."""
    if name.startswith("torch"):
        import torch

        def mark():
            ev = torch.cuda.Event(enable_timing=True)
            ev.record()
            return ev

        def elapsed(a, b):
            b.synchronize()
            return a.elapsed_time(b) / 1e3

        return mark, mark, elapsed
    import cupy

    def mark_cupy():
        ev = cupy.cuda.Event()
        ev.record()
        return ev

    def elapsed_cupy(a, b):
        b.synchronize()
        return cupy.cuda.get_elapsed_time(a, b) / 1e3

    return mark_cupy, mark_cupy, elapsed_cupy


def sgemm(sizes=SGEMM_SIZES, repeats=5, peak_tflops=PEAK_TFLOPS, on_row=None):
    """GFLOP/s of the own tiled SGEMM and of cuBLAS for square ``n^3`` products,
    timed with CUDA events (the host clock in the simulator); ``on_row(row)``
    after each size."""
    from fastmlp.kernels import cuda as backend
    from numba import cuda

    cublas = None if _simulated() else _cublas_matmul()
    events = _Events()
    rows = []
    for n in sizes:
        rng = np.random.default_rng(n)
        A = rng.standard_normal((n, n), dtype=np.float32)
        B = rng.standard_normal((n, n), dtype=np.float32)
        dA, dB = cuda.to_device(A), cuda.to_device(B)
        dC = cuda.to_device(np.full((n, n), np.nan, np.float32))
        own_s = _time_events(
            backend.gemm_nn, (dA, dB, dC), repeats, events.mark, events.mark,
            events.seconds,
        )  # fmt: skip
        # Checked on a sample of rows: a full float64 product of 8192^3 on the
        # host would take longer than the measurement.
        sample = np.unique(np.linspace(0, n - 1, min(n, 64)).astype(np.int64))
        ref = A[sample].astype(np.float64) @ B
        got = dC.copy_to_host()[sample]
        err = float(np.max(np.abs(got - ref)) / (np.max(np.abs(ref)) or 1.0))
        flop = 2.0 * n**3
        row = {
            "n": n,
            "own_gflops": flop / own_s / 1e9,
            "own_pct_peak": 100.0 * flop / own_s / (peak_tflops * 1e12),
            "own_rel_err": err,
            "timer": "cuda events" if events.real else "host clock (simulator)",
        }
        if cublas is not None:
            name, to, matmul, _sync = cublas
            tA, tB = to(A), to(B)
            start, end, elapsed = _cublas_events(name)
            blas_s = _time_events(matmul, (tA, tB), repeats, start, end, elapsed)
            row.update(
                cublas=name,
                cublas_gflops=flop / blas_s / 1e9,
                cublas_pct_peak=100.0 * flop / blas_s / (peak_tflops * 1e12),
                own_over_cublas=blas_s / own_s,
            )
            del tA, tB
        del dA, dB, dC
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows


@contextlib.contextmanager
def _timed_launches():
    """Time every kernel launch inside the block: ``with ... as t:`` gives
    ``t["host_s"]`` (host time inside launch calls), ``t["launches"]`` and
    ``t["device_s"]`` (sum of device time between events recorded around
    each launch; read after the block; None in the simulator)."""
    info = {"host_s": 0.0, "launches": 0, "device_s": None}
    events = []
    real = not _simulated()
    if real:
        from numba import cuda
        from numba.cuda.dispatcher import CUDADispatcher as owner

        name = "call"
        original = owner.call

        def timed(self, *args, **kwargs):
            before = cuda.event(timing=True)
            before.record()
            t0 = time.perf_counter()
            result = original(self, *args, **kwargs)
            info["host_s"] += time.perf_counter() - t0
            after = cuda.event(timing=True)
            after.record()
            events.append((before, after))
            info["launches"] += 1
            return result
    else:
        from numba.cuda.simulator.kernel import FakeCUDAKernel as owner

        name = "__call__"
        original = owner.__call__

        def timed(self, *args):
            if self._device:
                return original(self, *args)
            t0 = time.perf_counter()
            result = original(self, *args)
            info["host_s"] += time.perf_counter() - t0
            info["launches"] += 1
            return result

    setattr(owner, name, timed)
    try:
        yield info
    finally:
        setattr(owner, name, original)
        if real and events:
            from numba import cuda

            cuda.synchronize()
            info["device_s"] = sum(
                cuda.event_elapsed_time(a, b) / 1e3 for a, b in events
            )


def host_device_split(width, batch, n_batches=16, n_features=32, n_classes=10):
    """Per minibatch of one training epoch of ``(width, width)``: wall time,
    host time inside launches and device busy time, and which bounds it.

    The wall time comes from a plain epoch (no events), the other two from a
    second epoch with an event pair around each launch.
    """
    from fastmlp.kernels import (
        ACTIVATION_CODES,
        LOSS_CODES,
        SOLVER_CODES,
        workspace_size,
    )
    from fastmlp.kernels import cuda as backend

    X, y = _data(batch * n_batches, n_features, n_classes)
    Y = np.eye(n_classes, dtype=np.float32)[y]
    sizes = np.array([n_features, width, width, n_classes], dtype=np.int64)
    n_params = int((sizes[:-1] * sizes[1:] + sizes[1:]).sum())
    rng = np.random.default_rng(0)
    params = (rng.standard_normal(n_params) * 0.05).astype(np.float32)
    up = backend.to_device
    n = X.shape[0]
    size = workspace_size(sizes, batch)
    state = {
        "X": up(X),
        "Y": up(Y),
        "sw": up(np.empty(0, np.float32)),
        "idx": up(np.arange(n, dtype=np.int64)),
        "p": up(params),
        "g": up(np.zeros_like(params)),
        "m": up(np.zeros_like(params)),
        "v": up(np.zeros_like(params)),
        "a": up(np.empty(size, np.float32)),
        "d": up(np.empty(size, np.float32)),
    }
    step = np.zeros(1, dtype=np.int64)
    hyper = np.array([1e-3, 0.9, 1.0, 0.9, 0.999, 1e-8, 1e-4, 0.0], dtype=np.float32)

    relu, softmax = ACTIVATION_CODES["relu"], ACTIVATION_CODES["softmax"]
    log_loss = LOSS_CODES["log_loss"]

    def epoch():
        return backend.train_epoch(
            state["X"], state["Y"], state["sw"], state["idx"], 0, state["p"],
            state["g"], sizes, relu, softmax, log_loss, batch,
            SOLVER_CODES["adam"], hyper, state["m"], state["v"], step,
            state["a"], state["d"],
        )  # fmt: skip

    epoch()  # compile and warm up
    start = time.perf_counter()
    epoch()  # ends with a read of the loss: synchronised
    wall = (time.perf_counter() - start) / n_batches
    with _timed_launches() as t:
        epoch()
    row = {
        "width": width,
        "batch": batch,
        "path": "fused" if backend.fused_mlp_supported(sizes) else "tiled",
        "launches_per_batch": t["launches"] / n_batches,
        "wall_us_per_batch": wall * 1e6,
        "host_launch_us_per_batch": t["host_s"] / n_batches * 1e6,
    }
    if t["device_s"] is not None:
        row["device_us_per_batch"] = t["device_s"] / n_batches * 1e6
        row["bound"] = (
            "launch" if row["host_launch_us_per_batch"] >= row["device_us_per_batch"]
            else "kernel"
        )  # fmt: skip
    return row


class _TorchCuda:
    """PyTorch CUDA fp32 (TF32 off): ``nn.Sequential`` + ``Adam(fused=True)``,
    data on the GPU."""

    def __init__(self, width, batch, epochs):
        self.width, self.batch, self.epochs = width, batch, epochs

    def fit(self, X, y):
        import torch
        from torch import nn

        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.manual_seed(0)
        dev = torch.device("cuda")
        Xt = torch.from_numpy(X).to(dev)
        yt = torch.from_numpy(y.astype(np.int64)).to(dev)
        w = self.width
        model = nn.Sequential(
            nn.Linear(X.shape[1], w),
            nn.ReLU(),
            nn.Linear(w, w),
            nn.ReLU(),
            nn.Linear(w, 10),
        ).to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
        loss_fn = nn.CrossEntropyLoss()
        n = Xt.shape[0]
        for _ in range(self.epochs):
            order = torch.randperm(n, device=dev)
            for start in range(0, n, self.batch):
                rows = order[start : start + self.batch]
                opt.zero_grad(set_to_none=True)
                loss_fn(model(Xt[rows]), yt[rows]).backward()
                opt.step()
        torch.cuda.synchronize()
        return self


def _torch_cuda_available():
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


def sweep(
    batches=BATCHES,
    widths=WIDTHS,
    min_rows=65536,
    epochs=1,
    n_features=32,
    n_classes=10,
    warm=True,
    log=print,
    deadline=None,
    on_row=None,
):
    """Training samples/s over ``batches`` x ``widths`` (see the module doc).

    Each point trains ``max(min_rows, 2 * batch)`` rows for ``epochs`` epochs;
    fastmlp and PyTorch (when CUDA-enabled torch is installed) alternate, so
    ``fastmlp_over_torch`` is a paired ratio. Stops before a point once
    ``deadline`` (a :class:`_Deadline`) has expired; ``on_row(row)`` after
    each point.
    """
    import warnings

    torch_ok = not _simulated() and _torch_cuda_available()
    rows = []
    for width in widths:
        for batch in batches:
            if deadline is not None and deadline.expired():
                log("[sweep] deadline reached: stopping")
                return rows
            n = max(min_rows, 2 * batch)
            X, y = _data(n, n_features, n_classes)
            row = {"width": width, "batch": batch, "rows": n, "epochs": epochs}
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if warm:
                        _estimator(width, batch, 1).fit(X[: 2 * batch], y[: 2 * batch])
                    start = time.perf_counter()
                    _estimator(width, batch, epochs).fit(X, y)
                    row["fastmlp_samples_per_s"] = (
                        n * epochs / (time.perf_counter() - start)
                    )
                if torch_ok:
                    _TorchCuda(width, batch, 1).fit(X[: 2 * batch], y[: 2 * batch])
                    start = time.perf_counter()
                    _TorchCuda(width, batch, epochs).fit(X, y)
                    row["torch_samples_per_s"] = (
                        n * epochs / (time.perf_counter() - start)
                    )
                    row["fastmlp_over_torch"] = (
                        row["fastmlp_samples_per_s"] / row["torch_samples_per_s"]
                    )
            except Exception as exc:  # noqa: BLE001 - recorded, the sweep goes on
                row["error"] = f"{type(exc).__name__}: {exc}"[:400]
            log(f"[sweep] {row}")
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows


def _markdown(doc):
    from bench.common import markdown_table

    lines = ["# fastmlp GPU benchmark", "", f"- device: {doc['device']}"]
    if doc["simulated"]:
        lines.append(
            "- **CUDA simulator: a smoke test of the harness, not a measurement**"
        )
    lines += ["", "## Kernel launches per minibatch (one epoch)", ""]
    lines.append(
        markdown_table(
            ["width", "batch", "path", "launches", "per batch"],
            [
                [
                    r["width"],
                    r["batch"],
                    "fused" if r["fused"] else "tiled",
                    r["launches"],
                    f"{r['launches_per_batch']:.1f}",
                ]
                for r in doc.get("launches", [])
            ],
        )  # fmt: skip
    )
    lines += ["", "## SGEMM: own tiled kernel vs cuBLAS (float32)", ""]
    lines.append(
        markdown_table(
            [
                "n^3",
                "own GFLOP/s",
                "own % peak",
                "cuBLAS GFLOP/s",
                "cuBLAS % peak",
                "own / cuBLAS",
                "own rel. error",
            ],
            [
                [
                    r["n"],
                    f"{r['own_gflops']:.1f}",
                    f"{r['own_pct_peak']:.1f}",
                    f"{r['cublas_gflops']:.1f}" if "cublas_gflops" in r else "-",
                    f"{r['cublas_pct_peak']:.1f}" if "cublas_pct_peak" in r else "-",
                    f"{r['own_over_cublas']:.2f}" if "own_over_cublas" in r else "-",
                    f"{r['own_rel_err']:.1e}",
                ]
                for r in doc.get("sgemm", [])
            ],
        )  # fmt: skip
    )
    lines += ["", "## Host vs device time per minibatch (one epoch)", ""]
    lines.append(
        markdown_table(
            [
                "width",
                "batch",
                "path",
                "launches",
                "wall us",
                "host launch us",
                "device us",
                "bound",
            ],
            [
                [
                    r["width"],
                    r["batch"],
                    r["path"],
                    f"{r['launches_per_batch']:.1f}",
                    f"{r['wall_us_per_batch']:.1f}",
                    f"{r['host_launch_us_per_batch']:.1f}",
                    f"{r['device_us_per_batch']:.1f}"
                    if "device_us_per_batch" in r
                    else "-",
                    r.get("bound", "-"),
                ]
                for r in doc.get("host", [])
            ],
        )  # fmt: skip
    )
    lines += ["", "## Training sweep: samples/s (two hidden layers of `width`)", ""]
    lines.append(
        markdown_table(
            ["width", "batch", "fastmlp cuda", "torch cuda", "fastmlp / torch"],
            [
                [
                    r["width"],
                    r["batch"],
                    f"{r['fastmlp_samples_per_s']:,.0f}"
                    if "fastmlp_samples_per_s" in r
                    else r.get("error", "-")[:40],
                    f"{r['torch_samples_per_s']:,.0f}"
                    if "torch_samples_per_s" in r
                    else "-",
                    f"{r['fastmlp_over_torch']:.2f}x"
                    if "fastmlp_over_torch" in r
                    else "-",
                ]
                for r in doc.get("sweep", [])
            ],
        )  # fmt: skip
    )
    return "\n".join(lines) + "\n"


def _ints(text):
    return tuple(int(t) for t in str(text).split(",") if t.strip())


def run(
    quick=False,
    out=Path("bench/results"),
    log=print,
    sections=SECTIONS,
    sgemm_sizes=None,
    batches=None,
    widths=None,
    min_rows=None,
    repeats=5,
    peak_tflops=PEAK_TFLOPS,
    deadline_s=None,
    json_path=None,
    markdown=True,
):
    """Measure ``sections``; write ``gpu.json`` (after every row) and
    ``gpu.md``; return the doc.

    Sizes default to the full run (``quick``: a few); in the simulator they
    are tiny whatever is asked. ``deadline_s`` stops the sweep (the last
    section) once that many seconds have passed since the start.
    """
    from fastmlp._backend import resolve_device

    resolve_device("cuda")  # a clear error when there is no GPU (or simulator)
    from numba import cuda

    deadline = _Deadline(deadline_s)
    simulated = _simulated()
    device = "CUDA simulator" if simulated else cuda.get_current_device().name
    if isinstance(device, bytes):
        device = device.decode()
    if simulated:  # tiny: every simulated GPU thread is a Python thread
        fused_width, tiled_width, batch = 4, 9, 4
        shape = {"n_features": 3, "n_classes": 3, "warm": False}
        launch_shape = {**shape, "n_batches": 2}
        host_shape = {"n_features": 3, "n_classes": 3, "n_batches": 2}
        sizes, batches, widths, min_rows = (8,), (4,), (4,), 8
    else:
        fused_width, tiled_width, batch = 64, 256, 256
        shape = launch_shape = {"warm": True}
        host_shape = {}
        sizes = sgemm_sizes or ((256,) if quick else SGEMM_SIZES)
        batches = batches or ((64, 4096) if quick else BATCHES)
        widths = widths or ((16, 256) if quick else WIDTHS)
        min_rows = min_rows or 65536
    log(f"[gpu] device: {device}")
    doc = {"device": device, "simulated": simulated, "peak_tflops": peak_tflops}
    out.mkdir(parents=True, exist_ok=True)
    json_path = Path(json_path) if json_path else out / "gpu.json"

    def save(*_):
        json_path.write_text(json.dumps(doc, indent=2) + "\n")

    def attempt(name, fn):
        if name not in sections:
            return
        doc[name] = []
        try:
            fn(doc[name])
        except Exception as exc:  # noqa: BLE001 - recorded, the next section runs
            doc.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"[:600]
            log(f"[gpu] {name} failed: {doc['errors'][name]}")
        save()

    def launches(rows):
        for width in (fused_width, tiled_width):
            rows.append(launches_per_batch(width, batch, **launch_shape))
            save()

    def host(rows):
        for width in (fused_width, tiled_width):
            for b in (batch, 16 * batch) if not simulated else (batch,):
                rows.append(host_device_split(width, b, **host_shape))
                log(f"[host] {rows[-1]}")
                save()

    def gemm(rows):
        def add(row):
            rows.append(row)
            log(f"[sgemm] {row}")
            save()

        sgemm(sizes=sizes, repeats=repeats, peak_tflops=peak_tflops, on_row=add)

    def sweep_rows(rows):
        sweep(
            batches, widths, min_rows=min_rows, log=log, deadline=deadline,
            on_row=lambda row: (rows.append(row), save()), **shape,
        )  # fmt: skip

    attempt("launches", launches)
    attempt("sgemm", gemm)
    attempt("host", host)
    attempt("sweep", sweep_rows)
    save()
    if markdown:
        text = _markdown(doc)
        (out / "gpu.md").write_text(text)
        log(text)
    return doc


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.gpu", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a few sizes only")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument(
        "--json", type=Path, default=None, help="JSON file (default: OUT/gpu.json)"
    )
    parser.add_argument(
        "--no-markdown", action="store_true", help="do not write OUT/gpu.md"
    )
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help="comma-separated from " + ",".join(SECTIONS),
    )
    parser.add_argument(
        "--sgemm-sizes", type=_ints, default=None, help="e.g. 4096,8192"
    )
    parser.add_argument("--batches", type=_ints, default=None, help="e.g. 64,4096")
    parser.add_argument("--widths", type=_ints, default=None, help="e.g. 16,256")
    parser.add_argument("--min-rows", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peak-tflops", type=float, default=PEAK_TFLOPS)
    parser.add_argument(
        "--deadline-s", type=float, default=None, help="stop the sweep after this"
    )
    args = parser.parse_args(argv)
    if _simulated():  # small tunables, as the simulator lane patches them
        from fastmlp.kernels import config

        for name, value in config.SIMULATOR_TUNABLES.items():
            setattr(config, name, value)
    run(
        quick=args.quick,
        out=args.out,
        sections=tuple(s.strip() for s in args.sections.split(",")),
        sgemm_sizes=args.sgemm_sizes,
        batches=args.batches,
        widths=args.widths,
        min_rows=args.min_rows,
        repeats=args.repeats,
        peak_tflops=args.peak_tflops,
        deadline_s=args.deadline_s,
        json_path=args.json,
        markdown=not args.no_markdown,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
