"""`python -m localforce`: the same as the `localforce` command."""

from localforce.cli import main

main()
