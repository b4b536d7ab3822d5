"""The credit commitment templates (信用承诺书格式文本) from ``data/templates.yaml``, as dated data.

The loader is strict: an unknown or missing key, an unknown subject kind or department, versions out
of order or overlapping, a bad validity, an empty text, a placeholder it does not know, a text that
does not name the subject and the matter — each is refused with the file, template, version and key.
A version is chosen by the day of signing; once in force it is never edited (a new wording is a new
version), so a signed commitment's version label always finds the very template it was filled from.
"""

from __future__ import annotations

import datetime as dt
import functools
import string
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chengxin.catalog.model import Duration
from chengxin.catalog.rules import InvalidDuration, parse_duration
from chengxin.core.signed_text import text_sha256

__all__ = [
    "PLACEHOLDERS", "REQUIRED_PLACEHOLDERS", "TEMPLATES_FILE", "Template", "TemplateError", "TemplateVersion",
    "load_templates", "templates",
]

TEMPLATES_FILE = Path(__file__).resolve().parent / "data" / "templates.yaml"

PLACEHOLDERS = frozenset({"subject_name", "subject_id", "matter", "acceptor", "signed_on", "valid_until"})
REQUIRED_PLACEHOLDERS = frozenset({"subject_name", "matter"})  # a commitment names who promises what
SUBJECT_KINDS = frozenset({"person", "organization"})

_TEMPLATE_KEYS = frozenset({"code", "name_zh", "name_en", "kind_zh", "subject_kinds", "public_for_persons",
                            "acceptors", "versions"})
_VERSION_KEYS = frozenset({"version", "effective_from", "effective_to", "basis", "validity", "text"})
_OPTIONAL_VERSION_KEYS = frozenset({"effective_to", "validity"})
_MAX_TEXT = 8000


class TemplateError(ValueError):
    """The template data is wrong; the message says where (file, template, version, key)."""


@dataclass(frozen=True)
class TemplateVersion:
    version: str
    effective_from: dt.date
    effective_to: dt.date | None  # inclusive; None: open-ended
    basis: str
    validity: Duration | None  # from the day of signing; None: until fulfilled or withdrawn (长期)
    text: str  # with placeholders

    @property
    def sha256(self) -> str:
        """Of the unfilled template text (a signed commitment keeps the hash of its filled text)."""
        return text_sha256(self.text)

    def in_force_on(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


@dataclass(frozen=True)
class Template:
    code: str
    name_zh: str
    name_en: str
    kind_zh: str
    subject_kinds: frozenset[str]
    public_for_persons: bool
    acceptors: tuple[str, ...]
    versions: tuple[TemplateVersion, ...]

    def version_on(self, day: dt.date) -> TemplateVersion | None:
        return next((v for v in reversed(self.versions) if v.in_force_on(day)), None)

    def version(self, label: str) -> TemplateVersion | None:
        return next((v for v in self.versions if v.version == label), None)

    @property
    def latest(self) -> TemplateVersion:
        return self.versions[-1]


def _fail(file: str, where: list[str], problem: str) -> TemplateError:
    return TemplateError(f"{file}: {', '.join(where)}: {problem}")


def _text(raw: Mapping[str, Any], key: str, file: str, where: list[str]) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(file, [*where, key], "must be non-empty text")
    return value


def _placeholders(text: str, file: str, where: list[str]) -> None:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:  # a lone "{" or "}"
        raise _fail(file, where, f"malformed placeholder ({exc}); write a literal brace as {{{{ or }}}}") from None
    used = set()
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            raise _fail(file, where, f"unknown placeholder {{{name}}}; known: {', '.join(sorted(PLACEHOLDERS))}")
        if spec or conversion:
            raise _fail(file, where, f"placeholder {{{name}}} takes no format or conversion")
        used.add(name)
    missing = REQUIRED_PLACEHOLDERS - used
    if missing:
        raise _fail(file, where, f"must contain {', '.join('{' + m + '}' for m in sorted(missing))}")


def _day(raw: Any, file: str, where: list[str]) -> dt.date:
    if not isinstance(raw, dt.date) or isinstance(raw, dt.datetime):
        raise _fail(file, where, f"must be a date YYYY-MM-DD, not {raw!r}")
    return raw


def _version(raw: Any, file: str, where: list[str]) -> TemplateVersion:
    if not isinstance(raw, dict):
        raise _fail(file, where, "must be a mapping")
    unknown = set(raw) - _VERSION_KEYS
    if unknown:
        raise _fail(file, where, f"unknown keys {sorted(map(str, unknown))}")
    missing = _VERSION_KEYS - _OPTIONAL_VERSION_KEYS - set(raw)
    if missing:
        raise _fail(file, where, f"missing keys {sorted(missing)}")
    label = raw["version"]
    if not isinstance(label, str) or not label.strip() or len(label) > 16:
        raise _fail(file, [*where, "version"], f"must be quoted text of at most 16 characters, not {label!r}")
    where = [*where[:-1], f"version {label!r}"]
    effective_from = _day(raw["effective_from"], file, [*where, "effective_from"])
    effective_to = None if raw.get("effective_to") is None else _day(raw["effective_to"], file,
                                                                      [*where, "effective_to"])
    if effective_to is not None and effective_to < effective_from:
        raise _fail(file, [*where, "effective_to"], f"{effective_to} is before effective_from {effective_from}")
    validity: Duration | None = None
    if raw.get("validity") is not None:
        try:
            validity = parse_duration(raw["validity"])
        except InvalidDuration as exc:
            raise _fail(file, [*where, "validity"], str(exc)) from None
    # Trailing line breaks (YAML's "|" keeps one) are dropped: the text ends with its last character,
    # so a copy from the page hashes the same as the kept text.
    text = _text(raw, "text", file, where).rstrip()
    if len(text) > _MAX_TEXT:
        raise _fail(file, [*where, "text"], f"longer than {_MAX_TEXT} characters")
    _placeholders(text, file, [*where, "text"])
    return TemplateVersion(label, effective_from, effective_to, _text(raw, "basis", file, where).strip(), validity,
                           text)


def _template(raw: Any, index: int, file: str, departments: Collection[str] | None) -> Template:
    if not isinstance(raw, dict):
        raise _fail(file, [f"[{index}]"], "each template must be a mapping")
    code = raw.get("code")
    where = [f"template {code!r}" if isinstance(code, str) else f"[{index}]"]
    unknown = set(raw) - _TEMPLATE_KEYS
    if unknown:
        raise _fail(file, where, f"unknown keys {sorted(map(str, unknown))}")
    missing = _TEMPLATE_KEYS - set(raw)
    if missing:
        raise _fail(file, where, f"missing keys {sorted(missing)}")
    if not isinstance(code, str) or not code.isascii() or not code.replace("_", "").isalnum() or not code[:1].isalpha():
        raise _fail(file, [*where, "code"], "must be a short ASCII code (letters, digits, _)")
    kinds = raw["subject_kinds"]
    if not isinstance(kinds, list) or not kinds or not set(kinds) <= SUBJECT_KINDS:
        raise _fail(file, [*where, "subject_kinds"], f"must list some of {sorted(SUBJECT_KINDS)}, not {kinds!r}")
    if not isinstance(raw["public_for_persons"], bool):
        raise _fail(file, [*where, "public_for_persons"], "must be true or false")
    acceptors = raw["acceptors"]
    if not isinstance(acceptors, list) or not acceptors or not all(isinstance(a, str) for a in acceptors):
        raise _fail(file, [*where, "acceptors"], "must list at least one department code")
    if departments is not None:
        unknown_departments = [a for a in acceptors if a not in departments]
        if unknown_departments:
            raise _fail(file, [*where, "acceptors"], f"unknown departments {unknown_departments}")
    raw_versions = raw["versions"]
    if not isinstance(raw_versions, list) or not raw_versions:
        raise _fail(file, [*where, "versions"], "must list at least one version")
    versions: list[TemplateVersion] = []
    for i, entry in enumerate(raw_versions):
        version = _version(entry, file, [*where, f"versions[{i}]"])
        if versions:
            previous = versions[-1]
            if version.version in {v.version for v in versions}:
                raise _fail(file, [*where, f"version {version.version!r}"], "duplicate version label")
            if previous.effective_to is None or version.effective_from <= previous.effective_to:
                raise _fail(file, [*where, f"version {version.version!r}", "effective_from"],
                            f"overlaps or precedes version {previous.version!r}; list versions oldest first and "
                            "give the earlier one an effective_to before this date")
        versions.append(version)
    return Template(code, _text(raw, "name_zh", file, where).strip(), _text(raw, "name_en", file, where).strip(),
                    _text(raw, "kind_zh", file, where).strip(), frozenset(kinds), raw["public_for_persons"],
                    tuple(acceptors), tuple(versions))


def load_templates(path: Path = TEMPLATES_FILE, departments: Collection[str] | None = None) -> dict[str, Template]:
    """Every template by code, or :class:`TemplateError` naming what is wrong.

    ``departments``: the known department codes (acceptors are checked against them when given)."""
    file = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TemplateError(f"{file}: not valid YAML: {exc}") from None
    if not isinstance(raw, list) or not raw:
        raise TemplateError(f"{file}: expected a non-empty list of templates")
    out: dict[str, Template] = {}
    for index, entry in enumerate(raw):
        template = _template(entry, index, file, departments)
        if template.code in out:
            raise _fail(file, [f"template {template.code!r}"], "duplicate template code")
        out[template.code] = template
    return out


@functools.lru_cache(maxsize=1)
def templates() -> dict[str, Template]:
    """The platform's templates (acceptors checked against the catalog's departments)."""
    from chengxin.catalog.loader import load_catalog

    return load_templates(TEMPLATES_FILE, frozenset(load_catalog().departments))
