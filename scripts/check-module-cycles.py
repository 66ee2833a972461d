#!/usr/bin/env python3
"""Fails when a crate's modules import each other in a circle.

Each crate's top-level modules (src/<m>.rs or src/<m>/) form a graph of
their `crate::<other>` references outside `#[cfg(test)]` code; the crate
root (lib.rs) is left out, since everything hangs from it. A circle means
two modules cannot be understood (or moved) apart: shared types belong
where both sides can depend on them.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
REF = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)")


def modules(src):
    mods = {}
    for p in src.rglob("*.rs"):
        rel = p.relative_to(src)
        if rel.parts[0] in ("lib.rs", "main.rs", "bin"):
            continue
        name = rel.parts[0][:-3] if len(rel.parts) == 1 else rel.parts[0]
        text = p.read_text()
        # Test code may reach anywhere; only what ships counts.
        text = text.split("#[cfg(test)]")[0]
        # Comments (doc links included) are not imports.
        text = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("//"))
        mods.setdefault(name, set()).update(REF.findall(text))
    return {m: {d for d in deps if d in mods and d != m} for m, deps in mods.items()}


def cycle(graph):
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d]
            if d not in state:
                found = visit(d)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


failed = False
crates = [ROOT / "core" / "src", ROOT / "wasm" / "src", ROOT / "lambda" / "src"]
crates += sorted(p / "src" for p in (ROOT / "lambda").iterdir() if (p / "src" / "lib.rs").exists())
for src in crates:
    if not src.exists():
        continue
    found = cycle(modules(src))
    if found:
        failed = True
        print(f"{src.relative_to(ROOT)}: modules import each other in a circle: {' -> '.join(found)}", file=sys.stderr)
sys.exit(1 if failed else 0)
