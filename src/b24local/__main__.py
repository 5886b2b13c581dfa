"""``python -m b24local``: the command line, for when the console script is not on
``PATH`` (the pytest plugin starts servers this way)."""

from b24local.cli import main

main()
