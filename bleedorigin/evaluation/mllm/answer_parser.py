"""Parse MLLM answers into a normalised bleeding-source point, or a miss with a reason.

Accepted (case-insensitive, extra prose around it allowed):

- ``IMAGE_SIZE: 1024x768`` (also ``1024 × 768``, ``1024*768``, ``width 1024, height 768``);
- ``SOURCE: (0.4123, 0.5567)`` (also ``x_norm=0.41 y_norm=0.56``, JSON
  ``{"x": 0.41, "y": 0.56}``, percentages ``41.2%, 55.7%``).

When the two numbers are not in [0, 1] but lie inside the reported image size,
they are read as pixels of the resized image and normalised by that size (the
mistake the two-part answer exists to undo). Everything else is a miss with a
reason: ``empty``, ``refusal``, ``no_source``, ``no_coordinates``,
``malformed_number``, ``out_of_range``, ``ambiguous``.
"""
import math
import re
from dataclasses import dataclass
from typing import Optional, Tuple

NUMBER = r'[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?'
_SIZE_PATTERNS = (
    re.compile(rf'image[_ ]?size\W*?({NUMBER})\s*(?:x|×|\*|by|,)\s*({NUMBER})', re.I),
    re.compile(rf'width\W*({NUMBER})\W+height\W*({NUMBER})', re.I),
    re.compile(r'\b(\d{2,5})\s*(?:x|×)\s*(\d{2,5})\b', re.I),  # "... is 1024 × 768"
)
_SOURCE_LINE = re.compile(r'source\s*[:=]?\s*(.*)', re.I)
_NAMED_XY = re.compile(
    rf'["\']?x(?:_norm)?["\']?\s*[:=]\s*({NUMBER})\s*(%?)[^0-9+\-.]*?'
    rf'["\']?y(?:_norm)?["\']?\s*[:=]\s*({NUMBER})\s*(%?)', re.I)
_PAIR = re.compile(rf'\(?\s*({NUMBER})\s*(%?)\s*[,;]\s*({NUMBER})\s*(%?)\s*\)?')
_REFUSAL = re.compile(
    r"\b(i can(?:'|no)t|i cannot|i am (?:not able|unable)|i'm (?:not able|unable)|unable to|"
    r'sorry|as an ai|not (?:able|qualified) to|cannot (?:determine|identify|provide))\b', re.I)
_BAD_NUMBER = re.compile(r'\d*\.\d*\.\d*|\bnan\b|\binf(?:inity)?\b|\d\s*\?', re.I)
_NO_SOURCE = re.compile(r'source\s*[:=]?\s*(?:none|n/?a|null|not (?:visible|found))\b', re.I)


@dataclass
class ParsedAnswer:
    """Result of parsing one answer.

    Attributes:
        point (tuple | None): (x_norm, y_norm) in [0, 1], None for a miss.
        image_size (tuple | None): (width, height) the model reported.
        reason (str | None): Why the answer is a miss (None when parsed), or
            ``'pixels_rescaled'`` when resized-pixel coordinates were normalised.
    """
    point: Optional[Tuple[float, float]]
    image_size: Optional[Tuple[float, float]]
    reason: Optional[str]

    @property
    def is_miss(self) -> bool:
        return self.point is None


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


def parse_image_size(text: str) -> Optional[Tuple[float, float]]:
    """The (width, height) an answer reports, if any and positive."""
    for pattern in _SIZE_PATTERNS:
        match = pattern.search(text)
        if match:
            width, height = float(match.group(1)), float(match.group(2))
            if _finite(width, height) and width > 0 and height > 0:
                return width, height
    return None


def _coordinates(text: str):
    """Candidate coordinate pairs (x, x_is_percent, y, y_is_percent) in the answer."""
    line = _SOURCE_LINE.search(text)
    scopes = [line.group(1)] if line else []
    scopes.append(text)
    for scope in scopes:
        for pattern in (_NAMED_XY, _PAIR):
            found = pattern.findall(scope)
            if scope is text and pattern is _PAIR:
                size = parse_image_size(text)
                # the image size "1024, 768" must not be read as a point
                found = [f for f in found
                         if size is None or (float(f[0]), float(f[2])) != size]
            if found:
                return found
    return []


def parse_answer(text: Optional[str]) -> ParsedAnswer:
    """Parse one MLLM answer; never raises on bad text (misses carry a reason)."""
    if text is None or not str(text).strip():
        return ParsedAnswer(None, None, 'empty')
    text = str(text)
    size = parse_image_size(text)
    if _NO_SOURCE.search(text):
        return ParsedAnswer(None, size, 'no_source')
    line = _SOURCE_LINE.search(text)
    if line and _BAD_NUMBER.search(line.group(1).splitlines()[0] if line.group(1) else ''):
        return ParsedAnswer(None, size, 'malformed_number')
    candidates = _coordinates(text)
    if not candidates:
        return ParsedAnswer(None, size, 'refusal' if _REFUSAL.search(text) else 'no_coordinates')
    unique = {(c[0], c[1], c[2], c[3]) for c in candidates}
    if len(unique) > 1:
        return ParsedAnswer(None, size, 'ambiguous')
    x_text, x_pct, y_text, y_pct = candidates[0]
    try:
        x, y = float(x_text), float(y_text)
    except ValueError:
        return ParsedAnswer(None, size, 'malformed_number')
    if not _finite(x, y):
        return ParsedAnswer(None, size, 'malformed_number')
    if x_pct or y_pct:
        x, y = x / 100.0 if x_pct else x, y / 100.0 if y_pct else y
    if 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0:
        return ParsedAnswer((x, y), size, None)
    if size is not None and 1.0 < max(x, y) and 0 <= x <= size[0] and 0 <= y <= size[1]:
        return ParsedAnswer((x / size[0], y / size[1]), size, 'pixels_rescaled')
    return ParsedAnswer(None, size, 'out_of_range')


def to_absolute(point: Tuple[float, float], width: int, height: int) -> Tuple[float, float]:
    """Normalised (x, y) -> pixels of the original frame."""
    return point[0] * width, point[1] * height
