"""Rule-based detectors for what AnnoMI does not label.  All of them are EXPERIMENTAL.

Each detector is a documented definition (written in the project's own words) turned into phrase
patterns.  They favour precision over recall: a missed validation costs less than telling a
therapist they were judgmental when they were not.  Examples for every marker live in
``tests/nlp/test_detectors.py``; BOLT's "Normalizing" label (Chiu et al. 2024, arXiv:2401.00820)
is used in training to report how often the validation/normalising detectors agree with it.

Therapist markers
-----------------
``validation``
    Tells the client their reaction is understandable given their situation ("that makes sense",
    "no wonder you feel...", "anyone would be upset"). Source: Linehan's validation levels 5–6,
    as summarised in MITI 4.2.1's empathy and partnership descriptions.
``normalising``
    Tells the client that their experience is common or expected ("a lot of people...", "it's
    normal to...", "you're not the only one").
``affirmation``
    Names a strength, effort or value of the client (MITI 4.2.1 "Affirm": "you worked hard to...",
    "that took courage", "you care a lot about...").  Plain praise ("good job") counts only when
    it is about the client's effort.
``summary``
    Pulls several things the client said together, usually announced ("let me sum up", "so far
    you've told me...", "on the one hand ... on the other").  MI's summary reflection (Miller &
    Rollnick, 3rd ed., ch. 6).
``judgmental``
    Blames, labels or moralises about the client ("you should have known", "that's
    irresponsible", "what were you thinking").  MITI 4.2.1 "Confront".
``directive``
    Tells the client what to do without permission or choice ("you need to", "you have to",
    "you must", "I want you to").  MITI 4.2.1 "Persuade" without permission.
``repair``
    A rupture-resolution move: clarifying a misunderstanding, inviting talk about the therapy or
    the therapist, acknowledging one's own part (Eubanks, Muran & Safran's Rupture Resolution
    Rating System, in our words, see docs/clinical-reference).

Client markers (rupture markers, Eubanks, Muran & Safran, in our words)
------------------------------------------------------------------------
``rupture_withdrawal``
    Moving away from the therapist or the work: minimal answers to an open question, "I don't
    know"/"whatever"/"it doesn't matter", denying a feeling ("I'm fine", "I'm not upset"),
    asking to change the subject, deferring or appeasing ("whatever you think"), self-criticism or
    hopelessness ("what's the point", "I'm useless").
``rupture_confrontation``
    Moving against the therapist or the work: complaints about the therapist ("you don't
    understand", "you're not listening"), rejecting an intervention or the activities ("this is
    pointless", "that won't work"), complaints about the arrangements or the progress of therapy,
    defending oneself against the therapist, pressuring the therapist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

THERAPIST_MARKERS = (
    "validation",
    "normalising",
    "affirmation",
    "summary",
    "judgmental",
    "directive",
    "repair",
)
CLIENT_MARKERS = ("rupture_withdrawal", "rupture_confrontation")
ALL_MARKERS = THERAPIST_MARKERS + CLIENT_MARKERS
EXPERIMENTAL = frozenset(ALL_MARKERS)  # none of them is validated on labelled clinical data
RUPTURE_MARKERS = CLIENT_MARKERS


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)


_YOU = r"(?:you|you're|you've|you'd|your)"

PATTERNS: dict[str, re.Pattern[str]] = {
    "validation": _rx(
        r"\b(?:that|it|this) (?:totally |really |completely |all )?makes (?:a lot of |so much |complete |total )?sense\b",
        r"\bmakes sense (?:that|why) you\b",
        r"\bno wonder\b",
        r"\b(?:that's|that is|it's|it is) (?:completely |totally |very |so |really )?(?:understandable|valid|fair enough)\b",
        r"\b(?:i|we) can (?:really |totally |certainly )?(?:see|understand) why\b",
        r"\b(?:i can )?(?:totally |completely )?understand (?:why|how) you\b",
        r"\banyone (?:would|in your (?:shoes|position|situation) would)\b",
        r"\bof course you(?:'re| are| feel| would|'d)\b",
        r"\byour (?:feelings|reaction|frustration|anger|worry|fear)s? (?:is|are|seems?) (?:valid|understandable|natural)\b",
        r"\b(?:it's|it is) (?:ok|okay|alright|all right) to (?:feel|be)\b",
        r"\bwho wouldn't\b",
    ),
    "normalising": _rx(
        r"\b(?:a lot of|lots of|many|most) (?:people|folks|clients|patients|parents|smokers|students)\b",
        r"\b(?:it's|it is|that's|that is|this is) (?:very |really |pretty |quite |so |actually |fairly |also )?(?:common|normal|natural|typical|not unusual|not uncommon)\b",
        r"\bnot uncommon\b",
        r"\byou(?:'re| are) (?:not|far from) (?:the only one|alone)\b",
        r"\b(?:we've|we have) all been there\b",
        r"\beveryone (?:goes through|struggles|feels|has)\b",
        r"\b(?:i|we) hear (?:that|this) (?:a lot|often|pretty often)\b",
    ),
    "affirmation": _rx(
        rf"\b{_YOU} (?:really |clearly |obviously )?(?:worked|working|tried|trying) (?:really |so )?hard\b",
        r"\b(?:that|it|this) (?:took|takes) (?:a lot of |real |some )?(?:courage|guts|strength|effort|commitment)\b",
        r"\b(?:that's|that is|what) (?:a )?(?:real |great |big |huge )?(?:strength|accomplishment|achievement)\b",
        rf"\b{_YOU} should be (?:really |very )?proud\b",
        rf"\b{_YOU}(?:'ve| have)? (?:really )?(?:managed|succeeded|accomplished|achieved|stuck with)\b",
        r"\b(?:i|i really) (?:appreciate|admire|respect) (?:your|you|that you|how you)\b",
        r"\b(?:good|great|well) (?:for you|done|thinking)\b",
        rf"\b{_YOU}(?:'re| are) (?:someone|a person) who (?:really )?(?:cares|values|knows|wants)\b",
        rf"\b{_YOU} (?:really |clearly )?care (?:a lot |deeply |so much )?about\b",
        r"\bthat shows (?:how|that you|your|real)\b",
        rf"\b{_YOU} have (?:the|a lot of) (?:strength|resilience|determination)\b",
    ),
    "summary": _rx(
        r"\blet me (?:see if i can |just |try to )?(?:sum(?:marize|marise)?|sum (?:it |that |things )?up|pull (?:this|that|it|things) together|recap)\b",
        r"\b(?:to|just to|so to) (?:sum(?:marize|marise)|sum up|recap)\b",
        r"\bin summary\b",
        r"\bso far (?:you've|you have|we've|we have) (?:told|talked|said|discussed|mentioned)\b",
        r"\bon (?:the )?one hand\b.*\bon the other\b",
        r"\blet me (?:see|check) if i(?:'ve| have) got (?:this|that|it|everything)\b",
        r"\bwhat i(?:'m| am) hearing (?:so far|overall|today) is\b",
    ),
    "judgmental": _rx(
        rf"\b{_YOU} (?:should|shouldn't|should not|ought to) have\b",
        r"\bwhat were you thinking\b",
        r"\bwhy (?:would|did) you (?:ever |even )?(?:do|think|let)\b",
        r"\bwhy didn't you (?:just )?\b",
        r"\b(?:that's|that is|that was|you're being|you are being|you were being|it's|how) (?:so |really |very |pretty |just |a bit )?(?:irresponsible|stupid|silly|ridiculous|selfish|lazy|careless|foolish|immature|wrong of you)\b",
        rf"\b{_YOU}(?:'re| are) (?:just )?(?:in denial|making excuses|an addict|an alcoholic)\b",
        r"\b(?:you|they) always (?:do this|make excuses)\b",
        r"\byou know better\b",
        r"\bthat's (?:your|on you|no excuse)\b",
        r"\bno excuse\b",
    ),
    "directive": _rx(
        r"\byou (?:really |just |simply )?(?:need|have|got) to\b",
        r"\byou've got to\b",
        r"\byou must\b",
        r"\byou (?:really |definitely |absolutely )?should(?!n't have| not have| have)\b(?! you)",
        r"\bi (?:want|need) you to\b",
        r"\b(?:just )?(?:stop|quit) (?:drinking|smoking|using|doing|eating|making)\b",
        r"\byou(?:'d| had) better\b",
        r"\bthe (?:only|best) (?:thing|way) (?:to do |for you )?is to\b",
        r"^\s*(?:just )?(?:don't|do not) (?!know\b|worry\b|mind\b|you\b)",
    ),
    "repair": _rx(
        r"\bi (?:may|might) have (?:misunderstood|misread|got(?:ten)? (?:that|it) wrong|pushed|been pushing)\b",
        r"\b(?:that's|that is|that was) (?:on me|my (?:fault|mistake))\b",
        r"\bi(?:'m| am) sorry,? (?:i|if i|that i)\b",
        r"\bhow (?:is|are) (?:this|these sessions|our sessions|this work|things between us|we) (?:going|doing) for you\b",
        r"\bhow (?:is|does) it feel (?:to be )?(?:talking|working) (?:with|to) me\b",
        r"\b(?:let's|should we|we could) (?:try|do) something different\b",
        r"\bthe reason i(?:'m| am) (?:asking|suggesting)\b",
        r"\bit sounds like i (?:missed|didn't get|got)\b",
    ),
    "rupture_withdrawal": _rx(
        r"^\W*(?:i )?(?:don't|dunno|do not) know\W*$",
        r"^\W*(?:whatever|fine|i guess|maybe|sure|nothing|not really|no idea|i'm fine|it's fine|ok|okay)\W*$",
        r"\b(?:it|that) doesn't (?:really )?matter\b",
        r"\bwhatever you (?:think|want|say)\b",
        r"\bi(?:'m| am) (?:not|not at all) (?:upset|angry|sad|bothered|mad|worried)\b",
        r"\b(?:can we|could we|i'd rather) (?:talk about|change the subject|move on|not talk)\b",
        r"\bi don't (?:really )?want to (?:talk|get into|go into) (?:about )?(?:it|that|this)\b",
        r"\bwhat's the point\b",
        r"\bi(?:'m| am) (?:such )?(?:a failure|useless|hopeless|worthless|an idiot|stupid)\b",
        r"\bnothing (?:will|is going to|ever) (?:change|help|work)s?\b",
        r"\b(?:it's|it is|that's) all my fault\b",
        r"\bi (?:just )?give up\b",
    ),
    "rupture_confrontation": _rx(
        r"\byou (?:don't|do not|just don't|never) (?:understand|get it|listen|care)\b",
        r"\byou(?:'re| are) not (?:listening|helping|hearing me)\b",
        r"\b(?:this|that|these sessions|therapy|it) (?:is|isn't|is not|are|aren't|are not) (?:pointless|useless|a waste|helping|working|going anywhere)\b",
        r"\b(?:waste|wasting) (?:of )?(?:my )?time\b",
        r"\b(?:that|it|this) (?:won't|will never|isn't going to|doesn't) (?:work|help)\b",
        r"\bi (?:already|have already) tried (?:that|this|it|all that)\b",
        r"\bstop (?:telling me|lecturing|pushing|judging)\b",
        r"\byou(?:'re| are) (?:judging|lecturing|blaming|pushing) me\b",
        r"\bwhy (?:do|should) i (?:have to|even|bother)\b",
        r"\bi(?:'m| am) not (?:coming back|doing (?:that|this|it|those|these))\b",
        r"\bi don't (?:see|get) (?:the point|how this|why this|what good)\b",
        r"\b(?:a|another|different) (?:therapist|counsellor|counselor)\b",
        r"\byou(?:'re| are) (?:just )?like (?:everyone|all the|my)\b",
    ),
}


@dataclass(frozen=True)
class Marker:
    name: str
    cue: str  # the words that triggered it, shown to the therapist as evidence
    experimental: bool = True

    def to_dict(self) -> dict[str, object]:
        return {"type": self.name, "cue": self.cue, "experimental": self.experimental}


_OPEN_QUESTION_START = re.compile(r"\b(?:what|how|why|tell me|describe|in what way)\b", re.I)


def detect(text: str, role: str, previous: str = "", previous_role: str = "") -> list[Marker]:
    """Markers found in one turn; ``role`` is "therapist" or "client"."""
    names = THERAPIST_MARKERS if role == "therapist" else CLIENT_MARKERS
    found: list[Marker] = []
    clean = re.sub(r"\s+", " ", text.replace("’", "'")).strip()
    for name in names:
        m = PATTERNS[name].search(clean)
        if m:
            found.append(Marker(name, m.group(0).strip()))
    if role == "client" and "rupture_withdrawal" not in {m.name for m in found}:
        # minimal answer to an open question: a sign of withdrawal only in that context
        words = re.findall(r"[a-z']+", clean.lower())
        if (
            (
                previous_role == "therapist"
                and "?" in previous
                and _OPEN_QUESTION_START.search(previous)
            )
            and 0 < len(words) <= 2
            and words[0]
            in {
                "no",
                "nope",
                "nah",
                "dunno",
                "nothing",
                "fine",
                "meh",
                "whatever",
            }
        ):
            found.append(Marker("rupture_withdrawal", clean))
    return found
