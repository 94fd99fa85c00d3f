"""Where componentize-py looks for the ``runner`` interface's session resource."""

from warden_sdk._component.code_runner import export_session
from warden_cpython import Runner as _Runner

Session = export_session(_Runner)
