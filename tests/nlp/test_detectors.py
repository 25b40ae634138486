"""Detector definitions checked on examples the project wrote itself (no client data)."""

from __future__ import annotations

import pytest

from alliance.nlp.detectors import ALL_MARKERS, EXPERIMENTAL, detect


def names(text, role="therapist", previous="", previous_role=""):
    return {m.name for m in detect(text, role, previous, previous_role)}


@pytest.mark.parametrize(
    ("text", "marker"),
    [
        (
            "Given everything you've been carrying, it makes sense that you feel worn out.",
            "validation",
        ),
        ("No wonder you were angry after that meeting.", "validation"),
        ("Anyone in your position would feel torn.", "validation"),
        ("It's okay to feel unsure about this.", "validation"),
        ("A lot of people notice the cravings are worst in the evening.", "normalising"),
        ("That's really common after a loss like this.", "normalising"),
        ("You're not the only one who finds the first week hard.", "normalising"),
        ("You've worked really hard to keep going to your appointments.", "affirmation"),
        ("That took a lot of courage, telling your sister.", "affirmation"),
        ("You clearly care a lot about being there for your kids.", "affirmation"),
        ("Let me sum up what I've heard so far.", "summary"),
        (
            "So on the one hand the drinking helps you relax, and on the other it's costing you sleep.",
            "summary",
        ),
        ("You should have known better than to drive that night.", "judgmental"),
        ("Honestly, that was pretty irresponsible.", "judgmental"),
        ("What were you thinking?", "judgmental"),
        ("You need to stop drinking before the weekend.", "directive"),
        ("I want you to write down every cigarette.", "directive"),
        ("You must take the medication every day.", "directive"),
        ("I may have misunderstood what you meant earlier.", "repair"),
        ("How are these sessions going for you so far?", "repair"),
    ],
)
def test_therapist_markers_fire_on_their_examples(text, marker):
    assert marker in names(text)


@pytest.mark.parametrize(
    "text",
    [
        "What brings you in today?",
        "You mentioned your sister earlier. How is she?",
        "It sounds like the mornings are the hardest part.",
        "Would it be okay if I shared some information about sleep?",
        "I don't know if that would suit you, what do you think?",
    ],
)
def test_neutral_therapist_turns_get_no_markers(text):
    assert names(text) == set()


@pytest.mark.parametrize(
    ("text", "marker"),
    [
        ("I don't know.", "rupture_withdrawal"),
        ("Whatever.", "rupture_withdrawal"),
        ("I'm fine, I'm not upset about it.", "rupture_withdrawal"),
        ("Can we talk about something else?", "rupture_withdrawal"),
        ("What's the point, nothing is going to change.", "rupture_withdrawal"),
        ("You don't understand what it's like.", "rupture_confrontation"),
        ("Honestly this is pointless.", "rupture_confrontation"),
        ("I already tried that and it didn't help.", "rupture_confrontation"),
        ("Stop telling me what to do.", "rupture_confrontation"),
        ("Maybe I need a different therapist.", "rupture_confrontation"),
    ],
)
def test_client_rupture_markers(text, marker):
    assert marker in names(text, role="client")


def test_minimal_answer_counts_as_withdrawal_only_after_an_open_question():
    assert "rupture_withdrawal" in names(
        "Nope.", "client", "What would make this week easier?", "therapist"
    )
    assert "rupture_withdrawal" not in names(
        "Nope.", "client", "Did you take the bus?", "therapist"
    )


@pytest.mark.parametrize(
    "text",
    [
        "I walked every day this week and it felt good.",
        "I want to cut down before my daughter's wedding.",
        "My doctor said my blood pressure is up.",
    ],
)
def test_engaged_client_turns_have_no_rupture_markers(text):
    assert names(text, role="client") == set()


def test_client_turns_never_get_therapist_markers():
    assert names("That makes sense, you need to do it.", role="client") == set()


def test_every_marker_is_reported_as_experimental():
    assert set(ALL_MARKERS) == set(EXPERIMENTAL)
    marker = detect("No wonder you feel that way.", "therapist")[0]
    assert marker.to_dict() == {"type": "validation", "cue": "No wonder", "experimental": True}
