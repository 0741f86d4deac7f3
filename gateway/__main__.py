"""`python -m gateway` is the `vaultgate` command."""

from gateway.cli import main

main()
