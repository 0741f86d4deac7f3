"""Imported by the fork server (`jobs.sandbox`) only: its children must not run the parent's main script again.

A child started by multiprocessing re-runs its parent's main script unless it finds it loaded already, and
CPython 3.11's fork server never loads it (`set_forkserver_preload(["__main__"])` passes the script under a
key the server does not read). For `vaultgate serve`, a console script, that is the whole gateway imported
again in every sandboxed child: about a second each. What a sandboxed child runs lives in importable
modules, never in the main script, so the fork server's own `__main__` is named as that script instead.
"""

from __future__ import annotations

import os
import sys

# Named in `jobs.sandbox`, which sets it; repeated here so that nothing but the fork server imports this module.
_MAIN_SCRIPT_VARIABLE = "VAULTGATE_SANDBOX_MAIN_SCRIPT"

_script = os.environ.get(_MAIN_SCRIPT_VARIABLE)
# Only in the fork server, whose `__main__` (started with `python -c`) has no file of its own.
if _script and getattr(sys.modules["__main__"], "__file__", None) is None:
    sys.modules["__main__"].__file__ = _script
