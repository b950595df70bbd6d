"""``summary()``: a fitted network's layers as a Keras-like table."""


def layer_rows(est):
    """One row per layer: input, each hidden layer, output.

    Returns
    -------
    list of dict
        ``layer``, ``units``, ``activation``, ``weights`` (coefficients into
        the layer), ``biases`` (its intercepts); the input layer has neither.
    """
    units = list(est._layer_units)
    rows = [
        {
            "layer": "input",
            "units": units[0],
            "activation": "",
            "weights": 0,
            "biases": 0,
        }
    ]
    n_hidden = len(units) - 2
    for i, (W, b) in enumerate(zip(est.coefs_, est.intercepts_, strict=True)):
        last = i == n_hidden
        rows.append(
            {
                "layer": "output" if last else f"hidden {i + 1}",
                "units": units[i + 1],
                "activation": est.out_activation_ if last else est.activation,
                "weights": int(W.size),
                "biases": int(b.size),
            }
        )
    return rows


def summary_text(est):
    """The table :meth:`summary` prints."""
    rows = layer_rows(est)
    weights = sum(r["weights"] for r in rows)
    biases = sum(r["biases"] for r in rows)
    header = ("layer", "units", "activation", "weights", "biases")
    table = [header] + [
        (
            r["layer"],
            str(r["units"]),
            r["activation"],
            f"{r['weights']:,}",
            f"{r['biases']:,}",
        )
        for r in rows
    ]
    widths = [max(len(row[c]) for row in table) for c in range(len(header))]

    def line(row):
        cells = [
            row[c].ljust(widths[c]) if c in (0, 2) else row[c].rjust(widths[c])
            for c in range(len(header))
        ]
        return "  ".join(cells).rstrip()

    rule = "-" * len(line(table[0]))
    dtype = est.coefs_[0].dtype
    out = [f'{type(est).__name__} (dtype {dtype}, device "{est.device_}")', rule]
    out += [line(table[0]), rule] + [line(row) for row in table[1:]] + [rule]
    out.append(f"Total parameters: {weights + biases:,}")
    out.append(f"  weights: {weights:,}")
    out.append(f"  biases:  {biases:,}")
    return "\n".join(out)
