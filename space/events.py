"""One factory for the page's event chains: every run clears the last run's share panel
(no queue), explains in the model group (one concurrency group for everything that loads
or runs a model) and then fills the share panel; every checkpoint change loads its labels
in the same group. Private events are not listed in the API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .handlers import Page
from .panels import ModelPanels, Panels, Sharing

PRIVATE = {"api_visibility": "private"}


@dataclass
class Events:
    """The page's chains on ``page``'s handlers; ``gpu`` wraps each function that runs a model."""

    page: Page
    form: list  # the /explain inputs, in its order
    panels: Panels  # the result components
    sharing: Sharing  # the share panel's components
    error: Any  # the inline error component
    model_panels: ModelPanels  # what loading a checkpoint fills
    group: str
    concurrency: int
    gpu: Callable[[Callable], Callable] = lambda fn: fn

    @property
    def model(self) -> dict:
        """Settings of an event that loads or runs a model. Inputs arrive as sent
        (preprocess=False): the service checks every type itself."""
        return {"concurrency_limit": self.concurrency, "concurrency_id": self.group, "preprocess": False}

    def shared(self, dependency):
        """... then the share panel of the session's result."""
        return dependency.then(self.page.share_panel, None, list(self.sharing), **PRIVATE)

    def explaining(self, dependency, api_name: str, public: bool = False):
        """``dependency`` (a trigger's listener, e.g. ``button.click``, or a chain) -> clear the
        last run -> explain the form -> share. ``api_name`` names the event (``public``: listed
        in the API)."""
        start = dependency.then if hasattr(dependency, "then") else dependency
        started = start(self.page.start_run, None, list(self.sharing) + [self.error], queue=False, **PRIVATE)
        visibility = {} if public else PRIVATE
        run = started.then(
            self.gpu(self.page.run_explain),
            self.form,
            list(self.panels),
            api_name=api_name,
            show_progress_on=[self.panels.words],
            **visibility,
            **self.model,
        )
        return self.shared(run)

    def loading(self, dependency, checkpoint, loaded):
        """... then load the checkpoint's labels (unless they are loaded already)."""
        return dependency.then(
            self.gpu(self.page.model_changed), [checkpoint, loaded], list(self.model_panels), **PRIVATE, **self.model
        )
