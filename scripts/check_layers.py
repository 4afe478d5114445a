#!/usr/bin/env python3
"""Checks that every #include under sim/ and mock-receivers/ follows the
layer table in README.md's "Layout" section (rows "| `folder` | `a`, `b` |":
a file in `folder` may include its own folder's headers and those of the
layers listed, nothing else). Prints FILE:LINE for each wrong-way include and
exits 1; exits 0 when every include keeps to the table.

    python3 scripts/check_layers.py [--root DIR]
    python3 scripts/check_layers.py --self-test   (the checker must reject a
                                                   wrong-way include in a
                                                   temporary tree)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOPS = ("sim", "mock-receivers")
ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|([^|]*)\|")
INCLUDE = re.compile(r'^\s*#\s*include\s+"((?:sim|mock-receivers)/[^"]+)"')


def read_table(root):
    """{layer folder: set of folders it may include}, from the README."""
    table = {}
    in_layout = False
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("## "):
                in_layout = line.strip() == "## Layout"
                continue
            m = ROW.match(line) if in_layout else None
            if m:
                table[m.group(1).rstrip("/")] = set(
                    x.rstrip("/") for x in re.findall(r"`([^`]+)`", m.group(2)))
    return table


def layer_of(path, table):
    """The longest layer folder that holds `path`, or None."""
    best = None
    for layer in table:
        if path.startswith(layer + "/") and (best is None or len(layer) > len(best)):
            best = layer
    return best


def check(root):
    table = read_table(root)
    if not table:
        print("check_layers: no layer table in README.md's Layout section")
        return 1
    problems = []
    for layer, deps in table.items():
        for d in deps - set(table):
            problems.append(f"README.md: layer {layer} lists unknown layer {d}")
    for top in TOPS:
        for d, _, files in sorted(os.walk(os.path.join(root, top))):
            for name in sorted(files):
                if not name.endswith((".h", ".cc", ".cc.in")):
                    continue
                rel = os.path.relpath(os.path.join(d, name), root)
                own = layer_of(rel, table)
                if own is None:
                    problems.append(f"{rel}: in no layer of README.md's table")
                    continue
                with open(os.path.join(root, rel), encoding="utf-8") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        target = m.group(1)
                        to = layer_of(target, table)
                        if to is None:
                            problems.append(f"{rel}:{n}: includes {target}, "
                                            "which is in no layer")
                        elif to != own and to not in table[own]:
                            problems.append(
                                f"{rel}:{n}: {own} must not include {target} "
                                f"(layer {to}); {own} may include: "
                                + (", ".join(sorted(table[own])) or "nothing"))
    for p in problems:
        print(p)
    if problems:
        print(f"check_layers: {len(problems)} include(s) against the direction")
        return 1
    print(f"check_layers: every include keeps to the {len(table)} layers")
    return 0


def self_test():
    """The checker passes a tree that keeps to the table and fails, naming
    the file and line, on one that does not."""
    tmp = tempfile.mkdtemp(prefix="check_layers.")
    try:
        with open(os.path.join(tmp, "README.md"), "w") as f:
            f.write("# x\n## Layout\n| layer | may include |\n|---|---|\n"
                    "| `sim/base` | - |\n| `sim/cli` | `sim/base` |\n"
                    "| `mock-receivers` | `sim/base` |\n## Next\n")
        for path, text in {
            "sim/base/a.h": "#include <string>\n",
            "sim/cli/c.h": '#include "sim/base/a.h"\n',
            "mock-receivers/r.h": '#include "sim/base/a.h"\n',
        }.items():
            os.makedirs(os.path.join(tmp, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(tmp, path), "w") as f:
                f.write(text)
        me = [sys.executable, os.path.abspath(__file__), "--root", tmp]
        good = subprocess.run(me, capture_output=True, text=True)
        if good.returncode != 0:
            print("self-test: a tree that keeps to the table failed:\n" + good.stdout)
            return 1
        with open(os.path.join(tmp, "mock-receivers/r.h"), "a") as f:
            f.write('#include "sim/cli/c.h"\n')
        bad = subprocess.run(me, capture_output=True, text=True)
        if bad.returncode != 1 or "mock-receivers/r.h:2:" not in bad.stdout:
            print("self-test: a wrong-way include was not reported as "
                  "mock-receivers/r.h:2:\n" + bad.stdout)
            return 1
        print("check_layers self-test: a wrong-way include is rejected:\n  "
              + bad.stdout.splitlines()[0])
        return 0
    finally:
        shutil.rmtree(tmp)


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if len(argv) == 3 and argv[1] == "--root":
        root = argv[2]
    elif len(argv) != 1:
        print(__doc__)
        return 2
    return check(root)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
