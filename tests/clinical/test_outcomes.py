import datetime as dt

from alliance.measures.outcomes import OutcomeSettings, classify

START = dt.date(2024, 1, 8)


def weekly(*scores, start_session=1):
    """(session, date, score) with one session a week from START."""
    return [(start_session + i, START + dt.timedelta(weeks=i), s) for i, s in enumerate(scores)]


def test_improvement_response_and_recovery():
    result = classify(weekly(18, 15, 12, 9))
    assert result.reliable_improvement and result.response and result.recovery
    assert not result.remission and not result.reliable_deterioration and not result.not_on_track
    assert result.change == -9
    assert result.reason == "PHQ-9 fell from 18 to 9: reliable improvement, response, recovery"
    assert result.settings["reliable_change"] == 6.0
    assert result.settings["recovery_cutoff"] == 10


def test_remission_needs_latest_below_5():
    result = classify(weekly(14, 10, 6, 4))
    assert result.remission and result.recovery and result.response
    assert classify(weekly(14, 10, 6, 5)).remission is False
    # starting below 5 is not a remission
    assert classify(weekly(4, 2)).remission is False


def test_improvement_below_threshold_is_not_reliable():
    result = classify(weekly(15, 13, 10))  # fall of 5 < 6
    assert not result.reliable_improvement and not result.recovery
    assert result.statuses == ["no reliable change"]
    assert result.reason == "PHQ-9 fell from 15 to 10: no reliable change"
    # the clinic can use Löwe et al. 2004's 5 points instead, stored with the result
    five = classify(weekly(15, 13, 10), OutcomeSettings(reliable_change=5))
    assert five.reliable_improvement and five.settings["reliable_change"] == 5


def test_response_without_reliable_improvement():
    result = classify(weekly(8, 6, 4))  # 50% fall, only 4 points
    assert result.response and not result.reliable_improvement and result.remission
    assert not result.recovery  # started below the cut-off of 10


def test_reliable_deterioration_is_not_on_track():
    result = classify(weekly(8, 11, 14))
    assert result.reliable_deterioration and result.not_on_track
    assert result.not_on_track_reasons == ["reliable deterioration: 14 at session 3, up 6 from 8"]
    assert result.next_step and "alliance" in result.next_step
    assert result.reason.startswith(
        "PHQ-9 rose from 8 to 14: reliable deterioration; not on track ("
    )


def test_transient_deterioration_still_counts():
    result = classify(weekly(10, 17, 9))
    assert not result.reliable_deterioration  # the latest is not worse
    assert result.not_on_track
    assert result.not_on_track_reasons[0].startswith("reliable deterioration: 17 at session 2")


def test_no_reliable_improvement_by_session_6():
    five = classify(weekly(15, 15, 14, 13, 12))
    assert not five.not_on_track  # session 5: not yet judged
    six = classify(weekly(15, 15, 14, 13, 12, 12))
    assert six.not_on_track
    assert six.not_on_track_reasons == ["no reliable improvement by session 6 (needs a fall of 6)"]
    later = classify(weekly(15, 15, 14, 13, 12, 12, 8))
    assert later.reliable_improvement and not later.not_on_track


def _sessions_at_weeks(pairs, start_score=20):
    out = [(1, START, start_score)]
    for n, (week, score) in enumerate(pairs, start=2):
        out.append((n, START + dt.timedelta(weeks=week), score))
    return out


def test_schueller_week_4():
    settings = OutcomeSettings(no_improvement_by_session=None)
    hit = classify(_sessions_at_weeks([(4, 17)]), settings)
    assert hit.not_on_track
    assert "17 at week 4 (session 2) is at or above 17" in hit.not_on_track_reasons[0]
    assert not classify(_sessions_at_weeks([(4, 16)]), settings).not_on_track


def test_schueller_week_9_and_14_supersede_earlier_checkpoints():
    settings = OutcomeSettings(no_improvement_by_session=None)
    week9 = classify(_sessions_at_weeks([(4, 16), (9, 13)]), settings)
    assert week9.not_on_track and "at week 9" in week9.not_on_track_reasons[0]
    week14 = classify(_sessions_at_weeks([(4, 18), (9, 12), (14, 9)]), settings)
    assert week14.not_on_track and "at week 14" in week14.not_on_track_reasons[0]
    # missed week 4 but on track by week 14
    recovered = classify(_sessions_at_weeks([(4, 18), (9, 12), (14, 8)]), settings)
    assert not recovered.not_on_track


def test_schueller_uses_session_numbers_without_dates():
    scores = [(1, None, 20), (5, None, 18)]  # session 5 = week 4 when weekly
    result = classify(scores, OutcomeSettings(no_improvement_by_session=None))
    assert result.not_on_track and "at week 4" in result.not_on_track_reasons[0]


def test_gad7_defaults_and_missing_scores():
    result = classify(
        [(1, None, 16), (2, None, None), (3, None, 11)], OutcomeSettings(instrument="gad7")
    )
    assert result.reliable_improvement  # 5 >= 4
    assert result.settings["reliable_change"] == 4.0
    assert result.settings["schueller_checkpoints"] == []  # PHQ-9 cut-points only
    assert result.latest.session_number == 3
    assert result.reason == "GAD-7 fell from 16 to 11: reliable improvement"


def test_too_few_scores():
    assert classify([]).reason == "No PHQ-9 scores in this episode yet."
    one = classify(weekly(12))
    assert one.change is None and not one.not_on_track
    assert "one score so far" in one.reason
