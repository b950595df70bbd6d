"""GPU benchmarks of the CUDA backend: ``python -m bench.gpu``.

Needs ``fastmlp[cuda]`` and an NVIDIA GPU. With ``NUMBA_ENABLE_CUDASIM=1`` it
runs in numba-cuda's simulator on tiny sizes: a smoke test of this harness
(simulated timings mean nothing, and the report says so).

Three sections, all written to ``--out`` as ``gpu.json`` and ``gpu.md``:

* **launches**: CUDA kernel launches per minibatch in one training epoch, for
  a network the fully fused kernel takes (widths <= ``FUSED_MAX_WIDTH``) and
  one it does not (the tiled path).
* **sgemm**: the backend's own tiled SGEMM (``fastmlp.kernels.cuda.gemm_nn``)
  against cuBLAS (``torch.matmul`` with TF32 off, or CuPy) in GFLOP/s at
  1024^3 and 4096^3, and their ratio (issue 5 asks for >= 50%).
* **sweep**: training samples/s of ``FastMLPClassifier(device="cuda")``
  against a PyTorch CUDA fp32 loop (TF32 off) over batch 2^6 .. 2^20 x width
  16, 64, 128, 256, 1024 (two hidden layers of that width, 32 features, 10
  classes, adam), fits after one warm-up fit per width.
"""

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["count_launches", "launches_per_batch", "sgemm", "sweep", "main"]

BATCHES = tuple(2**p for p in range(6, 21))
WIDTHS = (16, 64, 128, 256, 1024)
SGEMM_SIZES = (1024, 4096)


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
    """Median seconds of ``fn(*args)`` followed by ``sync()``."""
    fn(*args)
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sgemm(sizes=SGEMM_SIZES, repeats=5):
    """GFLOP/s of the own tiled SGEMM and of cuBLAS for square ``n^3`` products."""
    from fastmlp.kernels import cuda as backend
    from numba import cuda

    cublas = None if _simulated() else _cublas_matmul()
    rows = []
    for n in sizes:
        rng = np.random.default_rng(n)
        A = rng.standard_normal((n, n), dtype=np.float32)
        B = rng.standard_normal((n, n), dtype=np.float32)
        dA, dB = cuda.to_device(A), cuda.to_device(B)
        dC = cuda.device_array((n, n), dtype=np.float32)
        own_s = _time(backend.gemm_nn, (dA, dB, dC), cuda.synchronize, repeats)
        err = float(
            np.max(np.abs(dC.copy_to_host() - A @ B)) / (np.max(np.abs(A @ B)) or 1.0)
        )
        flop = 2.0 * n**3
        row = {"n": n, "own_gflops": flop / own_s / 1e9, "own_rel_err": err}
        if cublas is not None:
            name, to, matmul, sync = cublas
            tA, tB = to(A), to(B)
            blas_s = _time(matmul, (tA, tB), sync, repeats)
            row.update(
                cublas=name,
                cublas_gflops=flop / blas_s / 1e9,
                own_over_cublas=blas_s / own_s,
            )
        rows.append(row)
    return rows


class _TorchCuda:
    """PyTorch CUDA fp32 (TF32 off): ``nn.Sequential`` + Adam, data on the GPU."""

    def __init__(self, width, batch, epochs):
        self.width, self.batch, self.epochs = width, batch, epochs

    def fit(self, X, y):
        import torch
        from torch import nn

        torch.backends.cuda.matmul.allow_tf32 = False
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
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
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
):
    """Training samples/s over ``batches`` x ``widths`` (see the module doc).

    Each point trains ``max(min_rows, 4 * batch)`` rows for ``epochs`` epochs;
    fastmlp and PyTorch (when CUDA-enabled torch is installed) alternate.
    """
    import warnings

    torch_ok = not _simulated() and _torch_cuda_available()
    rows = []
    for width in widths:
        for batch in batches:
            n = max(min_rows, 2 * batch)
            X, y = _data(n, n_features, n_classes)
            row = {"width": width, "batch": batch, "rows": n, "epochs": epochs}
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
                row["torch_samples_per_s"] = n * epochs / (time.perf_counter() - start)
                row["fastmlp_over_torch"] = (
                    row["fastmlp_samples_per_s"] / row["torch_samples_per_s"]
                )
            log(f"[sweep] {row}")
            rows.append(row)
    return rows


def _markdown(doc):
    from bench.report import markdown_table

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
                for r in doc["launches"]
            ],
        )  # fmt: skip
    )
    lines += ["", "## SGEMM: own tiled kernel vs cuBLAS (float32)", ""]
    lines.append(
        markdown_table(
            ["n^3", "own GFLOP/s", "cuBLAS GFLOP/s", "own / cuBLAS", "own rel. error"],
            [
                [
                    r["n"],
                    f"{r['own_gflops']:.1f}",
                    f"{r['cublas_gflops']:.1f}" if "cublas_gflops" in r else "-",
                    f"{r['own_over_cublas']:.2f}" if "own_over_cublas" in r else "-",
                    f"{r['own_rel_err']:.1e}",
                ]
                for r in doc["sgemm"]
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
                    f"{r['fastmlp_samples_per_s']:,.0f}",
                    f"{r['torch_samples_per_s']:,.0f}"
                    if "torch_samples_per_s" in r
                    else "-",
                    f"{r['fastmlp_over_torch']:.2f}x"
                    if "fastmlp_over_torch" in r
                    else "-",
                ]
                for r in doc["sweep"]
            ],
        )  # fmt: skip
    )
    return "\n".join(lines) + "\n"


def run(quick=False, out=Path("bench/results"), log=print):
    """Measure the three sections; write ``gpu.json``/``gpu.md``; return the doc."""
    from fastmlp._backend import resolve_device

    resolve_device("cuda")  # a clear error when there is no GPU (or simulator)
    from numba import cuda

    simulated = _simulated()
    device = "CUDA simulator" if simulated else cuda.get_current_device().name
    if isinstance(device, bytes):
        device = device.decode()
    if simulated:  # tiny: every simulated GPU thread is a Python thread
        fused_width, tiled_width, batch = 4, 9, 4
        shape = {"n_features": 3, "n_classes": 3, "warm": False}
        launch_shape = {**shape, "n_batches": 2}
        sizes, batches, widths, min_rows = (8,), (4,), (4,), 8
    else:
        fused_width, tiled_width, batch = 64, 256, 256
        shape = launch_shape = {"warm": True}
        sizes = (256,) if quick else SGEMM_SIZES
        batches = (64, 4096) if quick else BATCHES
        widths = (16, 256) if quick else WIDTHS
        min_rows = 65536
    log(f"[gpu] device: {device}")
    doc = {
        "device": device,
        "simulated": simulated,
        "launches": [
            launches_per_batch(fused_width, batch, **launch_shape),
            launches_per_batch(tiled_width, batch, **launch_shape),
        ],
        "sgemm": sgemm(sizes=sizes),
        "sweep": sweep(batches, widths, min_rows=min_rows, log=log, **shape),
    }
    out.mkdir(parents=True, exist_ok=True)
    text = _markdown(doc)
    (out / "gpu.md").write_text(text)
    (out / "gpu.json").write_text(json.dumps(doc, indent=2) + "\n")
    log(text)
    return doc


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.gpu", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a few sizes only")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    run(quick=args.quick, out=args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
