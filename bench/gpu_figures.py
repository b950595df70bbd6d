"""Figures and the README table from a GPU window's ``gpu.json``.

    python -m bench.gpu_figures bench/measured/h200-2026-12-04/window3_gpu.json

writes ``bench/figures/gpu_sweep.png`` (training samples/s against batch size,
per width, fastmlp and PyTorch CUDA) and prints the sweep as a markdown table
with the paired ratio (fastmlp / PyTorch, measured in the same run).
"""

import argparse
import json
from pathlib import Path


def sweep_table(doc):
    """The sweep of ``doc`` as markdown rows: width, batch, samples/s, ratio."""
    lines = [
        "| width | batch | fastmlp samples/s | PyTorch samples/s | fastmlp / PyTorch |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in sorted(doc.get("sweep", []), key=lambda r: (r["width"], r["batch"])):
        lines.append(
            f"| {row['width']} | {row['batch']:,} | "
            f"{row['fastmlp_samples_per_s']:,.0f} | "
            f"{row['torch_samples_per_s']:,.0f} | {row['fastmlp_over_torch']:.2f} |"
        )
    return "\n".join(lines)


def plot_sweep(doc, path):
    """Samples/s against batch size, one colour per width (log-log)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = doc.get("sweep", [])
    widths = sorted({r["width"] for r in rows})
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, width in enumerate(widths):
        mine = sorted(
            (r for r in rows if r["width"] == width), key=lambda r: r["batch"]
        )
        color = f"C{i}"
        batches = [r["batch"] for r in mine]
        ax.plot(
            batches,
            [r["fastmlp_samples_per_s"] for r in mine],
            "o-",
            color=color,
            label=f"fastmlp, width {width}",
        )
        ax.plot(
            batches,
            [r["torch_samples_per_s"] for r in mine],
            "x--",
            color=color,
            alpha=0.6,
            label=f"PyTorch, width {width}",
        )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel("training samples/s")
    ax.set_title(f"{doc.get('device', 'GPU')}: fastmlp vs PyTorch CUDA fp32 (TF32 off)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gpu_json", type=Path)
    parser.add_argument(
        "--figure", type=Path, default=Path("bench/figures/gpu_sweep.png")
    )
    args = parser.parse_args(argv)
    doc = json.loads(args.gpu_json.read_text())
    plot_sweep(doc, args.figure)
    print(sweep_table(doc))
    print(f"\nfigure: {args.figure}")


if __name__ == "__main__":
    main()
