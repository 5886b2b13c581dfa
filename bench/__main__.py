"""``python -m bench``: see docs/benchmarks.md."""

from .run import main

main()
