"""The documentation's links: every relative link of README.md and docs/*.md points to a file that
exists and, for a `#anchor` into a Markdown file, to one of its headings (GitHub's anchors); and
README.md stays short (at most 300 lines: the rest lives in docs/, by reader).

Links in code (fenced blocks, `inline code`) are not links; web addresses (http:, https:, mailto:)
are not checked here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
README_MAX_LINES = 300

# [text](target) and ![alt](target); the target may be followed by a "title".
_INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'(][^)]*)?\)")
# [label]: target
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # http:, https:, mailto:...


def documents() -> List[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _prose_lines(text: str) -> Iterator[Tuple[int, str]]:
    """(line number, line) outside fenced code blocks, with inline code removed."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        opening = _FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)[0] * len(opening.group(1))
            continue
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            continue
        yield number, _INLINE_CODE.sub("", line)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lower case, punctuation removed (letters,
    digits, `_`, `-` and spaces kept), spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"<[^>]+>", "", text)  # HTML tags
    text = text.replace("`", "").replace("*", "")
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> Set[str]:
    """The anchors of a Markdown file's headings, with GitHub's -1, -2... for repeated ones."""
    seen: Dict[str, int] = {}
    result: Set[str] = set()
    for _, line in _prose_lines(path.read_text(encoding="utf-8")):
        match = _HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def links(path: Path) -> Iterator[Tuple[int, str]]:
    """(line number, target) of every relative link of a Markdown file."""
    for number, line in _prose_lines(path.read_text(encoding="utf-8")):
        targets = [m.group(1) for m in _INLINE_LINK.finditer(line)]
        reference = _REFERENCE.match(line)
        if reference:
            targets.append(reference.group(1))
        for target in targets:
            if not _EXTERNAL.match(target):
                yield number, target


def broken_links(path: Path) -> List[str]:
    """What is wrong with the relative links of one Markdown file, one line per broken link."""
    problems = []
    for number, target in links(path):
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / unquote(file_part)).resolve() if file_part else path
        where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{number}: {target}"
        if not destination.exists():
            problems.append(f"{where}: no such file")
        elif anchor and destination.suffix == ".md" and unquote(anchor).lower() not in anchors(destination):
            problems.append(f"{where}: no heading with that anchor in {destination.name}")
    return problems


def test_every_relative_link_points_to_a_file_and_heading_that_exist():
    problems = [problem for path in documents() for problem in broken_links(path)]
    assert not problems, "Broken links:\n" + "\n".join(problems)


def test_readme_is_short():
    lines = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, (
        f"README.md has {lines} lines, at most {README_MAX_LINES}: move the details to docs/"
    )


def test_the_check_finds_broken_links(tmp_path):
    """The checker itself: a missing file, a missing heading and a link in code are told apart."""
    (tmp_path / "other.md").write_text("# Other\n\n## When unsure, suggest\n\n## Notes\n\n## Notes\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n"
        "[fine](other.md) [anchor](other.md#when-unsure-suggest) [again](other.md#notes-1)\n"
        "[here](#page) ![picture](other.md) [web](https://example.org/x.md#nothing)\n"
        "`[in code](missing.md)`\n\n"
        "```\n[in a block](missing.md)\n```\n\n"
        "[gone](missing.md)\n"
        "[no heading](other.md#when-unsure)\n"
        "[ref]: nowhere.md\n"
    )
    problems = broken_links(page)
    assert len(problems) == 3, problems
    assert problems[0].endswith(":11: missing.md: no such file")
    assert problems[1].endswith(":12: other.md#when-unsure: no heading with that anchor in other.md")
    assert problems[2].endswith(":13: nowhere.md: no such file")


def test_slugs_follow_github():
    assert slug("What `make test` runs") == "what-make-test-runs"
    assert slug("Word tables: development and blind figures") == "word-tables-development-and-blind-figures"
    assert slug("Facts: how to fix or add one") == "facts-how-to-fix-or-add-one"
    assert slug("Connect to WhatsApp (Twilio)") == "connect-to-whatsapp-twilio"
    assert slug("Où trouver l'OIM ?") == "où-trouver-loim-"
