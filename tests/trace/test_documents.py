"""Receipt and campaign documents: country codes against pycountry's ISO 3166 list, masses with units by
their exact factors, and random malformed documents refused as one InputError naming a field."""

from __future__ import annotations

import datetime as dt

import pycountry
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magcycle.errors import InputError
from magcycle.schema import validate
from magcycle.trace.countries import DFARS_COVERED, ISO_3166_ALPHA_2
from magcycle.trace.documents import CampaignFile, Receipt, parse_mass

GOOD = {"id": "KR-SW-0001", "supplier": "Example Magnet Co.", "category": "swarf", "consumer": "pre",
        "mass": "2.0 t", "received": dt.date(2026, 3, 2), "feed": "swarf", "origin": {"generated": "KR"}}


def test_country_codes_are_iso_3166_alpha_2():
    assert ISO_3166_ALPHA_2 == {c.alpha_2 for c in pycountry.countries}
    # DFARS 252.225-7052(a): North Korea, China, Russia, Iran
    names = {pycountry.countries.get(alpha_2=c).name for c in DFARS_COVERED}
    assert names == {"China", "Russian Federation", "Korea, Democratic People's Republic of",
                     "Iran, Islamic Republic of"}


@given(st.sampled_from(sorted(ISO_3166_ALPHA_2)), st.sampled_from(["generated", "mined", "refined", "separated",
                                                                     "melted", "produced"]))
def test_every_assigned_code_is_accepted_at_every_stage(code, stage):
    r = validate(Receipt, GOOD | {"origin": {stage: code.lower()}})
    assert getattr(r.origin, stage) == code


@given(st.text(min_size=0, max_size=4).filter(lambda s: s.strip().upper() not in ISO_3166_ALPHA_2
                                              and s.strip().lower() != "unknown"))
def test_anything_else_is_refused_naming_the_stage(code):
    with pytest.raises(InputError) as e:
        validate(Receipt, GOOD | {"origin": {"mined": code}})
    assert e.value.field == "origin.mined"


@pytest.mark.parametrize("text,kg", [("2.0 t", 2000.0), ("1500 kg", 1500.0), ("250 g", 0.25), (" 3e3  kg", 3000.0),
                                     (7, 7.0), (0.5, 0.5), ("1.5 tonne", 1500.0)])
def test_masses_by_their_exact_factors(text, kg):
    assert parse_mass(text) == kg


@pytest.mark.parametrize("bad", ["0 t", "-1 kg", "nan kg", "inf", "2 lb", "t", "", True, None, [1], float("nan"), 0])
def test_bad_masses_are_refused(bad):
    with pytest.raises(ValueError):
        parse_mass(bad)


def test_lots_missing_stages_are_unknown_and_assay_or_feed_is_required():
    r = validate(Receipt, GOOD)
    assert (r.origin.generated, r.origin.mined) == ("KR", "unknown")
    with pytest.raises(InputError) as e:
        validate(Receipt, GOOD | {"assay": {"Nd": 30.0, "Fe": 70.0}})
    assert e.value.field == "feed"
    r = validate(Receipt, {k: v for k, v in GOOD.items() if k != "feed"} | {"assay": {"Nd": 30.0, "Fe": 70.0}})
    assert r.composition() == {"Nd": 30.0, "Fe": 70.0}
    with pytest.raises(InputError) as e:
        validate(Receipt, {k: v for k, v in GOOD.items() if k != "feed"} | {"assay": {"Nd": 30.0, "Fe": 60.0}})
    assert e.value.field == "assay"
    with pytest.raises(InputError) as e:
        validate(Receipt, GOOD | {"gross_mass": "1.9 t"})
    assert e.value.field == "gross_mass"


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=6),
                    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@settings(max_examples=300)
@given(st.sampled_from(sorted(GOOD)), _VALUES)
def test_random_malformed_receipts_are_one_input_error(key, value):
    doc = GOOD | {key: value}
    try:
        validate(Receipt, doc)
    except InputError as exc:
        assert "\n" not in str(exc) and exc.field.split(".")[0] in (set(GOOD) | {"assay", "document"})


CAMPAIGN = {"id": "C-1", "start": "2026-03-10", "end": "2026-03-20", "custody": "mass_balance",
            "lots": {"KR-SW-0001": "2 t"}}


@settings(max_examples=300)
@given(st.sampled_from(sorted(CAMPAIGN) + ["plant", "measured"]), _VALUES)
def test_random_malformed_campaigns_are_one_input_error(key, value):
    try:
        validate(CampaignFile, CAMPAIGN | {key: value})
    except InputError as exc:
        assert "\n" not in str(exc) and exc.field.split(".")[0] in (set(CAMPAIGN) | {"plant", "measured", "document"})


def test_campaign_dates_and_masses():
    c = validate(CampaignFile, CAMPAIGN | {"start": dt.date(2026, 3, 10), "end": "2026-03-10"})
    assert c.start == c.end  # one day is a campaign
    with pytest.raises(InputError) as e:
        validate(CampaignFile, CAMPAIGN | {"end": "2026-03-09"})
    assert e.value.field == "end"
    with pytest.raises(InputError) as e:
        validate(CampaignFile, CAMPAIGN | {"lots": {"A": "-2 t"}})
    assert e.value.field == "lots.A"
    with pytest.raises(InputError) as e:
        validate(CampaignFile, CAMPAIGN | {"custody": "book_and_claim"})
    assert e.value.field == "custody"


def test_a_key_that_starts_with_a_bracket_stays_a_key_of_its_table():
    """Found by the test above: a lot named "[" was reported as field "lots[" (a list index's form),
    naming no field of the campaign; it is "lots.[" and a list index still reads "[i]"."""
    with pytest.raises(InputError) as err:
        validate(CampaignFile, CAMPAIGN | {"lots": {"[": 0}})
    assert err.value.field == "lots.["
    with pytest.raises(InputError) as err:
        validate(Receipt, GOOD | {"assay": [1]})
    assert "\n" not in str(err.value)
