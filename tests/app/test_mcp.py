"""EXPLAIN_MCP=1: the explain function as an MCP tool through Gradio's MCP server.

The MCP extra is optional (it pins an older pydantic), so the round trip runs where
`mcp` is importable; .ci/run gives it a venv of its own."""

import ast
import asyncio
import json
import os
import sys

import pytest
from serve import serving

TEXT = "The plot was dull, but the acting was wonderful."


def test_flag_is_off_by_default_and_explains_a_missing_extra(monkeypatch):
    import app

    monkeypatch.delenv("EXPLAIN_MCP", raising=False)
    assert "mcp_server" not in app.launch_options()
    monkeypatch.setenv("EXPLAIN_MCP", "1")
    monkeypatch.setitem(sys.modules, "mcp", None)  # as if the extra were not installed
    with pytest.raises(SystemExit, match=r'pip install "gradio\[mcp\]=='):
        app.launch_options()


def test_explain_json_is_an_mcp_tool(monkeypatch, tiny_path):
    if os.environ.get("EXPLAIN_REQUIRE_MCP") != "1":  # CI sets it: there a missing extra fails
        pytest.importorskip("mcp", reason='the MCP extra is not installed: pip install "gradio[mcp]"')
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    monkeypatch.setenv("EXPLAIN_MCP", "1")
    os.environ["EXPLAIN_LOCAL_MODELS"] = str(tiny_path("bert"))
    import app

    options = app.launch_options()
    assert options["mcp_server"] is True

    async def call(url):
        # ?tools= narrows the server to the one tool an agent needs.
        async with streamablehttp_client(url + "gradio_api/mcp/?tools=explain_json") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = (await session.list_tools()).tools
                answer = await session.call_tool(
                    "explain_json", {"text": TEXT, "model": tiny_path("bert").name, "target": "positive"}
                )
                return tools, answer

    with serving(app.build_demo(), **options) as url:
        tools, answer = asyncio.run(call(url))
    assert [t.name for t in tools] == ["explain_json"]
    assert set(tools[0].inputSchema["properties"]) == {
        "text",
        "model",
        "target",
        "text_pair",
        "candidate_labels",
        "hypothesis_template",
    }
    assert set(tools[0].inputSchema.get("required", ["text"])) <= {"text"}  # the rest are optional
    assert "signed word attributions" in tools[0].description
    assert not answer.isError, answer.content
    body = answer.content[0].text
    try:
        result = json.loads(body)
    except ValueError:
        result = ast.literal_eval(body)  # Gradio 6.31 sends a dict as its Python repr
    assert result["text"] == TEXT and result["target"] == "positive" and result["schema_version"]
