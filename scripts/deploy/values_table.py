"""Generates the values table of the chart's README from the `# --` comments in values.yaml.

Usage: values_table.py CHART_DIR [--check]
Rewrites the part of CHART_DIR/README.md between <!-- values:begin --> and <!-- values:end -->; with
--check, changes nothing and exits 1 if the README is out of date (validate.sh runs it that way).
"""
import json
import pathlib
import re
import sys

import yaml

BEGIN, END = "<!-- values:begin -->", "<!-- values:end -->"
KEY = re.compile(r"^(\s*)([A-Za-z0-9_.-]+):(\s.*|)$")


def documented(lines):
    """(dotted path, description) for every key preceded by a `# --` comment, in file order."""
    stack, pending, out = [], None, []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("# --"):
            pending = [stripped[4:].strip()]
            continue
        if stripped.startswith("#"):
            if pending is not None:
                pending.append(stripped[1:].strip())
            continue
        if not stripped:
            pending = None
            continue
        m = KEY.match(line)
        if not m:
            continue  # list items and continuation lines
        indent = len(m.group(1))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, m.group(2)))
        if pending is not None:
            out.append((".".join(k for _, k in stack), " ".join(pending)))
            pending = None
    return out


def lookup(values, path):
    for part in path.split("."):
        values = values[part]
    return values


def table(chart):
    text = (chart / "values.yaml").read_text()
    values = yaml.safe_load(text)
    rows = ["| Key | Default | Description |", "| --- | --- | --- |"]
    for path, desc in documented(text.splitlines()):
        default = json.dumps(lookup(values, path), separators=(", ", ": "))
        rows.append(f"| `{path}` | `{default}` | {desc.replace('|', '&#124;')} |".replace("``", "`\"\"`"))
    return "\n".join(rows)


def main():
    chart = pathlib.Path(sys.argv[1])
    readme = chart / "README.md"
    current = readme.read_text()
    start, end = current.index(BEGIN) + len(BEGIN), current.index(END)
    wanted = current[:start] + "\n" + table(chart) + "\n" + current[end:]
    if "--check" in sys.argv:
        if wanted != current:
            print(f"{readme} is out of date: run python3 scripts/deploy/values_table.py {chart}", file=sys.stderr)
            return 1
        print(f"{readme}: values table up to date")
        return 0
    readme.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
