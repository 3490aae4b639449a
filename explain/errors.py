"""The few error types a user can see. Each carries a message naming the problem and
a fix; the app, the CLI and the API show them as they are."""

from __future__ import annotations


class ExplainError(Exception):
    """A problem the user can act on. ``str(err)`` is the full message."""

    code = "error"

    def __init__(self, problem: str, fix: str = "") -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem} {fix}".strip())

    def to_dict(self) -> dict:
        return {"error": self.code, "message": str(self), "problem": self.problem, "fix": self.fix}


class InvalidInput(ExplainError):
    """The text, target or options are not usable (empty text, unknown label...)."""

    code = "invalid_input"


class CheckpointNotFound(ExplainError):
    """No checkpoint at that ID, revision or folder."""

    code = "not_found"


class AccessDenied(ExplainError):
    """The checkpoint is private, gated or disabled."""

    code = "access_denied"


class UnsafeCheckpoint(ExplainError):
    """Loading would run code from the checkpoint, or it has no safetensors weights."""

    code = "unsafe"


class CheckpointTooLarge(ExplainError):
    """More parameters or bytes than this server allows."""

    code = "too_large"


class NotAClassifier(ExplainError):
    """The checkpoint is not a trained sequence classifier."""

    code = "not_a_classifier"


class BrokenCheckpoint(ExplainError):
    """Weights, config or tokenizer files are corrupt or inconsistent."""

    code = "broken"


class UnsupportedModel(ExplainError):
    """A real classifier whose structure this explainer cannot handle correctly."""

    code = "unsupported"


class HubUnavailable(ExplainError):
    """The model hub could not be reached, or answered too slowly."""

    code = "hub_unavailable"


class ServerBusy(ExplainError):
    """Too many requests, or the request ran past its deadline."""

    code = "busy"


class Abandoned(ExplainError):
    """Nobody waits for the run any more (the page that asked was closed): it stopped."""

    code = "abandoned"
