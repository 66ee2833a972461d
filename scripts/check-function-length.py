#!/usr/bin/env python3
"""Fail when a function outside tests is longer than the limit (80 lines).

    scripts/check-function-length.py [--limit 80] [--list N] [DIR...]

Declarative tables (consts, statics) are not functions and are not counted;
`#[cfg(test)]` modules, `tests/`, `benches/`, `examples/` and `fuzz/` are
left out. The scan knows Rust's comments, strings, raw strings and char
literals well enough to match braces.
"""
import os
import re
import sys

def strip(src):
    """The source with comments, strings and char literals blanked out
    (newlines kept, so line numbers stay)."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            i = j
            continue
        if src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * src.count("\n", i, j))
            i = j
            continue
        m = re.match(r'b?r(#*)"', src[i:])
        if m and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            end = '"' + m.group(1)
            j = src.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append('""' + "\n" * src.count("\n", i, j))
            i = j
            continue
        if c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            out.append('""' + "\n" * src.count("\n", i, j))
            i = j + 1
            continue
        if c == "'":
            m = re.match(r"'(\\.|\\u\{[0-9a-fA-F]+\}|\\x[0-9a-fA-F]{2}|[^'\\])'", src[i:])
            if m:
                out.append("' '")
                i += m.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)

FN = re.compile(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)")

def closing(text, k):
    """The position of the brace that closes the one at `k`."""
    braces = 0
    while k < len(text):
        if text[k] == "{":
            braces += 1
        elif text[k] == "}":
            braces -= 1
            if braces == 0:
                break
        k += 1
    return k

def functions(text):
    """(name, first line, line count) of every fn with a body."""
    lines_at = [0]
    for k, ch in enumerate(text):
        if ch == "\n":
            lines_at.append(k + 1)
    def line_of(pos):
        lo, hi = 0, len(lines_at) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if lines_at[mid] <= pos:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1
    for m in FN.finditer(text):
        j, depth = m.end(), 0
        # The body starts at the first `{` outside parentheses/brackets; a
        # `;` first means a declaration without a body.
        while j < len(text):
            ch = text[j]
            if ch in "([<":
                depth += 1
            elif ch in ")]>":
                depth -= 1
            elif ch == ";" and depth <= 0:
                j = -1
                break
            elif ch == "{" and depth <= 0:
                break
            j += 1
        if j < 0 or j >= len(text):
            continue
        k = closing(text, j)
        start, end = line_of(m.start()), line_of(k)
        yield m.group(1), start, end - start + 1

def test_ranges(text):
    """Line ranges of `#[cfg(test)]` items."""
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(pub\s+)?mod\s+\w+\s*\{", text):
        k = closing(text, m.end() - 1)
        yield text.count("\n", 0, m.start()) + 1, text.count("\n", 0, k) + 1

def main():
    args = sys.argv[1:]
    limit, show = 80, 0
    if "--limit" in args:
        i = args.index("--limit")
        limit = int(args[i + 1])
        del args[i : i + 2]
    if "--list" in args:
        i = args.index("--list")
        show = int(args[i + 1])
        del args[i : i + 2]
    roots = args or ["core/src", "lambda", "wasm/src"]
    found = []
    for root in roots:
        for d, dirs, files in os.walk(root):
            dirs[:] = [x for x in dirs if x not in ("target", "tests", "benches", "examples", "fuzz", "node_modules")]
            for f in files:
                if not f.endswith(".rs") or f == "unicode_tables.rs":
                    continue
                path = os.path.join(d, f)
                text = strip(open(path, encoding="utf-8").read())
                skip = list(test_ranges(text))
                for name, start, count in functions(text):
                    if any(a <= start <= b for a, b in skip):
                        continue
                    found.append((count, path, start, name))
    found.sort(reverse=True)
    for count, path, start, name in found[:show]:
        print(f"{count:5} {path}:{start} {name}")
    long = [f for f in found if f[0] > limit]
    for count, path, start, name in long:
        print(f"{path}:{start}: fn {name} is {count} lines (limit {limit})", file=sys.stderr)
    return 1 if long else 0

if __name__ == "__main__":
    sys.exit(main())
