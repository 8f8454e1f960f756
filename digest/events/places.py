"""Names that recur across unrelated events: places (countries, their adjectives, US states, the
cities the news names most) and the regulators, police forces and courts that act every week.

Sharing one of these is weak evidence of one event: in one week Hong Kong police break up two
different deepfake rings and Ireland's DPC fines two different companies. They still count as words
in the similarity of two stories and still link the events of one case into a thread ("Denmark"
proposes, "Denmark" passes); they just do not, alone, make two reports one event.
"""

from __future__ import annotations

from digest.events.features import stem

_PLACES_TEXT = """
afghanistan albania algeria argentina armenia australia austria azerbaijan bangladesh belarus belgium
bolivia bosnia brazil bulgaria cambodia cameroon canada chile china colombia croatia cuba cyprus czech
czechia denmark ecuador egypt estonia ethiopia finland france georgia germany ghana greece hungary
iceland india indonesia iran iraq ireland israel italy japan jordan kazakhstan kenya korea kosovo
latvia lebanon libya lithuania luxembourg malaysia malta mexico moldova morocco myanmar nepal
netherlands holland nigeria norway pakistan peru philippines poland portugal qatar romania russia
saudi serbia singapore slovakia slovenia somalia spain sweden switzerland syria taiwan thailand tunisia
turkey uganda ukraine emirates uae britain england scotland wales vietnam yemen zimbabwe
afghan albanian algerian argentine armenian australian austrian belgian brazilian british bulgarian
canadian chilean chinese colombian croatian czech danish dutch egyptian estonian finnish french german
greek hungarian indian indonesian iranian iraqi irish israeli italian japanese kenyan korean latvian
lithuanian malaysian mexican nigerian norwegian pakistani philippine filipino polish portuguese
romanian russian saudi scottish serbian singaporean slovak spanish swedish swiss syrian taiwanese thai
turkish ukrainian vietnamese welsh
alabama alaska arizona arkansas california colorado connecticut delaware florida hawaii idaho illinois
indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota mississippi
missouri montana nebraska nevada hampshire jersey mexico york carolina dakota ohio oklahoma oregon
pennsylvania rhode tennessee texas utah vermont virginia washington wisconsin wyoming
hong kong beijing shanghai tokyo seoul bangkok manila jakarta delhi mumbai karachi dubai moscow kyiv
kiev london paris berlin madrid rome brussels amsterdam hague dublin lisbon vienna warsaw prague
stockholm oslo copenhagen helsinki zurich geneva toronto sydney melbourne chicago boston angeles
francisco atlanta miami seattle houston dallas phoenix denver hk
"""
_ACTORS_TEXT = """
dpc ico aepd cnil garante ap autoriteit persoonsgegevens edpb edps ftc fcc sec cftc doj fbi cisa nsa
hhs ocr nca ofcom europol eurojust interpol justice department commission regulator police court
prosecutors attorney county state city district federal parliament government ministry
"""
BACKGROUND = frozenset(stem(word) for word in (_PLACES_TEXT + _ACTORS_TEXT).split())
