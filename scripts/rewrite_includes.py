#!/usr/bin/env python3
"""Rewrites "sim/x.h" and "mock-receivers/x.h" includes to the layered paths.

Issue 14 moved sim/'s flat files into layer folders (sim/base, sim/engine, ...)
and mock-receivers' server into mock-receivers/http. Branches written against
the flat layout can run this on their files after merging:

    python3 scripts/rewrite_includes.py FILE...      (no FILE: the whole tree)

It finds each header's new home by its file name in the current tree, so it
needs no table; header guards are rewritten to match the path too.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RENAMED = {"sim_network.h": "virtual_network.h"}


def headers():
    found = {}
    for top in ("sim", "mock-receivers"):
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if f.endswith(".h"):
                    rel = os.path.relpath(os.path.join(d, f), ROOT)
                    found.setdefault(f, []).append(rel)
    return found


def guard(path):
    return "HOOKSIM_" + re.sub(r"[^A-Za-z0-9]", "_", path).upper() + "_"


def rewrite(path, found):
    with open(path, encoding="utf-8") as f:
        text = f.read()

    def fix(m):
        old = m.group(2)
        name = RENAMED.get(os.path.basename(old), os.path.basename(old))
        homes = found.get(name, [])
        if old in homes or len(homes) != 1:
            return m.group(0)
        return m.group(1) + homes[0] + m.group(3)

    new = re.sub(r'(#include ")((?:sim|mock-receivers)/[^"]+)(")', fix, text)
    rel = os.path.relpath(path, ROOT)
    if rel.endswith(".h") and rel.startswith(("sim/", "mock-receivers/")):
        m = re.search(r"#ifndef (HOOKSIM_[A-Z0-9_]+_H_)\n#define \1\n", new)
        if m and m.group(1) != guard(rel):
            new = new.replace(m.group(1), guard(rel))
    if new != text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)
        return True
    return False


def main(argv):
    found = headers()
    files = argv[1:]
    if not files:
        for top in ("sim", "mock-receivers", "tests", "bench", "fuzz"):
            for d, _, names in os.walk(os.path.join(ROOT, top)):
                files += [os.path.join(d, n) for n in names
                          if n.endswith((".h", ".cc", ".cc.in"))]
    changed = sum(rewrite(f, found) for f in sorted(files))
    print(f"rewrite_includes: {changed} of {len(files)} files changed")


if __name__ == "__main__":
    main(sys.argv)
