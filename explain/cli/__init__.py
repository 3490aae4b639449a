"""The command line (``explain`` / ``python -m explain``): one text to the terminal,
JSON or static renderings (``main``), or a file of texts to JSON lines (``batch``)."""
