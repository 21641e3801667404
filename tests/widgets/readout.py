"""Reading an explorer's HTML readout in tests."""
import html
import re


def readout_text(explorer) -> str:
    """The explorer's live readout as plain text (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", explorer.readout.value)).replace("\xa0", " ")


def flat(text: str) -> str:
    """``text`` with every run of whitespace (including the note's wrapping) as one space."""
    return " ".join(text.split())
