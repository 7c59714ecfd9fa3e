#!/usr/bin/env python3
"""Fails when the modules of a crate depend on each other in a cycle.

For every crate's `src/` tree, a module is a file (`a.rs` or `a/mod.rs` is `a`, `a/b.rs` is
`a::b`). Module X depends on Y when X names `crate::Y…` or `super::Y…` (resolved to the deepest
module that exists). Edges between a module and its own ancestors or descendants are left out:
a parent re-exporting its children and children using the parent's shared types is how Rust
splits one module over files, not a cycle between concerns. What is reported are cycles among
the rest (strongly connected components of two or more modules), such as `a::x -> b -> a::x`. A file's inline `#[cfg(test)] mod tests` (at its bottom, by the project's
style) is left out too.

Usage: scripts/checks/module_cycles.py [SRC_DIR ...]   (default: every crate in the workspace)
Exit status 1 when a cycle is found.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ["src", "crates/unet/src", "crates/imaging/src", "crates/train/src", "crates/cli/src"]
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def module_of(src: Path, file: Path) -> tuple:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def referenced_paths(text: str, prefix: str):
    """Paths after `prefix::`, with `{a, b::c}` groups expanded one level."""
    for m in re.finditer(prefix + r"::(\{[^}]*\}|" + IDENT + r"(?:::" + IDENT + r")*)", text):
        body = m.group(1)
        if body.startswith("{"):
            for item in body[1:-1].split(","):
                item = item.strip()
                if re.match(IDENT, item):
                    yield tuple(item.split("::"))
        else:
            yield tuple(body.split("::"))


def deepest(modules: set, path: tuple):
    for n in range(len(path), 0, -1):
        if path[:n] in modules:
            return path[:n]
    return None


def related(a: tuple, b: tuple) -> bool:
    return a[: len(b)] == b or b[: len(a)] == a


def cycles(src: Path):
    files = sorted(p for p in src.rglob("*.rs"))
    modules = {module_of(src, f): f for f in files}
    edges = {m: set() for m in modules}
    for m, f in modules.items():
        text = re.sub(r"//[^\n]*", "", f.read_text())
        # The unit tests at the bottom of a file may use any neighbour; they are not part of the
        # module's dependencies.
        text = re.split(r"#\[cfg\(test\)\]\s*mod\s+" + IDENT + r"\s*\{", text)[0]
        targets = [deepest(modules, p) for p in referenced_paths(text, r"\bcrate")]
        # `super::` inside a.rs or a/mod.rs means a's parent.
        targets += [deepest(modules, m[:-1] + p) for p in referenced_paths(text, r"\bsuper")]
        for t in targets:
            if t is not None and not related(m, t):
                edges[m].add(t)
    # Tarjan's strongly connected components.
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in modules:
        if v not in index:
            visit(v)
    return out, edges


def main() -> int:
    dirs = sys.argv[1:] or [str(ROOT / d) for d in DEFAULT]
    found = 0
    for d in dirs:
        comps, edges = cycles(Path(d))
        for comp in comps:
            found += 1
            names = ["::".join(m) or "crate" for m in comp]
            print(f"{d}: cycle among {', '.join(names)}")
            for m in comp:
                inside = sorted("::".join(t) for t in edges[m] if t in comp)
                print(f"  {'::'.join(m) or 'crate'} -> {', '.join(inside)}")
    if found:
        return 1
    print(f"no module cycles in {len(dirs)} crate(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
