"""The documentation stays true to the code: every setting is documented, the README stays a short
entry point, and every relative link leads to a file (and heading) that exists."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from qcapp.config import ENVIRONMENT_ALIASES, DefaultConfig

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
CONFIGURATION = DOCS / "configuration.md"
README_MAX_LINES = 200


def settings() -> list[str]:
    """Every setting ``DefaultConfig`` defines (its upper-case attributes), read from the class."""
    names = {name for name in vars(DefaultConfig) if name.isupper()}
    names |= {name for name in vars(DefaultConfig).get("__annotations__", {}) if name.isupper()}
    return sorted(names)


def variables(setting: str) -> list[str]:
    """The environment variables that set ``setting``: ``QC_<NAME>`` and any alias."""
    aliases = [alias for alias, key in ENVIRONMENT_ALIASES.items() if key == setting]
    return [f"QC_{setting}", *(f"QC_{alias}" for alias in aliases)]


def mentions(text: str, word: str) -> bool:
    """Whether ``word`` appears in ``text`` as a whole name (QC_LOGIN_MAX_DELAY is not
    QC_LOGIN_MAX_DELAY_X)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", text) is not None


def pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def test_the_settings_are_found_in_the_code():
    found = settings()
    assert len(found) > 30
    assert {"TRUSTED_PROXIES", "SQLALCHEMY_DATABASE_URI", "PUBLIC_URL"} <= set(found)


@pytest.mark.parametrize("setting", settings())
def test_every_setting_is_in_the_configuration_page(setting):
    text = CONFIGURATION.read_text(encoding="utf-8")
    names = variables(setting)
    assert any(mentions(text, name) for name in names), (
        f"{setting} is defined in qcapp/config.py but docs/configuration.md names none of "
        f"{', '.join(names)}"
    )


def test_the_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines; move detail to docs/ (at most {README_MAX_LINES})"
    )


def test_the_readme_links_every_docs_page():
    linked = {target.resolve() for _, target, _ in links(README)}
    missing = [page.name for page in sorted(DOCS.glob("*.md")) if page.resolve() not in linked]
    assert not missing, f"README.md does not link docs/{', docs/'.join(missing)}"


FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def links(page: Path) -> list[tuple[str, Path, str]]:
    """The relative links of a Markdown page: (as written, the file it names, the fragment)."""
    text = CODE_SPAN.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))
    found = []
    for raw in LINK.findall(text):
        if EXTERNAL.match(raw):
            continue
        path, _, fragment = raw.partition("#")
        target = (page.parent / unquote(path)).resolve() if path else page.resolve()
        found.append((raw, target, unquote(fragment)))
    return found


def anchors(page: Path) -> set[str]:
    """The ids GitHub gives a page's headings: lower case, punctuation dropped, spaces to
    hyphens, a repeated id numbered -1, -2, ..."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    ids = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        ids.add(slug if count == 0 else f"{slug}-{count}")
    return ids


@pytest.mark.parametrize("page", pages(), ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_points_to_an_existing_file(page):
    broken = []
    for raw, target, fragment in links(page):
        if not target.exists():
            broken.append(f"{raw} (no such file)")
        elif fragment and target.suffix == ".md" and fragment not in anchors(target):
            broken.append(f"{raw} (no such heading in {target.name})")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {'; '.join(broken)}"
