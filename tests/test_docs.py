"""The documentation follows the code. README.md and docs/*.md: their Python examples run as
written (a tiny NLI checkpoint stands in for the Hub NLI model they name), their command
lines run on the bundled model, their tables name what the code has (the options, the
result's fields, the deep-link parameters, the EXPLAIN_* settings and their defaults), and
every relative link points to a file and a heading that exist. The client examples run
against the app in tests/app/test_readme.py."""

import ast
import contextlib
import io
import json
import os
import re
import shlex
from dataclasses import fields
from pathlib import Path

import pytest
import torch
from docpages import DOCS, HUB_NLI, README, anchors, code_blocks, code_name, links, pages, section, table
from paths import DATA, DEFAULT_MODEL, ROOT

from explain import Explanation, Options

BUNDLED = "examples/minilm-rt-sentiment"
# Pages other branches add at merge, linked from these pages already: checked once they exist.
AT_MERGE: dict = {}  # pages another branch adds, linked before it lands (none now)
# Where each kind of Python block runs: here (plain), against the app (gradio_client, in
# tests/app/test_readme.py), or where the optional `datasets` package is installed.
PLAIN_PAGES = ("README.md", "python-api.md", "batch-and-ray.md")
# Pages whose gradio_client blocks a test runs against the app: tests/app/test_readme.py
# (README.md, client-api.md) and tests/space/test_many_api.py (dataset-tab.md).
CLIENT_PAGES = ("README.md", "client-api.md", "dataset-tab.md")


def kind(block: str) -> str:
    if "gradio_client" in block:
        return "client"
    if re.search(r"^import datasets", block, re.M):
        return "datasets"
    return "plain"


@pytest.fixture(scope="module")
def nli(tiny_path, tmp_path_factory) -> Path:
    """The tiny BERT relabelled as an NLI model: it stands in for the Hub NLI model."""
    from relabel import relabelled

    return relabelled(tiny_path("bert"), tmp_path_factory.mktemp("docs") / "tiny-nli")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A folder like a user's: the bundled model where the examples name it, and a small
    texts.jsonl of held-out review snippets."""
    if not (DEFAULT_MODEL / "config.json").is_file():
        pytest.skip("the bundled model is not built")
    folder = tmp_path_factory.mktemp("user")
    (folder / "examples").mkdir()
    (folder / "examples" / "minilm-rt-sentiment").symlink_to(DEFAULT_MODEL)
    rows = json.loads((DATA / "rt_heldout_200.json").read_text(encoding="utf-8"))["sentences"][:24]
    (folder / "texts.jsonl").write_text("".join(json.dumps({"text": r["text"]}) + "\n" for r in rows))
    return folder


@contextlib.contextmanager
def inside(folder: Path):
    here, threads = os.getcwd(), torch.get_num_threads()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(here)
        torch.set_num_threads(threads)  # a --threads example must not change the other tests'


def run_block(block: str, name: str, nli: Path) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block.replace(HUB_NLI, str(nli)), name, "exec"), {"__name__": "__docs__"})
    return out.getvalue()


# --- the examples run ------------------------------------------------------------------------


def test_every_python_block_has_a_runner():
    """A Python block on a page none of the runners reads would go untested."""
    for page in pages():
        for block in code_blocks(page, "python"):
            where = kind(block)
            if where == "client":
                assert page.name in CLIENT_PAGES, f"{page.name}: a gradio_client block no test runs"
            else:
                assert page.name in PLAIN_PAGES, f"{page.name}: a Python block no test runs"


@pytest.mark.parametrize("page", [README, DOCS / "python-api.md"], ids=lambda p: p.name)
def test_python_examples_run(page, nli):
    blocks = [b for b in code_blocks(page, "python") if kind(b) == "plain"]
    assert blocks, f"{page.name} has no Python example"
    if page.name == "python-api.md":
        assert len(blocks) >= 5 and any(HUB_NLI in b for b in blocks)
    with inside(ROOT):  # the examples name examples/... relative to the repository root
        for block in blocks:
            assert run_block(block, page.name, nli).strip(), block  # every example prints what it shows


@pytest.mark.slow
def test_batch_examples_run(workdir, nli):
    """The file-of-texts example and its report, in a user's folder with a texts.jsonl."""
    page = DOCS / "batch-and-ray.md"
    blocks = [b for b in code_blocks(page, "python") if kind(b) == "plain"]
    assert blocks
    with inside(workdir):
        for block in blocks:
            printed = run_block(block, page.name, nli)
            assert printed.strip(), block
    assert "24 24 0" in printed  # every text explained, none failed
    assert re.search(r"^(positive|negative) \d+ \[", printed, re.M), printed


@pytest.mark.slow
def test_datasets_example_runs(workdir, nli):
    pytest.importorskip("datasets", reason="the datasets example needs `datasets` (requirements-ray.txt)")
    blocks = [b for b in code_blocks(DOCS / "batch-and-ray.md", "python") if kind(b) == "datasets"]
    assert len(blocks) == 1
    with inside(workdir):
        assert run_block(blocks[0], "batch-and-ray.md", nli).strip()


def command_lines() -> list:
    """Every `python -m explain` line of the pages that runs offline on the bundled model
    (Hub IDs like org/name, Ray and shared storage left out), in page order, once each."""
    out = []
    for page in pages():
        for block in code_blocks(page, "bash"):
            for line in block.replace("\\\n", " ").splitlines():
                line = re.sub(r"\s+#.*$", "", line).strip()
                if not line.startswith("python -m explain") or re.search(r"org/name|--engine|/shared/", line):
                    continue
                if " report " not in line and BUNDLED not in line:
                    continue
                if line not in out:
                    out.append(line)
    return out


@pytest.mark.slow
def test_command_lines_run(workdir, capsys):
    from explain.cli.main import main

    lines = command_lines()
    assert any("--input texts.jsonl" in line for line in lines) and any(" report " in line for line in lines)
    with inside(workdir):
        for line in lines:
            argv = shlex.split(line)[3:]
            code = main(argv)
            printed = capsys.readouterr().out
            assert code == 0, (line, printed)
            assert printed.strip() or any(a.startswith("--output") or a in ("-o",) for a in argv), line
    assert (workdir / "report.md").is_file() and (workdir / "card.svg").is_file()


# --- the tables name what the code has --------------------------------------------------------


def test_the_options_table_is_options():
    rows = table(section(DOCS / "python-api.md", "Options"), "| option |")
    assert [code_name(r[0]) for r in rows] == [f.name for f in fields(Options)]
    for row, f in zip(rows, fields(Options)):
        assert ast.literal_eval(code_name(row[1])) == f.default, f"documented default of {f.name}: {row[1]}"


def test_the_result_table_is_the_result():
    rows = table(section(DOCS / "python-api.md", "The result"), "| field |")
    assert [code_name(r[0]) for r in rows] == [f.name for f in fields(Explanation)]


def test_the_deep_link_table_is_what_the_app_reads():
    from explain.serving.share import PARAMS

    rows = table(section(DOCS / "page-and-sharing.md", "Deep links"), "| parameter |")
    assert tuple(code_name(r[0]) for r in rows) == PARAMS


def _settings_in(paths) -> set:
    names = set()
    for path in paths:
        names |= set(re.findall(r"\bEXPLAIN_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(encoding="utf-8")))
    return names


def test_every_setting_is_documented_with_its_default():
    from explain.checkpoints.hub import HubPolicy
    from explain.checkpoints.load import DEFAULT_CACHE_BYTES, DEFAULT_CACHE_MODELS
    from explain.serving.limits import ServeLimits

    operating = DOCS / "operating.md"
    rows = table(section(operating, "Settings"), "| variable |")
    documented = {code_name(r[0]): r[1] for r in rows}
    code = [ROOT / "app.py", *ROOT.glob("space/*.py"), *ROOT.glob("explain/**/*.py")]
    read = _settings_in(code)
    assert read - set(documented) == set(), "settings the server reads that operating.md does not list"
    assert set(documented) - read == set(), "settings operating.md lists that nothing reads"
    tests_read = _settings_in(ROOT.glob("tests/**/*.py")) - read
    assert tests_read - _settings_in([operating]) == set(), "settings the tests read that operating.md does not name"
    # Each number's default, as the code has it (GB settings are stored in bytes).
    defaults = {"EXPLAIN_CACHE_MODELS": DEFAULT_CACHE_MODELS, "EXPLAIN_CACHE_GB": DEFAULT_CACHE_BYTES / 2**30}
    for settings in (ServeLimits, HubPolicy):
        plain = settings.from_env({})
        for name in documented:
            changed = [
                f.name for f in fields(settings) if getattr(settings.from_env({name: "7"}), f.name) != getattr(plain, f.name)
            ]
            if changed:
                value = getattr(plain, changed[0])
                defaults[name] = (
                    value / 2**30
                    if name.endswith("_GB")
                    else value / 2**20
                    if name.endswith("_MB") and value >= 2**20
                    else value
                )
    assert len(defaults) >= 20
    for name, value in defaults.items():
        shown = documented[name].split(";")[0].strip()
        assert float(shown) == pytest.approx(value), f"{name}: documented {documented[name]!r}, the code says {value}"


# --- the front page and the links ----------------------------------------------------------------


def test_readme_is_a_front_page_with_the_ci_test_command():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 210, "README.md is the Space card and front page: details go in docs/"
    bash = code_blocks(README, "bash")
    assert "pip install -r requirements.txt && python app.py\n" in bash
    test_command = "pip install -r requirements.txt -r tests/requirements.txt && python -m pytest -q tests\n"
    assert test_command in bash
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pip install -q -r requirements.txt -r tests/requirements.txt" in ci
    assert re.search(r"^python -m pytest -q tests$", ci, re.M), ".ci/run must run the README's test command"
    for page in sorted(DOCS.glob("*.md")):  # every page of docs/ is linked from the front page
        assert f"](docs/{page.name}" in text, f"README.md does not link docs/{page.name}"


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.name)
def test_relative_links_resolve(page):
    found = links(page)
    for file, anchor in found:
        target = (page.parent / file).resolve() if file else page
        where = target.relative_to(ROOT).as_posix() if target.is_relative_to(ROOT) else str(target)
        if not target.exists():
            assert where in AT_MERGE, f"{page.name} links {file}, which does not exist"
            continue
        if anchor:
            assert target.suffix == ".md", f"{page.name}: an anchor into {file}"
            assert anchor in anchors(target), f"{page.name} links {file}#{anchor}: no such heading"
