"""The parameter count a config implies, measured in a child process under a time and a
memory limit: a config whose model takes minutes or gigabytes merely to describe (on
PyTorch's meta device, which holds shapes and no weights) costs its deadline, never a
load slot or the Hub download lock, and never the server's memory.

The child runs this file as a script (torch and transformers, no explain package); the
parent imports only ``SizingChild``, its handle on the child. The child's imports take
seconds, so it starts once, serves one request at a time and leaves by itself after
``idle_s`` seconds without one; a request past its deadline gets it killed, and the next
request starts a fresh one. Protocol: one JSON line each way. After its imports (and a
warm-up build) the child says ``{"ready": true}``; then per request
``{"config": {...}, "memory_bytes": n}`` -> ``{"parameters": n}`` or
``{"fail": kind, "detail": text}``, both with ``cpu_s`` (the child's CPU time for the
request) and ``peak_bytes`` (its peak resident memory during it above the level before,
where Linux tells)."""

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from typing import Optional

IDLE_EXIT = 75  # the child's exit status when it leaves for lack of work (EX_TEMPFAIL)


class SizingChild:
    """The sizing child process, started on first use and restarted after a kill."""

    def __init__(self, idle_s: float = 300.0, startup_s: float = 90.0) -> None:
        self.idle_s = float(idle_s)
        self.startup_s = float(startup_s)  # imports on a busy machine; not charged to a request's deadline
        self._lock = threading.Lock()
        self._proc: Optional[subprocess.Popen] = None
        self._lines: queue.Queue[Optional[str]] = queue.Queue()
        self._ready = False
        self.started = 0  # processes started so far (tests count them)

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        """Start the child now if none is running (returns at once; its imports go on in
        the background), so that a request soon after finds it ready. Never waits: a
        child busy with a request is running already."""
        if self._lock.acquire(blocking=False):
            try:
                self._spawn()
            finally:
                self._lock.release()

    def _spawn(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        env = dict(
            os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false", PYTHONIOENCODING="utf-8"
        )
        for secret in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
            env.pop(secret, None)
        lines: queue.Queue[Optional[str]] = queue.Queue()
        # -P: the script's folder (explain/checkpoints) must not shadow installed modules.
        proc = subprocess.Popen(
            [sys.executable, "-P", __file__, str(self.idle_s)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=tempfile.TemporaryFile(),
            env=env,
            text=True,
            encoding="utf-8",
        )
        threading.Thread(target=_pump, args=(proc, lines), name="explain-sizing", daemon=True).start()
        self._proc, self._lines, self._ready = proc, lines, False
        self.started += 1

    def kill(self) -> None:
        """Stop the child (if any); the next request starts a fresh one."""
        proc, self._proc, self._ready = self._proc, None, False
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()

    @property
    def pid(self) -> Optional[int]:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    # -- requests ---------------------------------------------------------------------
    def count(self, config: dict, deadline_s: float, memory_bytes: int) -> dict:
        """The child's answer for ``config`` (see the module's docstring), or
        ``{"fail": "deadline" | "died" | "busy" | "startup"}`` from this side. Waits for
        another request at most its deadline plus a start-up."""
        if not self._lock.acquire(timeout=self.startup_s + deadline_s):
            return {"fail": "busy"}
        try:
            for attempt in (1, 2):
                answer = self._ask(config, deadline_s, memory_bytes)
                # A child that left for lack of work just as this request came: once more.
                if answer.get("fail") == "idle" and attempt == 1:
                    continue
                return answer
            return {"fail": "died"}
        finally:
            self._lock.release()

    def _ask(self, config: dict, deadline_s: float, memory_bytes: int) -> dict:
        self._spawn()
        if not self._ready:
            first = self._get(self.startup_s)
            if first is None or "ready" not in first:
                self.kill()
                return {"fail": "startup" if first is None else first.get("fail", "startup")}
            self._ready = True
        try:
            self._proc.stdin.write(json.dumps({"config": config, "memory_bytes": int(memory_bytes)}) + "\n")
            self._proc.stdin.flush()
        except OSError:
            return self._ended()
        got = self._get(deadline_s)
        if got is None:
            if self._proc is not None and self._proc.poll() is None:
                self.kill()
                return {"fail": "deadline"}
            return self._ended()
        if got.get("fail") in ("memory", "died"):
            self.kill()  # its heap is not to be trusted after running out
        return got

    def _get(self, seconds: float) -> Optional[dict]:
        try:
            line = self._lines.get(timeout=max(0.0, seconds))
        except queue.Empty:
            return None
        if line is None:
            return None
        return json.loads(line)

    def _ended(self) -> dict:
        proc = self._proc
        status = proc.wait() if proc is not None else None
        self._proc, self._ready = None, False
        return {"fail": "idle" if status == IDLE_EXIT else "died"}


def _pump(proc: subprocess.Popen, lines: "queue.Queue[Optional[str]]") -> None:
    for line in proc.stdout:
        lines.put(line)
    lines.put(None)


# --- the child ---------------------------------------------------------------------------


def _say(answer: dict) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


def _status_bytes(field: str) -> Optional[int]:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_peak() -> None:
    try:  # Linux: "5" resets the peak resident size (VmHWM) to the current one
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _count(raw: dict) -> int:
    import torch
    from transformers import CONFIG_MAPPING, AutoModelForSequenceClassification

    config = CONFIG_MAPPING[raw["model_type"]].from_dict(dict(raw))
    with torch.device("meta"):
        model = AutoModelForSequenceClassification.from_config(config, attn_implementation="eager")
    return int(sum(p.numel() for p in model.parameters()))


def _serve(req: dict) -> dict:
    import resource

    raw = req.get("config")
    if not isinstance(raw, dict) or not isinstance(raw.get("model_type"), str):
        return {"fail": "unsupported", "detail": "no model_type"}
    from transformers import CONFIG_MAPPING

    if raw["model_type"] not in CONFIG_MAPPING:
        return {"fail": "unsupported", "detail": raw["model_type"][:100]}
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    data, size, peak = _status_bytes("VmData"), _status_bytes("VmSize"), _status_bytes("VmPeak")
    limit = None
    if data is not None and req.get("memory_bytes"):
        limit = data + int(req["memory_bytes"])
        limit = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))

    def out_of_memory(exc: BaseException) -> bool:
        # Running out shows as MemoryError, or as whatever the C code that got no memory
        # raised (SystemError, RuntimeError "...alloc..."): when this request took the
        # process's peak size to within 10% of its limit, it ran out of memory.
        if isinstance(exc, MemoryError) or any(w in str(exc).lower() for w in ("alloc", "memory")):
            return True
        after = _status_bytes("VmPeak")
        return (
            limit is not None
            and None not in (size, peak, after)
            and after > peak
            and after - size >= 0.9 * int(req["memory_bytes"])
        )

    try:
        return {"parameters": _count(raw)}
    except Exception as exc:  # noqa: BLE001 - any failure to build the shapes: refuse, never allocate
        if out_of_memory(exc):
            return {"fail": "memory", "detail": "out of memory"}
        text = " ".join(str(exc).split())[:200]
        unknown = isinstance(exc, ValueError) and ("Unrecognized configuration" in text or "model type" in text)
        return {"fail": "not_a_classifier" if unknown else "broken", "detail": f"{type(exc).__name__}: {text}"}
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))


def main() -> None:
    import select

    idle_s = float(sys.argv[1]) if len(sys.argv) > 1 else 300.0
    import torch

    torch.set_num_threads(1)
    _count(
        {
            "model_type": "bert",
            "vocab_size": 32,
            "hidden_size": 8,
            "num_hidden_layers": 1,
            "num_attention_heads": 1,
            "intermediate_size": 8,
        }
    )  # warm-up: transformers' lazy imports
    _say({"ready": True})
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], idle_s)
        if not ready:
            sys.exit(IDLE_EXIT)
        line = sys.stdin.readline()
        if not line:
            return
        _reset_peak()
        base = _status_bytes("VmRSS")
        cpu = time.process_time()
        try:
            out = _serve(json.loads(line))
        except BaseException as exc:  # Rust panics and the like: report, keep the protocol going
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            out = {"fail": "broken", "detail": type(exc).__name__}
        out["cpu_s"] = round(time.process_time() - cpu, 4)
        peak = _status_bytes("VmHWM")
        out["peak_bytes"] = peak - base if peak is not None and base is not None else None
        _say(out)


if __name__ == "__main__":
    main()
