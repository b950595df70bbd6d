"""``python -m fastmlp.playground``: run the course's scenarios.

python -m fastmlp.playground list
python -m fastmlp.playground <scenario> [<scenario> ...] --out DIR
python -m fastmlp.playground all --out DIR
python -m fastmlp.playground serve [--port N] [--host 127.0.0.1] [--open]
"""

import argparse
import sys
import time


def serve_main(argv):
    """``serve``: the live Playground in a browser."""
    from ._server import serve

    parser = argparse.ArgumentParser(
        prog="python -m fastmlp.playground serve",
        description="The live TensorFlow Playground, trained by fastmlp: a local "
        "web page (loopback only by default).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=0, help="port (0: a free one)")
    parser.add_argument("--open", action="store_true", help="open a browser")
    args = parser.parse_args(argv)
    serve(args.host, args.port, open_browser=args.open)
    return 0


def main(argv=None):
    from .scenarios import SCENARIOS, run_scenario, write_scenario

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        return serve_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m fastmlp.playground",
        description="Run the Playground course's scenarios: pictures (PNG) and a "
        "text summary with the measured outcome, per scenario.",
    )
    parser.add_argument(
        "scenario",
        nargs="+",
        help="'serve' (the live page), 'list', 'all', or scenario names: "
        + ", ".join(SCENARIOS),
    )
    parser.add_argument("--out", default="playground_out", help="output folder")
    parser.add_argument(
        "--no-plots", action="store_true", help="only the text summary (no matplotlib)"
    )
    args = parser.parse_args(argv)

    if args.scenario == ["list"]:
        for name, function in SCENARIOS.items():
            first = (function.__doc__ or "").strip().splitlines()
            print(f"{name:<22} {first[0] if first else ''}")
        return 0
    names = list(SCENARIOS) if args.scenario == ["all"] else args.scenario
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; 'list' shows them")
    for name in names:
        start = time.perf_counter()
        result = run_scenario(name, plots=not args.no_plots)
        paths = write_scenario(result, args.out)
        print(f"== {name} ({time.perf_counter() - start:.1f} s): {result.question}")
        print(result.summary)
        print("wrote " + ", ".join(str(p) for p in paths) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
