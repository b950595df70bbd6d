"""pytest-benchmark suites: ``pytest bench/suites --benchmark-only``.

Not part of the test suite (pyproject's ``testpaths`` is ``tests``); the
command-line benchmarks are the modules of ``bench/`` above.
"""
