"""Renders the panels of deploy/monitoring/grafana-dashboard.json from a real Prometheus into one PNG.

Each panel's queries are evaluated with query_range over [--start, --end] (Grafana's variables replaced: all
jobs and namespaces, $__rate_interval = --rate-interval) and drawn where the dashboard places the panel
(gridPos, 24 columns): stat panels as their last value, coloured by the panel's thresholds; time series as
lines or bars, with the scenario's events (--events: [{"time", "label"}]) as vertical marks.

Run by scripts/observability/live.py at the end of its scenario (scripts/observability/check.sh --picture PNG);
needs matplotlib (scripts/observability/requirements-picture.txt).
"""
import argparse
import json
import math
import pathlib
import urllib.parse
import urllib.request

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "monitoring" / "grafana-dashboard.json"
BACKGROUND, PANEL, GRID, TEXT, DIM = "#111217", "#181b1f", "#2c3235", "#d8d9da", "#8e8e8e"
COLORS = ["#73bf69", "#f2cc0c", "#5794f2", "#ff9830", "#f2495c", "#b877d9", "#8ab8ff", "#ff7383"]
STATE_COLORS = {"fresh": "#73bf69", "failing": "#f2495c", "foreign": "#ff9830", "written": "#5794f2",
                "unchanged": "#73bf69", "failed": "#f2495c", "success": "#73bf69", "failure": "#f2495c",
                "throttled": "#b877d9"}
NAMED = {"green": "#73bf69", "orange": "#ff9830", "red": "#f2495c", "yellow": "#f2cc0c"}
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def query_range(prometheus, expr, start, end, step):
    params = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": step})
    with OPENER.open(f"{prometheus}/api/v1/query_range?{params}", timeout=30) as answer:
        data = json.load(answer)["data"]["result"]
    return [(r["metric"], [(float(t), float(v)) for t, v in r["values"]]) for r in data]


def legend(template, labels):
    text = template
    for key, value in labels.items():
        text = text.replace("{{" + key + "}}", value)
    while "{{" in text:
        a, b = text.index("{{"), text.index("}}") + 2
        text = text[:a] + text[b:]
    return " ".join(text.split()) or json.dumps(labels)


def duration(seconds):
    if math.isnan(seconds):
        return "-"
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    if seconds >= 3600:
        return f"{sign}{int(seconds // 3600)}h {int(seconds % 3600 // 60)}m"
    if seconds >= 60:
        return f"{sign}{int(seconds // 60)}m {int(seconds % 60)}s"
    if seconds >= 1:
        return f"{sign}{seconds:.0f}s"
    return f"{sign}{seconds * 1000:.0f}ms"


def clock(seconds):
    """An axis label precise to the second: 11:59:30 (hours:minutes:seconds)."""
    if math.isnan(seconds):
        return ""
    sign, seconds = ("-" if seconds < 0 else ""), int(round(abs(seconds)))
    return f"{sign}{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def formatter(unit):
    if unit in ("s", "dtdurations"):
        return duration
    return lambda v: "-" if math.isnan(v) else (f"{v:.0f}" if abs(v - round(v)) < 1e-9 else f"{v:.2f}")


def threshold_color(panel, value):
    steps = panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", [])
    color = TEXT
    for step in steps:
        if step["value"] is None or (not math.isnan(value) and value >= step["value"]):
            color = NAMED.get(step["color"], step["color"])
    return color


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--prometheus", required=True)
    parser.add_argument("--start", type=float, required=True)
    parser.add_argument("--end", type=float, required=True)
    parser.add_argument("--events", type=pathlib.Path)
    parser.add_argument("--rate-interval", default="15s")
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args()
    dashboard = json.loads(DASHBOARD.read_text())
    events = json.loads(args.events.read_text()) if args.events else []
    step = max(1.0, round((args.end - args.start) / 400, 1))
    variables = {"$__rate_interval": args.rate_interval, "$job": ".*", "$namespace": ".*"}

    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in dashboard["panels"])
    unit_h = 0.42  # inches per grid row
    header = 1.2
    width, height = 18.0, rows * unit_h + header
    fig = plt.figure(figsize=(width, height), facecolor=BACKGROUND)
    fig.text(0.01, 1 - 0.32 / height, dashboard["title"], color=TEXT, fontsize=15, weight="bold", va="center")
    fig.text(0.01, 1 - 0.68 / height,
             "Every panel of deploy/monitoring/grafana-dashboard.json, queried from a real Prometheus scraping the helper "
             "(real kube-apiserver, moto) during scripts/observability/check.sh.\nScenario: "
             + ", ".join(e["label"] for e in events) + ". Time axis: minutes:seconds since the start.",
             color=DIM, fontsize=9, va="center", linespacing=1.5)
    pad = 0.004

    def minutes(t):
        return (t - args.start) / 60

    for panel in dashboard["panels"]:
        g = panel["gridPos"]
        left = g["x"] / 24 + pad
        bottom = 1 - (header + (g["y"] + g["h"]) * unit_h) / height + pad
        box = [left, bottom, g["w"] / 24 - 2 * pad, g["h"] * unit_h / height - 2 * pad]
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "short")
        fmt = formatter(unit)
        frame = fig.add_axes(box, facecolor=PANEL)
        frame.set_xticks([])
        frame.set_yticks([])
        for spine in frame.spines.values():
            spine.set_color(GRID)
        frame.text(0.015, 0.96, panel["title"], color=TEXT, fontsize=10, weight="bold", va="top", transform=frame.transAxes)
        results = []
        for target in panel["targets"]:
            expr = target["expr"]
            for name, value in variables.items():
                expr = expr.replace(name, value)
            for labels, values in query_range(args.prometheus, expr, args.start, args.end, step):
                results.append((legend(target.get("legendFormat", ""), labels), values))
        if panel["type"] == "stat":
            value = next((v for _, values in results for _, v in reversed(values) if not math.isnan(v)), math.nan)
            shown = "0s" if unit == "dtdurations" and abs(value) < 1 else fmt(value)
            frame.text(0.5, 0.42, shown, color=threshold_color(panel, value), fontsize=26, weight="bold",
                       ha="center", va="center", transform=frame.transAxes)
            continue
        inner = [box[0] + 0.035 * box[2] + 0.02, box[1] + 0.16 * box[3], box[2] * 0.95 - 0.03, box[3] * 0.66]
        ax = fig.add_axes(inner, facecolor=PANEL)
        ax.tick_params(colors=DIM, labelsize=7)
        for spine in ax.spines.values():
            spine.set_color(GRID)
        ax.grid(color=GRID, linewidth=0.5)
        ax.set_xlim(0, minutes(args.end))
        ax.xaxis.set_major_locator(MaxNLocator(8))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{int(v)}:{int(round(v * 60)) % 60:02d}"))
        peak_value = max((abs(v) for _, values in results for _, v in values if not math.isnan(v)), default=0)
        if unit == "s":
            # Hours to the second for the countdown; milliseconds and seconds for latencies.
            label = clock if peak_value >= 120 else duration
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _, label=label: label(v)))
        custom = panel.get("fieldConfig", {}).get("defaults", {}).get("custom", {})
        bars = custom.get("drawStyle") == "bars"
        stacked = custom.get("stacking", {}).get("mode") == "normal"
        base = {}
        results.sort()
        for i, (name, values) in enumerate(results):
            xs = [minutes(t) for t, _ in values]
            ys = [v for _, v in values]
            known = [word for word in reversed(name.split()) if word in STATE_COLORS]
            color = STATE_COLORS[known[0]] if known else COLORS[i % len(COLORS)]
            if bars:
                # Counts per window (increase over $__rate_interval, one point per step) as filled steps,
                # stacked when the panel stacks.
                bottoms = [base.get(x, 0.0) for x in xs] if stacked else [0.0] * len(xs)
                tops = [b + (0.0 if math.isnan(y) else y) for b, y in zip(bottoms, ys)]
                ax.fill_between(xs, bottoms, tops, step="post", color=color, alpha=0.45 if stacked else 0.3,
                                linewidth=0)
                ax.step(xs, tops, where="post", color=color, label=name, linewidth=1.3,
                        linestyle=(0, (4, 3)) if i and not stacked else "-")
                if stacked:
                    base = dict(zip(xs, tops))
            elif custom.get("lineInterpolation") == "stepAfter" or stacked:
                ax.step(xs, ys, where="post", color=color, label=name, linewidth=1.6)
            else:
                # Dashed from the second series on: equal series (the oldest secret holds the current token)
                # stay visible on top of each other.
                ax.plot(xs, ys, color=color, label=name, linewidth=1.6, linestyle=(0, (4, 3)) if i else "-")
        seen = [v for _, values in results for _, v in values if not math.isnan(v)]
        if seen and min(seen) >= 0 and unit != "s":
            ax.set_ylim(0, max(1.0, max(seen) * 1.15))
        for event in events:
            x = minutes(event["time"])
            ax.axvline(x, color=DIM, linewidth=0.7, linestyle=":")
        if panel is dashboard["panels"][4]:
            for event in events:
                ax.text(minutes(event["time"]), 1.0, " " + event["label"], color=DIM, fontsize=6.5, rotation=90,
                        va="top", ha="left", transform=ax.get_xaxis_transform())
        if results:
            ax.legend(loc="upper left", bbox_to_anchor=(0, -0.12), ncol=4, fontsize=7, frameon=False, labelcolor=TEXT)
        else:
            ax.text(0.5, 0.5, "no data", color=DIM, ha="center", va="center", transform=ax.transAxes)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110, facecolor=BACKGROUND)
    print(f"wrote {args.out} ({len(dashboard['panels'])} panels, {minutes(args.end):.1f} minutes)")


if __name__ == "__main__":
    main()
