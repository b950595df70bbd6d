"""The GPU window script (``bench/gpu_window.sh``) passes its simulator dry run.

The script is what a lent GPU runs in its few minutes: it must not rot between
windows. Here it runs whole, as on the device, with ``FASTMLP_GPU_WINDOW_SIM=1``
(numba-cuda's simulator, tiny sizes, no install), in a child process: every
stage must end, write its file under ``$OUT`` and the summary must print last.
Integration lane (``pytest -m integration``): about two minutes.
"""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        importlib.util.find_spec("numba_cuda") is None,
        reason="numba-cuda is not installed (pip install -e '.[test]' brings it)",
    ),
    pytest.mark.skipif(
        shutil.which("bash") is None or shutil.which("timeout") is None,
        reason="needs bash and coreutils' timeout",
    ),
]


def test_gpu_window_script_passes_its_simulator_dry_run(tmp_path):
    out = tmp_path / "out"
    env = dict(
        os.environ,
        OUT=str(out),
        FASTMLP_PYTHON=sys.executable,
        FASTMLP_GPU_WINDOW_SIM="1",
        FASTMLP_GPU_WINDOW_BUDGET_S="400",
    )
    env.pop("NUMBA_ENABLE_CUDASIM", None)  # the script sets it itself
    start = time.perf_counter()
    proc = subprocess.run(
        ["bash", str(ROOT / "bench" / "gpu_window.sh")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.perf_counter() - start
    log = (out / "window.log").read_text() if (out / "window.log").exists() else ""
    report = f"{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}\n--- log\n{log[-6000:]}"
    assert proc.returncode == 0, report
    # The summary is the last thing printed (only the output's end comes back).
    assert "=== GPU window summary ===" in proc.stdout, report
    tail = proc.stdout[proc.stdout.index("=== GPU window summary ===") :]
    for name in ("probe:plain", "pytest", "resources", "bench.gpu", "bench.run"):
        assert re.search(rf"^{re.escape(name)}\s+rc=0 ", tail, re.M), report
    assert "skipped: deadline" not in tail, report

    files = sorted(p.name for p in out.iterdir())
    assert len(files) <= 8 and all(p.is_file() for p in out.iterdir()), files
    for name in ("window.log", "probe_plain.json", "resources.json", "gpu.json"):
        assert name in files, (name, files)

    probe = json.loads((out / "probe_plain.json").read_text())
    assert probe["ok"], report
    for step in ("first_launch", "fit_fused_float32", "fit_tiled_float32"):
        assert probe["steps"][step]["ok"], probe["steps"][step]
    assert probe["steps"]["fit_fused_float32"]["device_"] == "cuda"
    # No low-occupancy warning reaches the user from fastmlp's own launches.
    for step in ("fit_fused_float32", "fit_tiled_float32"):
        assert not any("Grid size" in w for w in probe["steps"][step]["warnings"])

    gpu = json.loads((out / "gpu.json").read_text())
    assert gpu["simulated"] and not gpu.get("errors"), gpu.get("errors")
    for section in ("launches", "sgemm", "host", "sweep"):
        assert gpu[section], section
    fused, tiled = gpu["launches"]
    assert fused["fused"] and not tiled["fused"]
    assert gpu["sgemm"][0]["own_rel_err"] < 1e-5

    resources = json.loads((out / "resources.json").read_text())
    assert all(fit[-1] == "ok" for fit in resources["fits"]), resources["fits"]
    assert resources["kernels"]

    if "tuning.json" in files:
        tuning = json.loads((out / "tuning.json").read_text())
        assert tuning["rows"] and not any("error" in r for r in tuning["rows"])
    # Well inside the three minutes the issue allows on the 2-core machine
    # (generous here: the integration lane runs two such children at once).
    assert seconds < 400, seconds
