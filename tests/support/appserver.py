"""`python app.py` in its own process on a loopback port, for tests that attack it the way
a visitor of a public Space would: raw HTTP (Gradio's two-step /call/ protocol, as curl
uses it), resident memory of the server process, and its log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import httpx
from net import free_port
from paths import ROOT


def rss_mib(pid: int) -> float:
    """Resident memory of a process (Linux /proc/PID/status VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class AppServer:
    """The app as an operator runs it (``python app.py``), with ``env`` on top of ours."""

    def __init__(self, log: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = Path(log)
        self.env = dict(
            os.environ,
            GRADIO_SERVER_PORT=str(self.port),
            GRADIO_SERVER_NAME="127.0.0.1",
            HF_HUB_OFFLINE="1",
            GRADIO_ANALYTICS_ENABLED="False",
            OMP_NUM_THREADS="1",
            PYTHONUNBUFFERED="1",
            **env,
        )
        self.proc: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 600.0) -> AppServer:  # a hang guard: a busy machine starts slowly
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"app did not start in {timeout:g} s"
            try:
                if httpx.get(self.url + "config", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def rss(self) -> float:
        return rss_mib(self.proc.pid)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def submit(
    url: str, api_name: str, data, session_hash: Optional[str] = None, headers: Optional[dict] = None, timeout: float = 30.0
) -> httpx.Response:
    """Step one of Gradio's /call/ protocol (POST the inputs); the response holds the event id."""
    body = {"data": data}
    if session_hash is not None:
        body["session_hash"] = session_hash
    return httpx.post(f"{url}gradio_api/call/{api_name}", json=body, headers=headers or {}, timeout=timeout)


def result(url: str, api_name: str, event_id: str, timeout: float = 120.0) -> tuple:
    """Step two: read the server-sent events -> ("complete", [outputs]) or ("error", message)."""
    kind = None
    with httpx.stream("GET", f"{url}gradio_api/call/{api_name}/{event_id}", timeout=timeout) as resp:
        for line in resp.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and kind in ("complete", "error"):
                return kind, json.loads(line.split(":", 1)[1].strip())
    return kind, None


def call(
    url: str, api_name: str, data, session_hash: Optional[str] = None, headers: Optional[dict] = None, timeout: float = 120.0
) -> tuple:
    """Both steps, as the README's curl example does: ("complete", outputs), ("error", message)
    or ("refused", (HTTP status, body text)) when the POST itself is refused."""
    resp = submit(url, api_name, data, session_hash, headers, timeout)
    if resp.status_code != 200:
        return "refused", (resp.status_code, resp.text)
    return result(url, api_name, resp.json()["event_id"], timeout)


def fn_index(url: str, name: str) -> int:
    """The id of the event whose function is ``name`` (private events included), from /config."""
    config = httpx.get(url + "config", timeout=30).json()
    for dep in config["dependencies"]:
        if dep.get("api_name") == name:
            return dep["id"]
    raise KeyError(name)


def join(
    url: str,
    index: int,
    data,
    session_hash: str,
    headers: Optional[dict] = None,
    timeout: float = 30.0,
    raw: Optional[bytes] = None,
) -> httpx.Response:
    """The page's way in: POST /gradio_api/queue/join (``raw``: a body sent as is)."""
    body = (
        raw
        if raw is not None
        else json.dumps(
            {"data": data, "fn_index": index, "session_hash": session_hash, "event_data": None, "trigger_id": None}
        ).encode()
    )
    return httpx.post(
        f"{url}gradio_api/queue/join",
        content=body,
        timeout=timeout,
        headers={"content-type": "application/json", **(headers or {})},
    )


def listen(url: str, session_hash: str, timeout: float = 120.0) -> dict:
    """Read the session's stream until an event completes; returns its process_completed message."""
    with httpx.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": session_hash}, timeout=timeout) as resp:
        for line in resp.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return message
    raise RuntimeError("the stream ended without a result")
