from __future__ import annotations

import pytest

from alliance.nlp.data import DataError, load_annomi_csv

HEADER = (
    "transcript_id,video_url,utterance_id,interlocutor,utterance_text,annotator_id,"
    "main_therapist_behaviour,reflection_subtype,question_subtype,therapist_input_subtype,client_talk_type\n"
)


def write(tmp_path, rows):
    path = tmp_path / "mini.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


def test_majority_vote_per_utterance_and_context(tmp_path):
    path = write(
        tmp_path,
        [
            # one therapist utterance coded by three annotators: 2 x complex, 1 x simple
            "7,u1,0,therapist,So it matters to you.,1,reflection,complex,,,",
            "7,u1,0,therapist,So it matters to you.,2,reflection,simple,,,",
            "7,u1,0,therapist,So it matters to you.,3,reflection,complex,,,",
            # a tie (1 advice, 1 information) is broken alphabetically, independent of row order
            "7,u1,2,therapist,Try a diary.,2,therapist_input,,,information,",
            "7,u1,2,therapist,Try a diary.,1,therapist_input,,,advice,",
            "7,u1,1,client,It does.,1,,,,,change",
        ],
    )
    recs = load_annomi_csv(path)
    assert [r.utterance_id for r in recs] == [0, 1, 2]  # ordered by utterance_id, not file order
    assert recs[0].reflection_type == "complex" and recs[0].behaviour == "reflection"
    assert recs[2].input_type == "advice"
    assert recs[1].talk_type == "change" and recs[1].behaviour is None
    assert recs[1].prev == "So it matters to you." and recs[1].next == "Try a diary."
    assert recs[0].prev == "" and recs[0].group == "u1"


def test_not_annomi_format(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="missing column 'transcript_id'"):
        load_annomi_csv(path)


def test_bad_utterance_id_names_the_line(tmp_path):
    path = write(tmp_path, ["1,u,0,therapist,Hi.,1,other,,,,", "1,u,x,client,Hi.,1,,,,,neutral"])
    with pytest.raises(DataError, match="line 3: utterance_id is not an integer"):
        load_annomi_csv(path)
