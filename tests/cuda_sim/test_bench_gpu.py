"""Smoke test of the GPU benchmark harness (bench/gpu.py) in the simulator.

Simulated timings mean nothing; this checks that every section runs, counts
launches, checks the own SGEMM's result and writes its report.
"""

import json

from fastmlp.kernels import cuda as backend


def test_bench_gpu_runs_every_section(tmp_path):
    from bench import gpu

    doc = gpu.run(out=tmp_path, log=lambda *a: None)
    assert doc["simulated"] and doc["device"] == "CUDA simulator"
    fused, tiled = doc["launches"]
    assert fused["fused"] and not tiled["fused"]
    for row in doc["launches"]:
        assert row["launches"] > 0
    # The fused kernel runs a whole batch in fewer launches than the tiled path.
    assert fused["launches_per_batch"] < tiled["launches_per_batch"]
    (row,) = doc["sgemm"]
    assert row["own_rel_err"] < 1e-5 and row["own_gflops"] > 0
    assert len(doc["sweep"]) == 1
    assert all(r["fastmlp_samples_per_s"] > 0 for r in doc["sweep"])
    assert json.loads((tmp_path / "gpu.json").read_text())["device"] == "CUDA simulator"
    assert "CUDA simulator" in (tmp_path / "gpu.md").read_text()


def test_count_launches_counts_kernel_launches_only():
    import numpy as np
    from numba import cuda

    from bench.gpu import count_launches

    A = cuda.to_device(np.ones((3, 2), np.float32))
    B = cuda.to_device(np.ones((2, 5), np.float32))
    C = cuda.device_array((3, 5), np.float32)
    with count_launches() as n:
        backend.gemm_nn(A, B, C)
    assert n[0] == 1
    np.testing.assert_array_equal(C.copy_to_host(), np.full((3, 5), 2.0))
