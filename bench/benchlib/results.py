"""Tables and summary figures, rendered as Markdown (printed and written to
bench/RESULTS.md)."""


class Table:
    def __init__(self, title, what, columns):
        self.title = title
        self.what = what
        self.columns = columns
        self.rows = []
        self.notes = []

    def add(self, *cells):
        self.rows.append([fmt(c) for c in cells])

    def markdown(self):
        out = [f"### {self.title}", "", self.what, ""]
        out.append("| " + " | ".join(self.columns) + " |")
        out.append("|" + "---|" * len(self.columns))
        for r in self.rows:
            out.append("| " + " | ".join(r) + " |")
        for n in self.notes:
            out.append("")
            out.append(f"- {n}")
        out.append("")
        return "\n".join(out)


class Figure:
    """One summary line: a value per supervisor, the better direction, an
    optional physical reference, and the issue's target with a verdict."""

    def __init__(self, name, unit, values, better="lower", reference=None, target="",
                 verdict=""):
        self.name = name
        self.unit = unit
        self.values = values  # peer -> float, or a string saying why not measured
        self.better = better
        self.reference = reference  # (label, float) or None
        self.target = target
        self.verdict = verdict

    def best_peer(self):
        peers = [(k, v) for k, v in self.values.items()
                 if k != "luvsup" and isinstance(v, (int, float))]
        if not peers:
            return None
        pick = min if self.better == "lower" else max
        return pick(peers, key=lambda kv: kv[1])

    def ratio(self):
        lv = self.values.get("luvsup")
        best = self.best_peer()
        if not isinstance(lv, (int, float)) or best is None or best[1] == 0:
            return "n/a"
        return f"{lv / best[1]:.2f}"


def fmt(v):
    if v is None:
        return "—"
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 100:
            return f"{v:.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        if abs(v) >= 1:
            return f"{v:.2f}"
        return f"{v:.3f}"
    return str(v)


def summary_markdown(figures, peer_names):
    cols = ["figure"] + peer_names + ["luvsup / best peer", "reference", "target", "verdict"]
    out = ["## Summary", "",
           "Each figure for each supervisor; the ratio is luvsup's value over the best peer's "
           "(below 1 is better for 'lower is better' figures, above 1 for throughput).", "",
           "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for f in figures:
        cells = [f"{f.name} ({f.unit}, {f.better} is better)"]
        for p in peer_names:
            v = f.values.get(p)
            cells.append(fmt(v) if isinstance(v, (int, float)) else f"n/m: {v}" if v else "—")
        best = f.best_peer()
        ratio = f.ratio()
        cells.append(f"{ratio} (vs {best[0]})" if best and ratio != "n/a" else ratio)
        cells.append(f"{f.reference[0]}: {fmt(f.reference[1])}" if f.reference else "—")
        cells.append(f.target or "—")
        cells.append(f.verdict or "—")
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    return "\n".join(out)
