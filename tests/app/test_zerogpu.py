"""ZeroGPU (issue 15): the app's model-running functions are wrapped with ``spaces.GPU``
when the ``spaces`` package is importable, and left alone when it is not."""

import json
import os
import subprocess
import sys

import pytest
from paths import ROOT


@pytest.mark.slow
def test_the_app_wraps_its_model_functions_when_spaces_is_present(app_module, tmp_path):
    """With a ``spaces`` package on the path, every function of the app that runs a model is
    wrapped (here by a fake decorator that marks it); without one none is."""
    import inspect

    for name in ("run_explain", "explain_json", "labels_for", "model_changed", "labels_and_target"):
        fn = getattr(app_module, name)
        assert inspect.unwrap(fn) is fn and not hasattr(fn, "on_gpu"), name
    (tmp_path / "spaces.py").write_text(
        "import functools\n"
        "def GPU(fn=None, duration=None):\n"
        "    def wrap(f):\n"
        "        @functools.wraps(f)\n"
        "        def gpu(*a, **k):\n"
        "            return f(*a, **k)\n"
        "        gpu.on_gpu = duration\n"
        "        return gpu\n"
        "    return wrap(fn) if fn is not None else wrap\n"
    )
    probe = (
        "import app, json\n"
        "names = ['run_explain', 'explain_json', 'labels_for', 'model_changed', 'labels_and_target']\n"
        "events = {f'event {k}': getattr(f.fn, 'on_gpu', None) for k, f in app.demo.fns.items()\n"
        "          if f.concurrency_id == app.MODEL_GROUP}\n"
        "print(json.dumps({n: getattr(getattr(app, n), 'on_gpu', None) for n in names} | events))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    marks = json.loads(out.stdout.strip().splitlines()[-1])
    assert sum(k.startswith("event") for k in marks) >= 6, marks  # explain, on load, examples, labels...
    assert all(isinstance(v, int) and v >= 60 for v in marks.values()), marks
