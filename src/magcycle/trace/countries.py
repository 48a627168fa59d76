"""Country codes of origin declarations, and the countries the 2027 DFARS rule covers.

* :data:`ISO_3166_ALPHA_2` -- the 249 officially assigned ISO 3166-1 alpha-2 codes
  (ISO 3166 Maintenance Agency, Online Browsing Platform, as of 2024; the list
  also ships with the ``pycountry`` package, which the tests compare against).
* :data:`DFARS_COVERED` -- DFARS 252.225-7052 (Restriction on the acquisition of
  certain magnets, tantalum and tungsten), paragraph (a): the covered countries
  are the Democratic People's Republic of North Korea, the People's Republic of
  China, the Russian Federation and the Islamic Republic of Iran (10 U.S.C. 4872(d)).
  From 1 January 2027 covered material must not be mined, refined, separated,
  melted or produced in them (89 FR 46816, DFARS Case 2021-D015).
"""

from __future__ import annotations

__all__ = ["ISO_3166_ALPHA_2", "DFARS_COVERED", "DFARS_STAGES", "UNKNOWN", "is_country"]

ISO_3166_ALPHA_2 = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO
JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR
MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO
RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV
TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split())

#: DFARS 252.225-7052(a) covered countries (module docstring)
DFARS_COVERED = frozenset({"CN", "KP", "RU", "IR"})
#: the stages the rule looks at from 1 January 2027, in the order of the supply chain
DFARS_STAGES = ("mined", "refined", "separated", "melted", "produced")
#: an origin that was not declared
UNKNOWN = "unknown"


def is_country(code: str) -> bool:
    """Whether ``code`` is an assigned ISO 3166-1 alpha-2 code (upper case, as ISO writes them).

    >>> is_country("KR"), is_country("kr"), is_country("XX"), len(ISO_3166_ALPHA_2)
    (True, False, False, 249)
    """
    return code in ISO_3166_ALPHA_2
