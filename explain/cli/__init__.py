"""The command line (``explain`` / ``python -m explain``): one text to the terminal,
JSON or static renderings, or a file of texts to JSON lines (``main``, with the engines
of ``explain.corpus``), and the dataset report of such a file (``report``)."""
