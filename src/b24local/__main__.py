"""``python -m b24local``: the command line, for when the console script is not on
``PATH`` (the pytest plugin starts servers this way)."""

import sys

from b24local.cli import main

sys.argv[0] = "b24local"  # what usage and help messages call the program
main()
