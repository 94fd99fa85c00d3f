"""Write Warden plugins in Python.

Subclass the base class of your plugin's world — :class:`Detector` (``pii-detector``),
:class:`TemplateEngine` (``template-engine``) or :class:`CodeRunner` with a :class:`Session`
(``code-runner``) — and ``warden plugin build`` turns the project into a WebAssembly component.
The classes here are plain Python: plugin logic unit-tests with pytest, no WebAssembly involved.

Text offsets are Python string indices (code points); Warden converts them to the UTF-8 byte
offsets of its interface when the plugin runs as a component.
"""

from .types import GuestFailure, InputError, Position
from .pii import DetectOptions, Detector, DetectorInfo, Finding
from .template import ChatMessage, RenderOptions, TemplateEngine, TemplateInfo
from .runner import CodeRunner, EvalOutput, Session, SessionOptions, ToolError, call_tool
from .span import Span, resolve_overlaps
from .context import ContextScorer
from . import checksum

__all__ = [
    "ChatMessage",
    "CodeRunner",
    "ContextScorer",
    "DetectOptions",
    "Detector",
    "DetectorInfo",
    "EvalOutput",
    "Finding",
    "GuestFailure",
    "InputError",
    "Position",
    "RenderOptions",
    "Session",
    "SessionOptions",
    "Span",
    "TemplateEngine",
    "TemplateInfo",
    "ToolError",
    "call_tool",
    "checksum",
    "resolve_overlaps",
]
