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

MAIN_SCRIPT_VARIABLE = "VAULTGATE_SANDBOX_MAIN_SCRIPT"

_script = os.environ.get(MAIN_SCRIPT_VARIABLE)
if _script:
    sys.modules["__main__"].__file__ = _script
