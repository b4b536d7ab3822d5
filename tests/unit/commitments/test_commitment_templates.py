"""The commitment templates as dated data: the shipped file loads and fits the catalog; bad data is
refused with a message naming the place; the text hash covers every character."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from chengxin.catalog.loader import load_catalog
from chengxin.commitments.templates import TemplateError, load_templates, templates
from chengxin.core.signed_text import text_sha256
from chengxin.repair.commitment import load_commitments

TODAY = dt.date(2026, 6, 1)


def test_the_shipped_templates_load_and_have_a_version_in_force() -> None:
    found = templates()
    assert {"certificate_notice", "tolerance_acceptance", "industry_self_discipline", "ecommerce_operator",
            "market_entry"} <= set(found)
    assert "credit_repair" not in found  # the repair commitment stays in repair/
    for t in found.values():
        assert t.version_on(TODAY) is not None, t.code


def test_templates_fit_the_breach_item_of_the_catalog() -> None:
    """Every kind is an option of commitment_breach.commitment_kind, and every accepting department may
    submit a commitment_breach record (a breach found by it must be able to enter the record path)."""
    catalog = load_catalog()
    version = catalog.version_on("commitment_breach", dt.date(2026, 11, 25))
    assert version is not None
    options = {o.value for f in version.fields if f.code == "commitment_kind" for o in f.options}
    for t in templates().values():
        assert t.code in options, t.code
        assert set(t.acceptors) <= version.departments, (t.code, set(t.acceptors) - version.departments)
        assert t.subject_kinds <= {k.value for k in version.subject_kinds}


def test_an_older_version_is_kept_and_chosen_by_date() -> None:
    t = templates()["certificate_notice"]
    assert t.version_on(dt.date(2025, 6, 1)).version == "2019.1"  # type: ignore[union-attr]
    assert t.version_on(dt.date(2026, 6, 1)).version == "2026.1"  # type: ignore[union-attr]
    assert t.version_on(dt.date(2018, 6, 1)) is None


GOOD = {
    "code": "demo", "name_zh": "示例承诺书", "name_en": "Demo", "kind_zh": "示例", "subject_kinds": ["organization"],
    "public_for_persons": False, "acceptors": ["samr"],
    "versions": [{"version": "2026.1", "effective_from": dt.date(2026, 1, 1), "effective_to": None, "basis": "依据",
                  "validity": "P1Y", "text": "承诺人{subject_name}就{matter}承诺。"}],
}


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "templates.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _with(**changes: object) -> list[dict[str, object]]:
    entry = {**GOOD, **changes}
    return [entry]


def _version(**changes: object) -> list[dict[str, object]]:
    return _with(versions=[{**GOOD["versions"][0], **changes}])  # type: ignore[index]


def test_a_good_file_loads(tmp_path: Path) -> None:
    found = load_templates(_write(tmp_path, [GOOD]), departments={"samr"})
    assert found["demo"].latest.validity is not None and found["demo"].latest.validity.years == 1


@pytest.mark.parametrize("data, message", [
    ({"not": "a list"}, "non-empty list"),
    ([], "non-empty list"),
    (_with(colour="red"), "unknown keys"),
    ([{k: v for k, v in GOOD.items() if k != "acceptors"}], "missing keys ['acceptors']"),
    (_with(subject_kinds=["robot"]), "subject_kinds"),
    (_with(subject_kinds=[]), "subject_kinds"),
    (_with(public_for_persons="yes"), "public_for_persons"),
    (_with(acceptors=["nowhere"]), "unknown departments ['nowhere']"),
    (_with(acceptors=[]), "acceptors"),
    (_with(code="证明"), "code"),
    ([GOOD, GOOD], "duplicate template code"),
    (_with(versions=[]), "at least one version"),
    (_version(text="承诺人{subject_name}承诺。"), "must contain {matter}"),
    (_version(text="{subject_name}{matter}{password}"), "unknown placeholder {password}"),
    (_version(text="{subject_name}{matter} {"), "malformed placeholder"),
    (_version(text="{subject_name}{matter:>10}"), "takes no format"),
    (_version(text="{subject_name!r}{matter}"), "takes no format"),
    (_version(text="   "), "non-empty text"),
    (_version(validity="one year"), "ISO 8601"),
    (_version(effective_from="2026-01-01"), "must be a date"),
    (_version(effective_to=dt.date(2025, 1, 1)), "before effective_from"),
    (_version(version=2026.1), "quoted text"),
    (_version(basis=""), "basis"),
    (_version(sha="x"), "unknown keys"),
    (_with(versions=[{**GOOD["versions"][0]}, {**GOOD["versions"][0], "version": "2026.2",  # type: ignore[index]
                                                "effective_from": dt.date(2026, 6, 1)}]), "overlaps"),
    (_with(versions=[{**GOOD["versions"][0], "effective_to": dt.date(2026, 12, 31)},  # type: ignore[index]
                     {**GOOD["versions"][0], "effective_from": dt.date(2027, 1, 1)}]), "duplicate version label"),
])
def test_bad_data_is_refused_with_its_place(tmp_path: Path, data: object, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        load_templates(_write(tmp_path, data), departments={"samr"})
    assert message in str(caught.value)
    assert "templates.yaml" in str(caught.value)


def test_refusal_names_template_and_version(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"template 'demo', version '2026.1', text: unknown placeholder"):
        load_templates(_write(tmp_path, _version(text="{subject_name}{matter}{x}")), departments={"samr"})


def test_a_literal_brace_is_written_doubled(tmp_path: Path) -> None:
    found = load_templates(_write(tmp_path, _version(text="{subject_name}{matter}（见附件{{一}}）")))
    assert "{{一}}" in found["demo"].latest.text


# -- the hash ---------------------------------------------------------------------------------------


def test_the_hash_is_sha256_of_the_exact_utf8_text() -> None:
    assert text_sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert text_sha256("诚信") == hashlib.sha256("诚信".encode()).hexdigest()
    # the repair commitment uses the same helper: nothing changed for texts already signed
    for c in load_commitments():
        assert c.sha256 == hashlib.sha256(c.text.encode("utf-8")).hexdigest()


_CHARS = st.characters(blacklist_categories=("Cs",))  # any character UTF-8 can carry (no lone surrogates)


@given(st.text(_CHARS, min_size=1, max_size=200), st.data())
def test_changing_any_one_character_changes_the_hash(text: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(text) - 1))
    other = data.draw(_CHARS.filter(lambda c: c != text[i]))
    assert text_sha256(text[:i] + other + text[i + 1:]) != text_sha256(text)
    assert text_sha256(text + " ") != text_sha256(text)  # a trailing space counts too
    assert text_sha256(text) == text_sha256(str(text))  # stable
