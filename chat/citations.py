"""Citation markers in a generator's answer, checked and renumbered as the answer streams.

The check, not the prompt, keeps the answer to what was retrieved: whatever
the model writes, a marker can only name a passage it was given.
"""

from __future__ import annotations

import re

# A citation marker: brackets (ASCII or full-width) around numbers, ranges and separators, spaced any way and in
# any script's digits (int() reads them all): [2], [ 3], [1, 4], [1-3], and the same in full-width characters.
_LIST = r"[\d\s,;\-\u2013\uff0c\u3001]"  # en dash, full-width and ideographic commas
_MARKER = re.compile(rf"[\[\uff3b]({_LIST}*)[\]\uff3d]")
_LIST_SO_FAR = re.compile(rf"{_LIST}*")
_CITED = re.compile(r"(\d+)\s*[-\u2013]\s*(\d+)|(\d+)")
_BETWEEN = re.compile(r"[\s,;\uff0c\u3001]*")
_DIGIT = re.compile(r"\d")
_OPENING, _CLOSING = "[\uff3b", "]\uff3d"
# Held back no longer than this (a list of all 20 passages, spaced, fits): a longer list is no citation, and is
# dropped rather than shown with numbers that match no citation.
_LONGEST_MARKER = 128
# Spaces before a marker are held back with it (a dropped marker takes them along), but only this many.
_SPACES_HELD = 32
# No passage has a longer number; int() refuses digit strings past 4300 digits, and costs quadratic time to them.
_LONGEST_NUMBER = 9


class CitationCheck:
    """The generator's text as it streams, with its citation markers checked and renumbered.

    `[n]` (or `[n, m]`, `[n-m]`) naming a passage given becomes `[k]`, k the order of that passage's first
    mention, so the k-th citation event is the source of `[k]`; a number no passage has is dropped, with the
    spaces before its marker, and so is a bracketed list of numbers that is not a list of citations. A marker is
    held back until it closes, since it may arrive split across tokens. Each piece of text is read whole, by
    regular expressions, and what is held back is bounded: a hostile stream costs time in proportion to its size.
    """

    def __init__(self, passages: int) -> None:
        self.passages = passages
        # Indexes into the passages, in the order the answer first cites them.
        self.cited: list[int] = []
        self._held = ""
        # Inside a marker too long to hold: its text is dropped up to its end.
        self._skipping = False

    def feed(self, text: str) -> str:
        """The part of the text so far that can be shown: everything but a marker (and spaces) still open."""
        if self._skipping:
            text = self._skipped(text)
            if self._skipping:
                return ""
        text, self._held = self._held + text, ""
        shown: list[str] = []
        position = 0
        for match in _MARKER.finditer(text):
            before = text[position : match.start()]
            marker = self._renumbered(match.group(1))
            if marker is None:
                shown += (before, match.group())
            else:
                shown += (before if marker else before.rstrip(" "), marker)
            position = match.end()
        shown.append(self._hold(text[position:]))
        return "".join(shown)

    def end(self) -> str:
        """What was held back when the text ends: spaces, or a "[" that opened nothing (an unclosed "[12", the
        text cut off mid-marker, is dropped: its number may match no citation)."""
        held, self._held = self._held, ""
        if self._skipping:
            self._skipping = False
            return ""
        opening = max(held.rfind(bracket) for bracket in _OPENING)
        return "" if opening >= 0 and _DIGIT.search(held, opening) else held

    def _hold(self, tail: str) -> str:
        """`tail` (holding no whole marker) but what may open one: a marker's start, and spaces before it."""
        opening = max(tail.rfind(bracket) for bracket in _OPENING)
        if opening >= 0 and _LIST_SO_FAR.fullmatch(tail, opening + 1):
            if len(tail) - opening - 1 > _LONGEST_MARKER:
                self._skipping = True
                return tail[:opening].rstrip(" ")
        else:
            opening = len(tail)
        shown = tail[:opening].rstrip(" ")
        start = max(len(shown), opening - _SPACES_HELD)
        self._held = tail[start:]
        return tail[:start]

    def _skipped(self, text: str) -> str:
        """The text after the end of the marker being dropped (its closing bracket, or the first character no
        marker holds), if it ends in `text`."""
        end = _LIST_SO_FAR.match(text)
        assert end is not None  # it matches the empty string
        rest = text[end.end() :]
        if not rest:
            return ""
        self._skipping = False
        return rest[1:] if rest[0] in _CLOSING else rest

    def _renumbered(self, body: str) -> str | None:
        """The marker with `body` between its brackets, renumbered ("" if it names no passage given), or None if
        it holds no number at all (`[ ]` is text)."""
        if not _DIGIT.search(body):
            return None
        shown: list[str] = []
        for number in self._numbers(body) if len(body) <= _LONGEST_MARKER else []:
            if number - 1 not in self.cited:
                self.cited.append(number - 1)
            marker = f"[{self.cited.index(number - 1) + 1}]"
            if marker not in shown:
                shown.append(marker)
        return "".join(shown)

    def _numbers(self, body: str) -> list[int]:
        """The passage numbers `body` names, in order; none unless it is a list of numbers and ranges."""
        numbers: list[int] = []
        position = 0
        for cited in _CITED.finditer(body):
            if not _BETWEEN.fullmatch(body, position, cited.start()):
                return []
            first, last, single = cited.groups()
            low, high = (first, last) if single is None else (single, single)
            numbers += range(max(_number(low), 1), min(_number(high), self.passages) + 1)
            position = cited.end()
        return numbers if _BETWEEN.fullmatch(body, position) else []


def _number(digits: str) -> int:
    return int(digits) if len(digits) <= _LONGEST_NUMBER else 0
