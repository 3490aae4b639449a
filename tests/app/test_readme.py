"""The README and docs/client-api.md against the app: the Space front matter against the
pins, every documented endpoint's inputs and the /explain outputs (by name) against
``get_api_info()``, and every gradio_client and curl example run against the app served
on loopback."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from docpages import DOCS, HUB_NLI, LOOPBACK, README, code_blocks, code_name, section, table
from paths import ROOT
from serve import serving

from explain import SCHEMA_VERSION

CLIENT_API = DOCS / "client-api.md"
HUB_COLOURS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}
NUMBERS = {4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten", 11: "eleven", 12: "twelve"}


def front_matter() -> dict:
    from huggingface_hub import metadata_load  # the Hub's own reader of README metadata

    data = metadata_load(README)
    assert data, "README.md has no front matter"
    return data


def pins() -> dict:
    out = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;#]+)", line.strip())
        if m:
            out[m.group(1).split("[")[0].lower()] = m.group(2)
    return out


def test_front_matter_is_what_spaces_accept():
    meta = front_matter()
    assert meta["sdk"] == "gradio"
    assert meta["sdk_version"] == pins()["gradio"], "sdk_version must equal the pinned gradio"
    assert meta["app_file"] == "app.py" and (ROOT / meta["app_file"]).is_file()
    assert meta["title"] and len(meta["title"]) <= 60
    assert 0 < len(meta["short_description"]) <= 60
    assert len(meta["emoji"]) == 1 and ord(meta["emoji"]) > 0x2000
    assert meta["colorFrom"] in HUB_COLOURS and meta["colorTo"] in HUB_COLOURS
    assert isinstance(meta["license"], str) and meta["license"]
    assert str(meta.get("python_version", "3.11")).startswith(f"{sys.version_info[0]}.")
    hub_models = ROOT / "examples" / "hub_models.json"
    models = meta.get("models", [])
    assert all(re.fullmatch(r"[\w.\-]+/[\w.\-]+", m) for m in models)
    if hub_models.is_file():  # the checkpoints the app offers, and only those
        assert models == [m["id"] for m in json.loads(hub_models.read_text())]


@pytest.fixture(scope="module")
def nli_model(tiny_path, tmp_path_factory) -> Path:
    """The tiny BERT relabelled as an NLI model: it stands in for the docs' Hub NLI model."""
    from relabel import relabelled

    return relabelled(tiny_path("bert"), tmp_path_factory.mktemp("readme") / "tiny-nli")


@pytest.fixture(scope="module")
def app_url(tiny_path, nli_model):
    """The app on loopback; 'minilm-rt-sentiment' in the examples is the bundled model, or,
    until that is built, the tiny BERT standing in for it."""
    os.environ["EXPLAIN_LOCAL_MODELS"] = os.pathsep.join([str(tiny_path("bert")), str(nli_model)])
    import app

    with serving(app.build_demo()) as url:
        yield url, app


def _model_for_snippets(app) -> str:
    bundled = ROOT / "examples" / "minilm-rt-sentiment" / "config.json"
    return (
        "minilm-rt-sentiment"
        if bundled.is_file() and Path(app.DEFAULT_MODEL).name == "minilm-rt-sentiment"
        else Path(os.environ["EXPLAIN_LOCAL_MODELS"].split(os.pathsep)[0]).name
    )


def _localise(snippet: str, url: str, app, nli: Path) -> str:
    return (
        snippet.replace(LOOPBACK, url.rstrip("/"))
        .replace('"minilm-rt-sentiment"', f'"{_model_for_snippets(app)}"')
        .replace(HUB_NLI, nli.name)
    )  # a visitor names an operator's folder by its name only


# --- the documented API is the app's ----------------------------------------------------------------


def test_every_endpoint_is_documented_with_its_inputs(app_url):
    _, app = app_url
    info = app.demo.get_api_info()["named_endpoints"]
    text = CLIENT_API.read_text(encoding="utf-8")
    headings = dict(re.findall(r"^## `(/\w+)`: (.*)$", text, re.M))
    assert set(headings) == set(info), "document every public endpoint (and only those) with a ## `/name`: heading"
    for name, heading in headings.items():
        params = [p["parameter_name"] for p in info[name]["parameters"]]
        listed = re.match(r"\((.*?)\) ->", heading)
        if listed:  # "(a, b, ...) -> ..." names the inputs in order
            assert listed.group(1).split(", ") == params, name
    assert [p["parameter_name"] for p in info["/explain_json"]["parameters"] if not p["parameter_has_default"]] == ["text"]


def test_explain_inputs_and_outputs_by_name(app_url):
    from space.panels import Panels

    _, app = app_url
    info = app.demo.get_api_info()["named_endpoints"]["/explain"]
    body = section(CLIENT_API, "`/explain`:")
    inputs = table(body, "| input |")
    params = info["parameters"]
    assert [code_name(row[0]) for row in inputs] == [p["parameter_name"] for p in params]
    for row, p in zip(inputs, params):
        if row[1].startswith("`"):  # a literal default (the others are described in words)
            assert json.loads(code_name(row[1]).replace("False", "false")) == p["parameter_default"], row
    required = len(params) - app.OPTIONAL_INPUTS["run_explain"]
    assert f"send the first\n{NUMBERS[required]}" in body or f"send the first {NUMBERS[required]}" in body
    outputs = table(body, "| output |")
    assert [code_name(row[0]) for row in outputs] == [r["label"] for r in info["returns"]], (
        "the /explain outputs, by the names the API gives them, in order"
    )
    assert [code_name(row[1]) for row in outputs] == list(Panels._fields)
    assert f"Its {len(info['returns'])} outputs" in body


# --- the examples run against the app -----------------------------------------------------------------


def client_blocks() -> list:
    return [
        pytest.param(page.name, k, block, id=f"{page.name}-{k}")
        for page in (README, CLIENT_API)
        for k, block in enumerate(b for b in code_blocks(page, "python") if "gradio_client" in b)
    ]


def test_the_client_examples_are_where_they_should_be():
    names = [param.values[0] for param in client_blocks()]
    assert names.count("README.md") == 1 and names.count("client-api.md") >= 4


@pytest.mark.slow
@pytest.mark.parametrize("page, k, block", client_blocks())
def test_client_example_runs(page, k, block, app_url, nli_model):
    url, app = app_url
    code = _localise(block, url, app, nli_model)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=dict(os.environ, PYTHONPATH=str(ROOT))
    )
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [line for line in out.stdout.splitlines() if not line.startswith("Loaded as API")]
    assert lines, block
    if "schema_version" in block:  # the first /explain_json example: schema, then three words
        assert lines[0].startswith(SCHEMA_VERSION + " ") and len(lines) == 4, out.stdout
    if "zero_shot" in block:  # the pair and zero-shot example on the NLI stand-in
        assert lines[0].startswith("A person makes music. ") and lines[1] == "[0, 1]", out.stdout
        predicted, hypotheses = lines[2].split(" ", 1)
        assert predicted in ("sports", "politics", "cooking")
        assert hypotheses == str(
            ["This text is about sports.", "This text is about politics.", "This text is about cooking."]
        ), out.stdout
    if "/hide_words" in block:
        assert lines[-1].startswith("before "), out.stdout
    if page == "README.md":  # predicted and explained, then three words
        assert len(lines) == 4 and lines[0].split()[0] in ("positive", "negative"), out.stdout


@pytest.mark.slow
def test_curl_example_runs(app_url, nli_model):
    if not shutil.which("curl"):
        pytest.skip("curl is not installed")
    url, app = app_url
    blocks = [b for b in code_blocks(CLIENT_API, "bash") if "curl" in b]
    assert len(blocks) == 1
    out = subprocess.run(
        ["bash", "-c", _localise(blocks[0], url, app, nli_model)], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("event: complete\ndata: "), out.stdout[:500]
    result = json.loads(out.stdout.split("data: ", 1)[1].splitlines()[0])[0]
    assert result["schema_version"] == SCHEMA_VERSION
    assert result["text"] == "The plot was dull, but the acting was wonderful."
