from __future__ import annotations

import pytest

from alliance.nlp.roles import guess_roles, roles_for
from alliance.nlp.transcripts import TranscriptError, parse_transcript, read_transcript


def test_zoom_vtt_merges_consecutive_cues_of_one_speaker(fixtures):
    t = read_transcript(str(fixtures / "zoom.vtt"))
    assert t.format == "vtt"
    assert t.speakers == ["Dr. Maya Lee", "Sam Ortiz"]
    assert [turn.speaker for turn in t.turns] == [
        "Dr. Maya Lee",
        "Sam Ortiz",
        "Dr. Maya Lee",
        "Sam Ortiz",
    ]
    merged = t.turns[1]
    assert (
        merged.text == "Honestly, pretty rough. I keep skipping my walks. And I feel bad about it."
    )
    assert (merged.start, merged.end) == (5.0, 12.0)  # start of first cue, end of last
    assert [turn.index for turn in t.turns] == [0, 1, 2, 3]


def test_teams_vtt_voice_tags_notes_and_cue_settings(fixtures):
    t = read_transcript(str(fixtures / "teams.vtt"))
    assert t.speakers == ["Jordan Park (Counsellor)", "Alex Kim"]
    assert t.turns[1].text == "I guess the arguments at home. They have been getting worse."
    assert t.turns[2].end == 62.75
    assert "<v" not in " ".join(turn.text for turn in t.turns)


def test_srt_with_multiline_cue(fixtures):
    t = read_transcript(str(fixtures / "session.srt"))
    assert t.format == "srt"
    assert len(t.turns) == 3
    assert (
        t.turns[2].text
        == "You're here because someone else is worried, and you're not convinced yet."
    )
    assert t.turns[1].start == 3.5 and t.turns[1].end == 10.0
    assert t.has_timestamps


def test_plain_text_with_optional_timestamps_and_multiline_turns(fixtures):
    t = read_transcript(str(fixtures / "plain.txt"))
    assert t.format == "text"
    assert [turn.speaker for turn in t.turns] == ["Therapist", "Robin", "Therapist", "Robin"]
    assert t.turns[0].text == "Hi Robin, good to see you again. What would you like to talk about?"
    assert t.turns[1].text == "Work, mostly. The deadlines are piling up and I can't sleep."
    assert [turn.start for turn in t.turns] == [5.0, 12.0, 30.0, None]
    assert not t.has_timestamps


def test_plain_text_without_timestamps(fixtures):
    t = read_transcript(str(fixtures / "plain_no_ts.txt"))
    assert [turn.speaker for turn in t.turns] == ["Counsellor", "Client", "Counsellor"]
    assert t.turns[1].text == "I tried it twice. It helped a bit on Tuesday."
    assert all(turn.start is None for turn in t.turns)


def test_bytes_with_bom_and_crlf():
    data = "\ufeffWEBVTT\r\n\r\n00:01.000 --> 00:02.500\r\nAna: hello there\r\n".encode()
    t = parse_transcript(data, "x.vtt")
    assert t.turns[0].speaker == "Ana" and t.turns[0].text == "hello there"
    assert t.turns[0].end == 2.5


def test_utf16_is_accepted():
    t = parse_transcript("Therapist: hi\nClient: hello\n".encode("utf-16"), "a.txt")
    assert [x.speaker for x in t.turns] == ["Therapist", "Client"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad_timestamp.vtt", "line 12: timestamp '00:61:00.000' is not valid"),
        ("bad_missing_timing.srt", "line 6: expected a cue timing line"),
        ("no_header.vtt", "line 1: a WebVTT file must start with 'WEBVTT'"),
        ("no_speakers.txt", "line 1: expected 'Speaker: text'"),
        ("latin1.txt", "line 1: the file is not UTF-8 text"),
        ("image.txt", "binary data"),
        ("empty.vtt", "the file is empty"),
    ],
)
def test_malformed_files_name_the_problem(fixtures, name, message):
    with pytest.raises(TranscriptError) as err:
        read_transcript(str(fixtures / name))
    assert message in str(err.value)


def test_cue_ending_before_it_starts():
    text = "WEBVTT\n\n00:00:05.000 --> 00:00:04.000\nA: hi\n"
    with pytest.raises(TranscriptError, match=r"^line 3: cue ends"):
        parse_transcript(text, "a.vtt")


def test_vtt_cue_without_any_speaker_names_the_line():
    text = "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\njust captions\n"
    with pytest.raises(TranscriptError, match=r"^line 4: no speaker name"):
        parse_transcript(text, "a.vtt")


def test_whitespace_only_file_is_empty():
    with pytest.raises(TranscriptError, match="empty"):
        parse_transcript(b"  \n\n ", "a.txt")


def test_missing_file_is_a_transcript_error(tmp_path):
    with pytest.raises(TranscriptError, match="no such file"):
        read_transcript(str(tmp_path / "nope.vtt"))


def test_guess_roles_uses_names_then_behaviour(fixtures):
    assert guess_roles(read_transcript(str(fixtures / "teams.vtt"))) == {
        "Jordan Park (Counsellor)": "therapist",
        "Alex Kim": "client",
    }
    # no role words in the names: the one who asks questions and echoes is the therapist
    text = (
        "Ana: I have been drinking more since the move.\n"
        "Ben: What has the drinking been like since you moved?\n"
        "Ana: Most nights, a few glasses.\n"
        "Ben: A few glasses most nights since the move. How do you feel about that?\n"
        "Ana: Not great.\n"
    )
    assert guess_roles(parse_transcript(text, "s.txt")) == {"Ana": "client", "Ben": "therapist"}


def test_explicit_therapist_overrides_the_guess(fixtures):
    t = read_transcript(str(fixtures / "zoom.vtt"))
    assert roles_for(t, "sam ortiz") == {"Dr. Maya Lee": "client", "Sam Ortiz": "therapist"}
    with pytest.raises(ValueError, match="not in this transcript"):
        roles_for(t, "Nobody")


def test_plain_text_invalid_timestamp_names_the_line():
    text = (
        "[00:00:05] Therapist: Hello.\n[00:00:09] Client: Hi.\n[00:61:10] Therapist: How are you?\n"
    )
    with pytest.raises(TranscriptError, match=r"^line 3: timestamp '00:61:10' is not valid"):
        parse_transcript(text, "notes.txt")


def test_timestamp_on_its_own_line_starts_the_next_turn():
    t = parse_transcript("00:01:00\nTherapist: Hello.\n00:01:04\nClient: Hi.\n", "notes.txt")
    assert [turn.start for turn in t.turns] == [60.0, 64.0]


def test_a_cue_with_two_voices_credits_each_speaker():
    text = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Ana>Shall we start?</v> <v Ben>Sure.</v>\n\n"
        "00:00:03.500 --> 00:00:05.000\nBen: Where were we\nlast time?\n"
    )
    t = parse_transcript(text, "two.vtt")
    assert [(x.speaker, x.text) for x in t.turns] == [
        ("Ana", "Shall we start?"),
        ("Ben", "Sure. Where were we last time?"),
    ]
    assert t.turns[1].start == 1.0 and t.turns[1].end == 5.0


def test_cue_without_a_name_continues_the_previous_speaker():
    text = "1\n00:00:01,000 --> 00:00:02,000\nAna: I was saying\n\n2\n00:00:02,000 --> 00:00:03,000\nthat it helps.\n"
    t = parse_transcript(text, "a.srt")
    assert [(x.speaker, x.text, x.end) for x in t.turns] == [
        ("Ana", "I was saying that it helps.", 3.0)
    ]
