"""The README: Space front matter against the pins, the documented API against the app,
and its gradio_client and curl snippets run against the app served on loopback."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from paths import ROOT
from serve import serving

README = ROOT / "README.md"
HUB_COLOURS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}


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


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(title)
    end = text.find("\n#", start + len(title))
    return text[start:end if end > 0 else None]


def _block(lang: str, must_contain: str) -> str:
    blocks = re.findall(rf"```{lang}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    found = [b for b in blocks if must_contain in b]
    assert found, f"no ```{lang} block with {must_contain!r} in the README"
    return found[0]


@pytest.fixture(scope="module")
def nli_model(tiny_path, tmp_path_factory) -> Path:
    """The tiny BERT relabelled as an NLI model: it stands in for the README's Hub NLI model."""
    from relabel import relabelled

    return relabelled(tiny_path("bert"), tmp_path_factory.mktemp("readme") / "tiny-nli")


@pytest.fixture(scope="module")
def app_url(tiny_path, nli_model):
    """The app on loopback; 'minilm-rt-sentiment' in the snippets is the bundled model, or,
    until that is built, the tiny BERT standing in for it."""
    os.environ["EXPLAIN_LOCAL_MODELS"] = os.pathsep.join([str(tiny_path("bert")), str(nli_model)])
    import app

    with serving(app.build_demo()) as url:
        yield url, app


def _model_for_snippets(app) -> str:
    bundled = ROOT / "examples" / "minilm-rt-sentiment" / "config.json"
    return "minilm-rt-sentiment" if bundled.is_file() and Path(app.DEFAULT_MODEL).name == "minilm-rt-sentiment" \
        else os.environ["EXPLAIN_LOCAL_MODELS"].split(os.pathsep)[0]


def _localise(snippet: str, url: str, app) -> str:
    return snippet.replace("http://127.0.0.1:7860", url.rstrip("/")).replace(
        "minilm-rt-sentiment", _model_for_snippets(app))


def test_documented_endpoints_match_the_app(app_url):
    _, app = app_url
    info = app.demo.get_api_info()["named_endpoints"]
    section = _section("### `/explain`:")
    tables = re.findall(r"\| # \|.*?\n((?:\|.*\n)+)", section)
    inputs = [re.search(r"`(\w+)`", row).group(1) for row in tables[0].splitlines()[1:]]
    outputs = tables[1].splitlines()[1:]
    assert inputs == [p["parameter_name"] for p in info["/explain"]["parameters"]]
    assert len(outputs) == len(info["/explain"]["returns"]), "document every /explain output, in order"
    assert [p["parameter_name"] for p in info["/explain_json"]["parameters"]] == [
        "text", "model", "target", "text_pair", "candidate_labels", "hypothesis_template"]
    assert all(p["parameter_has_default"] for p in info["/explain_json"]["parameters"][1:])
    assert all(p["parameter_has_default"] for p in info["/explain"]["parameters"][9:])  # the optional ones
    documented = re.search(r"### `/explain_json`: \((.*?)\) -> result JSON", README.read_text()).group(1)
    assert documented.split(", ") == [p["parameter_name"] for p in info["/explain_json"]["parameters"]]


def test_readme_client_snippet_runs(app_url):
    url, app = app_url
    code = _localise(_block("python", "gradio_client"), url, app)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [line for line in out.stdout.splitlines() if not line.startswith("Loaded as API")]
    assert lines[0].startswith("1.") and len(lines) == 5, out.stdout  # schema, 3 words, prediction


def test_readme_curl_snippet_runs(app_url):
    if not shutil.which("curl"):
        pytest.skip("curl is not installed")
    url, app = app_url
    script = _localise(_block("bash", "curl"), url, app)
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("event: complete\ndata: "), out.stdout[:500]
    result = json.loads(out.stdout.split("data: ", 1)[1].splitlines()[0])[0]
    assert result["schema_version"] and result["text"] == "The plot was dull, but the acting was wonderful."


def test_readme_pair_and_zero_shot_snippet_runs(app_url, nli_model):
    """The text-pair and zero-shot snippet, on the tiny NLI model standing in for the Hub's."""
    url, app = app_url
    code = _localise(_block("python", "api_name=\"/explain_json\")\nprint(pair"), url, app)
    code = code.replace("cross-encoder/nli-deberta-v3-small", nli_model.name)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [line for line in out.stdout.splitlines() if not line.startswith("Loaded as API")]
    assert lines[0].startswith("A person makes music. ") and lines[1] == "[0, 1]", out.stdout
    predicted, hypotheses = lines[2].split(" ", 1)
    assert predicted in ("sports", "politics", "cooking")
    assert hypotheses == str(["This text is about sports.", "This text is about politics.",
                              "This text is about cooking."]), out.stdout
