"""`python -m hearth`: the same command line as the `hearth` script."""

from hearth.cli import main

main()
