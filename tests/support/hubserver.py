"""A real Hub-compatible server on loopback for tests: olah (offline mirror mode)
serving git repos of tiny checkpoints, behind a small fault-injecting HTTP proxy.

The proxy forwards every request to olah unchanged unless a rule matches; rules make
the "Hub" answer like the real one does for gated / disabled / private repos, stall
(a slow Hub), or drop downloads (a Hub that goes away mid-way). olah itself runs in
its own virtual environment (its pins differ from the app's)."""

from __future__ import annotations

import http.client
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Optional

from net import free_port
from paths import ROOT

OLAH_VERSION = "0.5.4"
OLAH_VENV = Path(os.environ.get("EXPLAIN_OLAH_VENV", ROOT / ".venv-olah"))


def olah_cli() -> Path:
    """Path of olah-cli, installing olah into its own venv on first use (.ci/run does
    this ahead of time; PyPI is the only network it needs)."""
    cli = OLAH_VENV / "bin" / "olah-cli"
    if not cli.exists():
        subprocess.run([sys.executable, "-m", "venv", str(OLAH_VENV)], check=True)
        subprocess.run([str(OLAH_VENV / "bin" / "pip"), "install", "-q", f"olah=={OLAH_VERSION}"], check=True)
    return cli


def git_repo(mirrors: Path, repo_id: str, files: dict, *, tag: Optional[str] = None) -> Path:
    """Create (or add a commit to) mirrors/models/ORG/NAME as a git repo holding
    ``files`` ({name: bytes | Path}). Returns the repo folder."""
    folder = Path(mirrors) / "models" / repo_id
    fresh = not (folder / ".git").exists()
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    if fresh:
        subprocess.run(["git", "init", "-q", "-b", "main", str(folder)], check=True, env=env)
    for name, content in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_bytes(content)
    subprocess.run(["git", "-C", str(folder), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(folder), "commit", "-q", "-m", "checkpoint"], check=True, env=env)
    if tag:
        subprocess.run(["git", "-C", str(folder), "tag", tag], check=True, env=env)
    return folder


def head_commit(repo_folder: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(repo_folder), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()


class Olah:
    """olah-cli serving ``mirrors`` offline on a loopback port."""

    def __init__(self, mirrors: Path, workdir: Path, public_netloc: Optional[str] = None) -> None:
        self.mirrors, self.workdir = Path(mirrors), Path(workdir)
        self.port = free_port()
        self.netloc = f"127.0.0.1:{self.port}"
        self.public_netloc = public_netloc or self.netloc
        self.proc: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 300.0) -> Olah:  # a hang guard: a busy machine starts slowly
        cli = olah_cli()
        self.workdir.mkdir(parents=True, exist_ok=True)
        cfg = self.workdir / "olah.toml"
        cfg.write_text(
            "[basic]\n"
            f'host = "127.0.0.1"\nport = {self.port}\n'
            f'repos-path = "{self.workdir / "repos"}"\n'
            f'mirror-netloc = "{self.public_netloc}"\nmirror-lfs-netloc = "{self.public_netloc}"\n'
            f'mirrors-path = ["{self.mirrors}"]\n'
            "[accessibility]\noffline = true\n"
        )
        log = open(self.workdir / "olah.log", "wb")
        self.proc = subprocess.Popen([str(cli), "-c", str(cfg)], cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"olah exited: {(self.workdir / 'olah.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("olah did not start in time")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


# A rule sees (method, path, headers) and returns None (forward) or an action.
Rule = Callable[[str, str, dict], Optional[dict]]


class FaultProxy:
    """HTTP proxy on loopback in front of olah. ``rules`` are tried in order; an
    action is {"status", "headers", "body"} (answer), {"stall": seconds} (say nothing,
    then close), {"drop": True} (close at once), or {"json_patch": dict} (forward,
    then update the JSON body)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.rules: list = []
        self.log: list = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                proxy._handle(self)

            def do_HEAD(self):
                proxy._handle(self)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.netloc = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.netloc}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, h: http.server.BaseHTTPRequestHandler) -> None:
        headers = {k.lower(): v for k, v in h.headers.items()}
        self.log.append((h.command, h.path, headers))
        action = None
        for rule in list(self.rules):
            action = rule(h.command, h.path, headers)
            if action:
                break
        if action and "stall" in action:
            time.sleep(action["stall"])
            h.close_connection = True
            return
        if action and action.get("drop"):
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        if action and "status" in action:
            body = action.get("body", b"")
            h.send_response(action["status"])
            for k, v in action.get("headers", {}).items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            if h.command != "HEAD":
                h.wfile.write(body)
            return
        self._forward(h, headers, (action or {}).get("json_patch"))

    def _forward(self, h, headers: dict, patch: Optional[dict]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        fwd = {k: v for k, v in headers.items() if k not in ("host", "connection", "accept-encoding")}
        fwd["host"] = self.netloc
        conn.request(h.command, h.path, headers=fwd)
        resp = conn.getresponse()
        body = resp.read() if h.command != "HEAD" else b""
        if patch is not None and resp.status == 200:
            data = json.loads(body)
            data.update(patch)
            body = json.dumps(data).encode()
        h.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                continue
            h.send_header(k, v)
        length = resp.getheader("content-length") if h.command == "HEAD" else str(len(body))
        if length is not None:
            h.send_header("Content-Length", length)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)
        conn.close()


def repo_rule(
    repo_id: str,
    action: dict,
    *,
    api_only: bool = False,
    method: Optional[str] = None,
    suffix: Optional[str] = None,
    no_range: bool = False,
) -> Rule:
    """A rule matching requests about one repo (API and file routes)."""
    quoted = urllib.parse.quote(repo_id, safe="/")

    def rule(m: str, path: str, headers: dict):
        p = urllib.parse.unquote(path.split("?")[0])
        if f"/{repo_id}/" not in p + "/" and f"/{quoted}/" not in path + "/":
            return None
        if api_only and not p.startswith("/api/"):
            return None
        if method and m != method:
            return None
        if suffix and not p.endswith(suffix):
            return None
        if no_range and "range" in headers:
            return None
        return action

    return rule


GATED = {"status": 401, "headers": {"X-Error-Code": "GatedRepo", "X-Error-Message": "Access to model is restricted."}}
DISABLED = {"status": 403, "headers": {"X-Error-Message": "Access to this resource is disabled."}}
PRIVATE = {"status": 401, "headers": {"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"}}
