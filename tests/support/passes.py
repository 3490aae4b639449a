"""Counting a model's forward passes in tests."""

import torch


def count_passes(model):
    """Record (rows, with gradient?) of every forward pass of ``model``: (the list, the hook handle)."""
    seen = []
    handle = model.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append((kwargs["input_ids"].shape[0], torch.is_grad_enabled())), with_kwargs=True
    )
    return seen, handle
