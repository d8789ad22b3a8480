"""Every claim the course states is registered, cited, and holds on each of its seeds."""
import re
from pathlib import Path

import pytest

from mfteach.lessons import claims

ROOT = Path(__file__).resolve().parents[1]
# Where a sentence that states a fact may live: notebooks, the README table, the instructor
# guide, and the lesson modules (exercise hints and messages).
SOURCES = [*sorted((ROOT / "notebooks" / "src").glob("*.py")), ROOT / "README.md",
           ROOT / "docs" / "instructor.md", *sorted((ROOT / "mfteach" / "lessons").glob("*.py"))]
REGISTRY = claims.registry()


def cited() -> dict:
    out = {}
    for path in SOURCES:
        for m in claims.CITE.finditer(path.read_text()):
            out.setdefault(m.group(1), []).append(path.name)
    return out


CASES = [pytest.param(c.id, s, id=f"{c.id}-seed{s}",
                      marks=[pytest.mark.slow] if c.slow else [])
         for c in REGISTRY.values() for s in c.seeds]


@pytest.mark.parametrize("claim_id, seed", CASES)
def test_claim_holds(claim_id, seed):
    result = claims.run(claim_id, seed)
    assert result.holds, f"{claims.get(claim_id).text} — {result}"


def test_every_cited_claim_is_registered():
    missing = {k: v for k, v in cited().items() if k not in REGISTRY}
    assert not missing, f"cited but not registered: {missing}"


def test_every_registered_claim_is_cited():
    uncited = sorted(set(REGISTRY) - set(cited()))
    assert not uncited, f"registered but cited nowhere: {uncited}"


def test_claims_are_well_formed():
    assert REGISTRY, "no claims registered"
    for c in REGISTRY.values():
        assert c.text and c.conditions and c.expect, c.id
        assert len(c.seeds) >= 2, c.id


def test_a_claim_that_does_not_hold_is_reported():
    """The machinery can fail: a claim whose check is false shows up as not holding."""
    @claims.claim("09.always-false", "a sentence that is wrong", conditions="none",
                  expect="never")
    def _never(seed):
        return {"seed": seed}, False
    try:
        assert not claims.run("09.always-false", 0).holds
        assert "does NOT hold" in str(claims.run("09.always-false", 1))
    finally:
        claims._REGISTRY.pop("09.always-false", None)
