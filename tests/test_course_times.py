"""The time each chapter takes is stated the same everywhere (issue 12).

Four places say it: the notebook's own "Time" / "How long it takes"
section, the course map in README.md, the one in notebooks/README.md, and
the table in notebooks/INSTRUCTORS.md. Each states lecture + exercises;
this test reads the first two durations of each and compares them.
"""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LECTURES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
DURATION = re.compile(r"\b(an hour|\d+\s*h(?:ours?)?(?:\s*\d+\s*min(?:utes)?)?|\d+\s*min(?:utes)?)\b", re.I)


def minutes(text):
    """The durations in ``text``, in minutes, in order ("1 h 30 min" -> 90, "an hour" -> 60)."""
    found = []
    text = re.sub(r"(\d+)\s*\+\s*(\d+)\s*min", r"\1 min + \2 min", text)  # "75 + 60 min"
    for match in DURATION.findall(text):
        match = match.lower()
        if match == "an hour":
            found.append(60)
            continue
        hours = re.match(r"(\d+)\s*h", match)
        mins = re.search(r"(\d+)\s*min", match)
        found.append((int(hours.group(1)) * 60 if hours else 0) + (int(mins.group(1)) if mins else 0))
    return found


def header_times(path):
    """Lecture and exercise minutes from the notebook's Time section."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(c["source"]) for c in cells[:3] if c["cell_type"] == "markdown")
    section = re.search(r"^##+ (?:Time|How long it takes)\s*\n(.*?)(?=^#|\Z)", text, re.M | re.S)
    assert section, f"{path.name} has no 'Time' or 'How long it takes' section in its opening cells"
    return tuple(minutes(section.group(1))[:2])


def table_rows(path, first_cell):
    """{chapter number: row text} for the table rows whose first cell matches ``first_cell``."""
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(first_cell, line)
        if match:
            rows[int(match.group(1))] = line
    return rows


def chapter(path):
    return int(path.name[:2])


README = table_rows(ROOT / "README.md", r"\| (\d+)\. ")
NOTEBOOKS_README = table_rows(ROOT / "notebooks" / "README.md", r"\| (\d+) \| ")
GUIDE = table_rows(ROOT / "notebooks" / "INSTRUCTORS.md", r"\| +(\d+) [A-Z]")


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.stem)
def test_every_place_states_the_same_time(path):
    number = chapter(path)
    stated = {"the notebook's header": header_times(path)}
    for name, rows in (("README.md's course map", README), ("notebooks/README.md", NOTEBOOKS_README),
                       ("notebooks/INSTRUCTORS.md", GUIDE)):
        assert number in rows, f"{name} has no row for chapter {number}"
        cells = [cell for cell in rows[number].split("|") if minutes(cell)]
        stated[name] = tuple(m for cell in cells for m in minutes(cell))[:2]
    assert len(set(stated.values())) == 1, (
        f"chapter {number}: lecture + exercise minutes differ: {stated}")
    assert len(stated["the notebook's header"]) == 2, f"{path.name}: the header should give lecture and exercise time"


def test_the_parser_reads_the_forms_used():
    assert minutes("About an hour, then about 90 minutes") == [60, 90]
    assert minutes("about 1 h + 1 h 30 min") == [60, 90]
    assert minutes("75 + 60 min") == [75, 60] and minutes("| 75 min | 60 min |") == [75, 60]
