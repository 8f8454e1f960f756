"""``python -m digest`` is the ``digest`` console script."""

from digest.cli.main import main

main()
