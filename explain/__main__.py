"""``python -m explain``: the command line (see ``explain.cli``)."""

import sys

from .cli.main import main

if __name__ == "__main__":
    sys.exit(main())
