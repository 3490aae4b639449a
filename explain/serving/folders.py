"""Which folders on the server a visitor may name: the bundled default and those the
operator lists in EXPLAIN_LOCAL_MODELS. Anything else a visitor types is a Hub ID and
never touches the server's disk."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .. import env


@dataclass(frozen=True)
class FolderPolicy:
    """``default``: the model used when the visitor names none (a folder or a Hub ID).
    The operator's list is read from ``environ`` (default: the process environment) on
    each call, so it can change without a restart."""

    default: str
    environ: Optional[Mapping[str, str]] = None

    def allowed(self) -> dict:
        """{resolved folder: name as configured} for the folders that exist."""
        return {str(Path(p).resolve()): p for p in self._configured()}

    def _configured(self) -> list:
        """The default and the operator's folders, as configured, that exist (in order)."""
        listed = env.text("EXPLAIN_LOCAL_MODELS", "", self.environ)
        folders = [self.default] + [p for p in listed.split(os.pathsep) if p]
        return [p for p in folders if Path(p).is_dir()]

    def resolve(self, name: str) -> tuple:
        """Visitor input -> (source, allow_local). An operator's folder is named by its
        configured name only - the last name of the path it was configured with, as the
        page shows it (empty: the default); its path on the server, as configured or
        resolved, is refused like any other path, so a visitor cannot confirm where this
        server is installed."""
        name = (name or "").strip()
        configured = self._configured()
        if not name:
            if configured and configured[0] == self.default:
                return str(Path(self.default).resolve()), True
            return self.default, False
        for given in configured:
            if name == Path(given).name:
                return str(Path(given).resolve()), True
        return name, False

    def is_default(self, name: str) -> bool:
        return self.resolve(name)[0] == self.resolve("")[0]

    def default_name(self) -> str:
        """How the default is shown in the form: a folder's last name, or the Hub ID."""
        return Path(self.default).name if Path(self.default).is_dir() else self.default
