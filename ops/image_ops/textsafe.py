"""Text that is safe for a terminal: log fields, file names, S3 keys, alarm reasons and
server headers come from outside and may carry escape sequences (a forged log line can
clear the screen, retitle the window, hide text or fake a line of the report).

``safe_text`` replaces every character that is not printable (C0/C1 controls including
ESC, CR, LF and TAB, DEL, Unicode format characters such as bidi overrides, line and
paragraph separators, unassigned code points) by a visible escape: ``\\x1b``, ``\\u202e``.
Printable text, ASCII or not, is left alone. JSON output needs no help: ``json.dumps``
escapes control characters itself.
"""

from __future__ import annotations


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def safe_text(text: str) -> str:
    """``text`` with every non-printable character shown as an escape."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def safe_lines(text: str) -> str:
    """Multi-line ``text`` (lines joined by newlines) made safe line by line."""
    return "\n".join(safe_text(line) for line in text.split("\n"))
