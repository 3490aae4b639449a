"""Hub I/O in a child process, so that a slow, stalled or vanishing Hub can always be
cut off: the parent kills this process at its deadline and nothing is left hanging
(huggingface_hub retries with back-off for tens of seconds, and a trickling server
can outlast any per-read timeout).

The child runs this file as a script (no torch, no explain package); the parent
imports only ``HubChild``, its handle on the child. Protocol: one JSON
request per stdin line, ``{"op": ..., **args}``; one JSON answer per stdout line,
either the result or ``{"fail": kind, "detail": text}``. Every call passes
``token=False``: a server's own token never reaches a visitor-chosen repo."""

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from typing import Optional


def _fail_kind(exc: BaseException) -> str:
    """Name the failure; the parent turns kinds into user messages."""
    import httpx2
    from huggingface_hub import errors as e

    if isinstance(exc, (e.LocalEntryNotFoundError, e.DryRunError)) and exc.__cause__ is not None:
        return _fail_kind(exc.__cause__)  # "cannot reach the repo": say why
    if isinstance(exc, e.GatedRepoError):  # a subclass of RepositoryNotFoundError: first
        return "gated"
    if isinstance(exc, e.DisabledRepoError):
        return "disabled"
    if isinstance(exc, e.RevisionNotFoundError):
        return "revision_not_found"
    if isinstance(exc, e.RepositoryNotFoundError):
        return "not_found"
    if isinstance(exc, httpx2.TimeoutException):
        return "timeout"
    if isinstance(
        exc, (httpx2.TransportError, e.OfflineModeIsEnabled, e.LocalEntryNotFoundError, e.DryRunError, ConnectionError)
    ):
        return "unreachable"
    if isinstance(exc, e.EntryNotFoundError):
        return "entry_not_found"
    if isinstance(exc, (e.SafetensorsParsingError, e.NotASafetensorsRepoError)):
        return "bad_safetensors"
    if isinstance(exc, e.HfHubHTTPError):
        status = getattr(getattr(exc, "response", None), "status_code", None)
        return "busy" if status == 429 else ("server_error" if status and status >= 500 else "http")
    if isinstance(exc, ValueError) and "size" in str(exc).lower():
        return "size_mismatch"
    return "error"


def _status(exc: BaseException):
    """The HTTP status of an error the Hub answered with, if any."""
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def _reason(exc: BaseException):
    """Why a connection failed, in one word the parent turns into a sentence (never the
    library's or the OS's own text, which names URLs and error numbers)."""
    import socket
    import ssl

    import httpx2

    seen = 0
    while exc is not None and seen < 12:
        if isinstance(exc, socket.gaierror):
            return "dns"
        if isinstance(exc, ConnectionRefusedError):
            return "refused"
        if isinstance(exc, ssl.SSLError):
            return "tls"
        if isinstance(exc, (httpx2.RemoteProtocolError, httpx2.ReadError, ConnectionResetError, BrokenPipeError)):
            return "disconnected"
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def _info(api, repo_id, revision, timeout):
    mi = api.model_info(repo_id, revision=revision, token=False, timeout=timeout)
    total = getattr(getattr(mi, "safetensors", None), "total", None)
    return {
        "sha": mi.sha,
        "private": bool(mi.private),
        "gated": mi.gated or False,
        "disabled": bool(mi.disabled),
        "files": [s.rfilename for s in (mi.siblings or [])],
        "parameters": total,
    }


def _exists(api, repo_id, timeout):
    """Does the repo answer on main? (tells a missing revision from a missing repo on
    servers that answer both with 401)"""
    try:
        api.model_info(repo_id, revision="main", token=False, timeout=timeout)
        return True
    except Exception:  # noqa: BLE001 - any failure means "no"
        return False


def _config(repo_id, sha, cache_dir, max_bytes, timeout):
    from huggingface_hub import hf_hub_download

    kw = dict(repo_id=repo_id, filename="config.json", revision=sha, cache_dir=cache_dir, token=False, etag_timeout=timeout)
    dry = hf_hub_download(dry_run=True, **kw)
    if dry.file_size is not None and dry.file_size > max_bytes:
        return {"too_big": dry.file_size}
    path = hf_hub_download(**kw)
    if os.path.getsize(path) > max_bytes:
        return {"too_big": os.path.getsize(path)}
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return {"config": json.loads(text)}
    except (ValueError, RecursionError) as exc:
        return {"fail": "bad_config", "detail": str(exc)[:200]}


def _parameters(repo_id, sha, timeout):
    from huggingface_hub import get_safetensors_metadata

    meta = get_safetensors_metadata(repo_id, revision=sha, token=False, timeout=timeout)
    return {"parameters": int(sum(meta.parameter_count.values()))}


def _dryrun(repo_id, sha, files, cache_dir, timeout):
    from huggingface_hub import snapshot_download

    plan = snapshot_download(
        repo_id,
        revision=sha,
        allow_patterns=files,
        cache_dir=cache_dir,
        token=False,
        etag_timeout=timeout,
        dry_run=True,
        max_workers=4,
    )
    return {"files": [{"name": p.filename, "size": p.file_size, "will_download": p.will_download} for p in plan]}


def _download(repo_id, sha, files, cache_dir, timeout):
    from huggingface_hub import snapshot_download

    folder = snapshot_download(
        repo_id, revision=sha, allow_patterns=files, cache_dir=cache_dir, token=False, etag_timeout=timeout, max_workers=2
    )
    return {"folder": folder}


class HubChild:
    """The Hub I/O child process: one JSON request/answer per line, each with a deadline."""

    def __init__(self, policy) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")}
        timeout = str(max(1, round(policy.timeout_s)))
        env.update(
            HF_HUB_OFFLINE="0",
            HF_HUB_DISABLE_IMPLICIT_TOKEN="1",
            HF_TOKEN_PATH=os.devnull,
            HF_HUB_DISABLE_PROGRESS_BARS="1",
            HF_HUB_DISABLE_TELEMETRY="1",
            HF_HUB_ETAG_TIMEOUT=timeout,
            HF_HUB_DOWNLOAD_TIMEOUT=timeout,
            PYTHONIOENCODING="utf-8",
        )
        if policy.endpoint:
            env["HF_ENDPOINT"] = policy.endpoint
        self.timeout_s = policy.timeout_s
        # The first answer also waits for the child's start-up (imports), slow on a busy machine.
        self._startup_s = 15.0
        self._err = tempfile.TemporaryFile()
        # -P: the script's folder (explain/) must not shadow installed modules.
        self.proc = subprocess.Popen(
            [sys.executable, "-P", __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._err,
            env=env,
            text=True,
            encoding="utf-8",
        )
        self._lines: queue.Queue[Optional[str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def call(self, op: str, deadline_s: float, what: str = "Asking the Hub about", **args) -> dict:
        """One request; a child that has not answered by ``deadline_s`` is killed."""
        try:
            self.proc.stdin.write(json.dumps({"op": op, "timeout": self.timeout_s, **args}) + "\n")
            self.proc.stdin.flush()
            line = self._lines.get(timeout=deadline_s + self._startup_s)
            self._startup_s = 0.0
        except queue.Empty:
            self.kill()
            return {"fail": "deadline", "detail": f"{what} {args.get('repo_id')} took longer than {deadline_s:g} s"}
        except OSError:
            line = None
        if line is None:
            return {"fail": "died", "detail": f"the Hub helper process stopped: {self._stderr_tail()}"}
        return json.loads(line)

    def _stderr_tail(self) -> str:
        try:
            self._err.seek(0)
            text = self._err.read().decode("utf-8", "replace")
        except OSError:
            return "no details"
        return " ".join(text.split())[-300:] or "no details"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def __enter__(self) -> "HubChild":
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()
        self._err.close()


def main() -> None:
    from huggingface_hub import HfApi

    api = HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None, token=False)
    for line in sys.stdin:
        req = json.loads(line)
        op, repo_id, timeout = req["op"], req["repo_id"], req.get("timeout", 5.0)
        try:
            if op == "info":
                out = _info(api, repo_id, req.get("revision") or "main", timeout)
            elif op == "config":
                out = _config(repo_id, req["sha"], req["cache_dir"], req["max_bytes"], timeout)
            elif op == "parameters":
                out = _parameters(repo_id, req["sha"], timeout)
            elif op == "dryrun":
                out = _dryrun(repo_id, req["sha"], req["files"], req["cache_dir"], timeout)
            elif op == "download":
                out = _download(repo_id, req["sha"], req["files"], req["cache_dir"], timeout)
            else:
                out = {"fail": "error", "detail": f"unknown op {op!r}"}
        except Exception as exc:  # noqa: BLE001 - report, keep the protocol going
            kind = _fail_kind(exc)
            if (
                kind == "not_found"
                and op == "info"
                and (req.get("revision") or "main") != "main"
                and _exists(api, repo_id, timeout)
            ):
                kind = "revision_not_found"
            out = {
                "fail": kind,
                "detail": f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:400],
                "status": _status(exc),
                "reason": _reason(exc),
            }
        except BaseException as exc:  # Rust panics (pyo3 PanicException) are BaseException
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            out = {"fail": "error", "detail": f"{type(exc).__name__}: {exc}"[:400]}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
