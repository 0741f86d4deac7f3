"""`python -m gateway` is the `vaultgate` command."""

from gateway.cli import main

# Guarded: job sandboxes start child processes that import the main module again.
if __name__ == "__main__":
    main()
