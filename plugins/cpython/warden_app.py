"""The app module componentize-py builds Warden's CPython runner from: the standard library is
imported here, at build time, so it is in every instance's memory (there is no file system at
run time)."""

from warden_sdk._component.code_runner import export_runner

import runner  # noqa: F401  (the session resource)
import warden_cpython

#: Standard-library modules that did not import in this build (C extensions WASI lacks).
UNAVAILABLE = warden_cpython.preload()

Runner = export_runner()
