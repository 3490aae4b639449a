"""The app module, importable with the tiny BERT among the operator's allowed folders."""

import os

import pytest


@pytest.fixture(scope="session")
def app_module(tiny_path):
    os.environ["EXPLAIN_LOCAL_MODELS"] = str(tiny_path("bert"))
    import app

    return app
