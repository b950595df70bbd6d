"""Smoke test of the benchmark harness (``bench/``): its ``--quick`` paths run.

``bench`` is not an installed package, so both commands run as
``python -m ...`` subprocesses from the repository root. Tiny data, few
epochs, one repeat, BLAS capped at one thread (a shared CI machine stays
quick and steady); no torch. These check that the harness works and writes
sane output, not speed. Each run is a fresh process that compiles its
kernels, so the module is in the integration lane (``pytest -m integration``).
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[1]

TIMEOUT_S = 300


def _run_module(module, *args):
    """``python -m module args`` from the repository root; fails on error."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert proc.returncode == 0, (
        f"python -m {module} failed ({proc.returncode}):\n"
        f"{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    )
    return proc


def _check_gemm_rows(rows):
    assert rows, "the GEMM sweep measured no shape"
    assert {r["op"] for r in rows} == {"nn", "nt", "tn"}
    for r in rows:
        assert r["own_gflops"] > 0 and r["blas_gflops"] > 0, r
        assert r["pick"] in ("own", "blas") and r["faster"] in ("own", "blas"), r
        assert r["agree"], f"own and BLAS products differ: {r}"


def test_bench_run_quick_writes_results_for_fastmlp_and_sklearn(tmp_path):
    out = tmp_path / "results"
    proc = _run_module(
        "bench.run",
        "--quick",
        "--no-plots",
        "--no-fresh-process",
        "--impls",
        "fastmlp,sklearn",
        "--threads",
        "1",
        "--gemm",
        "--out",
        str(out),
    )
    doc = json.loads((out / "results.json").read_text())
    rows = doc["results"]
    workloads = doc["config"]["workloads"]
    assert workloads, "no workload ran"
    for impl in ("fastmlp", "sklearn"):
        for workload in workloads:
            [row] = [r for r in rows if r["impl"] == impl and r["workload"] == workload]
            assert row["samples_per_s"] > 0, row
            assert 0.0 <= row["accuracy"] <= 1.0, row
            assert row["speedup_vs_sklearn"] > 0, row
            assert row["predict_rows_per_s"] > 0, row
    assert doc["fastmlp_jit"] is not None
    _check_gemm_rows(doc["gemm"]["rows"])
    text = (out / "results.md").read_text()
    assert "## Training" in text and "## GEMM sweep" in text
    assert text.strip() in proc.stdout


def test_bench_gemm_quick_reports_own_and_blas(tmp_path):
    out = tmp_path / "gemm"
    _run_module("bench.gemm", "--quick", "--threads", "1", "--out", str(out))
    doc = json.loads((out / "gemm.json").read_text())
    _check_gemm_rows(doc["rows"])
    assert doc["peak"]["numpy_gflops"] > 0
    assert set(doc["blas_min_work"]) == {"nn", "nt", "tn"}
    assert doc["thresholds"]["all"]["rows"] == len(doc["rows"])
    text = (out / "gemm.md").read_text()
    assert "own GFLOP/s" in text and "BLAS GFLOP/s" in text
    table_rows = [line for line in text.splitlines() if line.startswith("| nn ")]
    assert len(table_rows) == sum(r["op"] == "nn" for r in doc["rows"])
    if importlib.util.find_spec("matplotlib") is not None:
        assert (out / "gemm.png").stat().st_size > 0


def test_bench_narrow_quick_times_both_epochs():
    """``bench.narrow --quick``: the narrow and general epochs of the playground
    network both run (8 lanes) and the report holds their times and ratio."""
    proc = _run_module("bench.narrow", "--quick")
    rows = json.loads(proc.stdout)
    assert len(rows) == 1
    row = rows[0]
    assert row["network"] == "2-8-8-1" and row["narrow_lanes"] == 8
    assert row["general_us_per_batch"] > 0 and row["narrow_us_per_batch"] > 0
    assert row["speedup"] == row["general_us_per_batch"] / row["narrow_us_per_batch"]


def test_bench_first_session_quick_runs_every_arm(tmp_path):
    """``bench.first_session --quick``: scikit-learn and fastmlp cold and warm
    run the whole session (small), and the report and JSON hold every step."""
    out = tmp_path / "session.json"
    proc = _run_module(
        "bench.first_session", "--quick", "--rounds", "1", "--json", str(out)
    )
    samples = json.loads(out.read_text())
    assert set(samples) == {"sklearn", "fastmlp cold", "fastmlp warm"}
    for arm, runs in samples.items():
        (run,) = runs
        for key in ("default_fit_s", "grid_12x3_s", "pipeline_s", "regressor_s"):
            assert run[key] > 0, (arm, key)
        assert run["where"] == "sklearn" or run["where"].endswith("__init__.py")
    assert "ratio to scikit-learn" in proc.stdout


def test_bench_before_after_quick_compares_two_trees():
    """``bench.before_after --quick`` with this tree on both sides: both run,
    and the ratio row is printed for the workload."""
    proc = _run_module(
        "bench.before_after", "--quick", "--a", "a=.", "--b", "b=.",
        "--workloads", "playground", "--rounds", "2", "--repeats", "1",
    )  # fmt: skip
    assert "playground" in proc.stdout and "b/a" in proc.stdout


def test_bench_configurations_times_every_step():
    """``bench.configurations``: a fresh process times the first fit and each
    new configuration after it; every step is reported."""
    proc = _run_module("bench.configurations", "--dtype", "float32")
    lines = proc.stdout.strip().splitlines()
    names = [line[:44].strip() for line in lines[1:]]
    assert names[:3] == ["import", "first fit (relu, softmax, adam)", "predict"]
    assert {"tanh", "sgd", "CSR input", "L1", "lbfgs"} <= set(names)
    for line in lines[1:]:
        wall, cpu = (float(v) for v in line[44:].split())
        assert wall > 0 and cpu > 0, line
