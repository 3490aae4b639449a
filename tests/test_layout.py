"""The package's shape: import contracts, no cycles, lint, no import-time side effects,
app.py as wiring only, and an installable package with its `explain` command."""

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from paths import ROOT


def _run(*cmd, timeout=300, **kw):
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, **kw)


def test_import_contracts_hold():
    out = _run(
        sys.executable,
        "-c",
        "import sys; from importlinter.cli import lint_imports_command as c; sys.argv = ['lint-imports']; c()",
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout and "KEPT" in out.stdout


def test_no_import_cycle_inside_the_package():
    import grimp

    graph = grimp.build_graph("explain")
    mods = {m for m in graph.modules if m.startswith("explain")}
    # Tarjan's strongly connected components over direct imports (function-local ones included).
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in mods:
                continue
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
                cycles.append(sorted(comp))

    for m in sorted(mods):
        if m not in index:
            visit(m)
    assert cycles == []


def test_ruff_is_clean():
    out = _run(sys.executable, "-m", "ruff", "check", ".")
    assert out.returncode == 0, out.stdout[-3000:]
    out = _run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert out.returncode == 0, out.stdout[-3000:]  # `ruff format .` applied


def _imports(path: Path) -> set:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module)
    return imported


def test_app_is_wiring_only():
    """app.py is constants, layout, events and launch: no class, a few functions that build
    the page, no model libraries; the page's logic lives in space/, the rest in explain/."""
    source = (ROOT / "app.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert len(source.splitlines()) <= 300
    assert not [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert functions <= {"build_demo", "_examples", "launch_options", "visitor_cap"}, functions
    imported = _imports(ROOT / "app.py")
    ours = {m for m in imported if m.split(".")[0] == "explain"}
    assert not {m.split(".")[0] for m in imported} & {"torch", "transformers", "captum", "huggingface_hub"}
    assert all(m.split(".")[1] in ("serving", "render", "errors", "options") for m in ours), ours


def test_space_knows_gradio_and_serving_only():
    """space/ (the page's Gradio glue) imports no model library, and only the serving,
    render, result and errors parts of the package; Gradio's internals only in one module."""
    for path in sorted((ROOT / "space").glob("*.py")):
        imported = _imports(path)
        assert not {m.split(".")[0] for m in imported} & {"torch", "transformers", "captum", "huggingface_hub"}, path
        ours = {m for m in imported if m.split(".")[0] == "explain"}
        assert all(
            m.split(".")[1] in ("serving", "render", "errors", "result", "options", "logbook") for m in ours if "." in m
        ), (path, ours)
        private = {m for m in imported if m.startswith("gradio.")}
        assert path.name == "internals.py" or not private, (path, private)


def test_importing_the_package_has_no_side_effects():
    probe = (
        "import json, os, pkgutil, importlib, torch\n"
        "before = (dict(os.environ), torch.get_num_threads())\n"
        "import explain\n"
        "names = [m.name for m in pkgutil.walk_packages(explain.__path__, 'explain.')]\n"
        "for n in names:\n"
        "    importlib.import_module(n)\n"
        "after = (dict(os.environ), torch.get_num_threads())\n"
        "print(json.dumps({'same': before == after, 'modules': len(names)}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TOKENIZERS_PARALLELISM")}
    out = _run(sys.executable, "-c", probe, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["same"] and got["modules"] > 30
    assert "benchmarks" not in out.stdout


def test_pip_install_gives_the_explain_command(tmp_path):
    """`pip install .` in a fresh venv (over the installed packages, so nothing large is
    downloaded) -> a working `explain --help`, outside the source tree."""
    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", "--system-site-packages", str(venv)).returncode == 0
    pip = _run(
        str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(ROOT), timeout=600
    )
    assert pip.returncode == 0, pip.stdout[-2000:] + pip.stderr[-2000:]
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    for stale in ROOT.glob("*.egg-info"):
        shutil.rmtree(stale, ignore_errors=True)
    out = subprocess.run(
        [str(venv / "bin" / "explain"), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("usage: explain") and "--model" in out.stdout and "--method" in out.stdout
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import explain; print(explain.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert str(venv) in where.stdout, where.stdout + where.stderr


@pytest.mark.parametrize("module", ["benchmarks.bench", "benchmarks.cells"])
def test_benchmark_lives_outside_the_package(module):
    assert (ROOT / (module.replace(".", "/") + ".py")).is_file()
    assert not (ROOT / "explain" / "bench.py").exists()
