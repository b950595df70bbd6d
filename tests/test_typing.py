"""The public API is typed (PEP 561 ``py.typed``), and mypy accepts it."""

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

import fastmlp

ROOT = Path(fastmlp.__file__).resolve().parent.parent


def test_the_package_is_marked_typed():
    assert (Path(fastmlp.__file__).parent / "py.typed").is_file()


@pytest.mark.parametrize("name", ["FastMLPClassifier", "FastMLPRegressor"])
def test_public_methods_have_annotations(name):
    cls = getattr(fastmlp, name)
    for method in ("__init__", "fit", "partial_fit", "predict"):
        sig = inspect.signature(getattr(cls, method))
        params = [p for p in sig.parameters.values() if p.name != "self"]
        missing = [p.name for p in params if p.annotation is inspect.Parameter.empty]
        assert not missing, f"{name}.{method}: {missing}"
        assert sig.return_annotation is not inspect.Signature.empty, method


def test_mypy_checks_the_package_clean():
    if not (ROOT / "pyproject.toml").exists():
        pytest.skip("needs the source tree's mypy configuration")
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_user_script_type_checks(tmp_path):
    pytest.importorskip("mypy")
    script = tmp_path / "user.py"
    script.write_text(
        "import numpy as np\n"
        "from fastmlp import FastMLPClassifier\n"
        "clf = FastMLPClassifier(hidden_layer_sizes=(8,), max_iter=5)\n"
        "fitted: FastMLPClassifier = clf.fit(np.zeros((4, 2)), [0, 1, 0, 1])\n"
        "proba: np.ndarray = fitted.predict_proba(np.zeros((1, 2)))\n"
        "bad: int = fitted.predict(np.zeros((1, 2)))\n"
    )
    # mypy does not follow setuptools' editable-install finder: point it at
    # the folder holding the fastmlp package; errors inside fastmlp are the
    # other test's business (silent), its types still reach the script.
    env = dict(os.environ, MYPYPATH=str(Path(fastmlp.__file__).parent.parent))
    flags = ["--no-incremental", "--follow-imports=silent", "--ignore-missing-imports"]
    out = subprocess.run(
        [sys.executable, "-m", "mypy", *flags, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    # Exactly the one wrong line is reported: the types reach the user.
    errors = [line for line in out.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and "user.py:6" in errors[0], out.stdout
