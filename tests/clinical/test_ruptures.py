import pytest

from alliance.monitoring.ruptures import RuptureSettings, SessionRating, detect_ruptures


def run(scores, reported=(), concern=(), **settings):
    series = [
        SessionRating(n, s, n in reported, n in concern) for n, s in enumerate(scores, start=1)
    ]
    return detect_ruptures(series, RuptureSettings(**settings))


def summary(report):
    return [
        (e.start_session, e.lowest_session, e.end_session, e.status, e.rule)
        for e in report.episodes
    ]


def test_clear_v_shaped_dip_is_repaired():
    report = run([5, 5, 6, 5, 2, 4, 5])
    assert summary(report) == [(5, 5, 7, "repaired", "k_sd")]
    ev = report.episodes[0].evidence
    # baseline 5, 5, 6, 5: mean 5.25, sample SD 0.5 floored to 0.6 (10% of 0-6), 2 SD -> 4.05
    assert ev["baseline_scores"] == [5, 5, 6, 5]
    assert ev["baseline_mean"] == pytest.approx(5.25)
    assert ev["baseline_sd"] == pytest.approx(0.6)
    assert ev["threshold"] == pytest.approx(4.05)
    # repair target: min(mean 5.25, score before the dip 5) - 1 SD = 4.4; 4 at session 6 is not enough
    assert ev["repair_target"] == pytest.approx(4.4)
    assert ev["settings"]["k"] == 2.0
    assert (
        ev["explanation"]
        == "Session 5: 2 is at or below the client's own level 5.25 - 2 x SD 0.6 = 4.05"
    )
    assert not report.low_information


def test_score_exactly_on_the_threshold_counts():
    # baseline 6, 6, 6: SD 0 floored to 0.6, threshold 6 - 1.2 = 4.8
    assert summary(run([6, 6, 6, 4.8, 6])) == [(4, 4, 5, "repaired", "k_sd")]
    assert summary(run([6, 6, 6, 4.9, 6])) == []


def test_no_k_sd_rule_before_min_baseline():
    assert summary(run([6, 6, 1, 6])) == []  # only two previous sessions
    assert summary(run([6, 6, 1, 6], min_baseline=2)) == [(3, 3, 4, "repaired", "k_sd")]


def test_dip_never_repaired_is_unrepaired_and_late_recovery_is_recorded():
    report = run([5, 5, 5, 5, 2, 2, 2, 2, 2, 5])
    assert summary(report) == [(5, 5, 8, "unrepaired", "k_sd")]
    assert report.episodes[0].recovered_session == 10
    # one episode, not one per low session
    assert len(report.episodes) == 1


def test_dip_still_inside_the_window_is_open():
    assert summary(run([5, 5, 5, 5, 2, 3])) == [(5, 5, None, "open", "k_sd")]


def test_repair_window_is_a_setting():
    scores = [5, 5, 5, 5, 2, 3, 3, 3, 5]  # back at session 9 = start + 4
    assert summary(run(scores))[0][3] == "unrepaired"
    assert summary(run(scores, repair_window=4)) == [(5, 5, 9, "repaired", "k_sd")]


def test_slow_decline_escapes_k_sd_but_not_the_cutoff():
    decline = [6, 5.5, 5.5, 5, 5, 4.5, 4.5, 4, 4, 3.5, 3.5, 3, 3]
    # the baseline follows the decline, so the k*SD rule alone never fires
    assert summary(run(decline)) == []
    report = run(decline, cutoff=4)
    assert summary(report) == [(10, 12, 13, "unrepaired", "cutoff+k_sd")]
    assert report.episodes[0].rules[0] == "cutoff"
    # 3.5 and 3 are below the cut-off, so they cannot count as repair even near the previous 4
    assert report.episodes[0].evidence["repair_target"] == 4


def test_drop_from_previous_rule():
    scores = [6, 5, 6, 5, 6, 4.5, 6]  # a 1.5 fall: inside 2 SD of a wobbly baseline
    assert summary(run(scores)) == []
    assert summary(run(scores, drop_from_previous=1.5)) == [(6, 6, 7, "repaired", "drop")]


def test_noise_does_not_alert_at_2_sd_but_does_at_1_sd():
    noise = [5, 4.5, 5.5, 5, 4.5, 5, 5.5, 4.5, 5, 5.5, 4.5, 5]
    assert summary(run(noise)) == []
    # Gumz et al. 2012: the count depends on the criterion; the lenient rule finds "ruptures" here
    lenient = run(noise, k=1)
    assert len(lenient.episodes) == 2 and all(e.rule == "k_sd" for e in lenient.episodes)


def test_ceiling_stuck_series_is_low_information():
    report = run([6, 6, 6, 6, 6, 6, 5, 6, 6, 6])
    assert report.episodes == []
    assert report.low_information is True
    assert report.low_information_reason.startswith(
        "9 of 10 ratings (90%) are at the scale maximum 6"
    )
    assert run([6, 6, 5, 6, 5, 6, 5, 6, 6, 5]).low_information is False  # 60%


def test_reported_rupture_with_a_high_score():
    report = run([6, 6, 5.5, 6, 6], reported={3})
    assert summary(report) == [(3, 3, 4, "repaired", "reported")]
    assert (
        report.episodes[0].evidence["explanation"]
        == "Session 3: the client said something felt off"
    )


def test_a_new_report_blocks_repair():
    report = run([6, 6, 6, 6, 6, 6, 6], reported={3, 4}, concern={5})
    assert summary(report) == [(3, 3, 6, "repaired", "reported+concern")]


def test_concern_between_sessions_opens_an_episode_on_a_ceiling_series():
    report = run([6, 6, 6, 6, 6, 6], concern={4})
    assert summary(report) == [(4, 4, 5, "repaired", "concern")]
    assert report.low_information  # still honest about the ratings themselves


def test_repeated_task_not_working_opens_an_episode_and_blocks_repair_while_it_repeats():
    series = [SessionRating(n, 5) for n in (1, 2, 3)] + [
        SessionRating(4, 5, task_not_working=True),
        SessionRating(5, 5, task_not_working=True),
        SessionRating(6, 5),
    ]
    report = detect_ruptures(series)
    assert summary(report) == [(4, 4, 6, "repaired", "task_not_working")]
    assert "a task isn't working" in report.episodes[0].evidence["explanation"]


def test_sessions_without_a_rating_and_unsorted_input():
    series = [
        SessionRating(4, 2),
        SessionRating(1, 5),
        SessionRating(2, 5),
        SessionRating(3, 5),
        SessionRating(5, None),
        SessionRating(6, 5),
    ]
    assert summary(detect_ruptures(series)) == [(4, 4, 6, "repaired", "k_sd")]


def test_rupture_sessions_are_left_out_of_the_next_baseline():
    report = run([5, 5, 5, 1, 5, 5, 5, 3.5])
    # second dip: baseline is 5, 5, 5, 5, 5 (session 4 excluded), so 3.5 <= 5 - 1.2
    assert summary(report) == [(4, 4, 5, "repaired", "k_sd"), (8, 8, None, "open", "k_sd")]
    assert 1 not in report.episodes[1].evidence["baseline_scores"]


def test_invalid_series_and_settings():
    with pytest.raises(ValueError, match="duplicate session"):
        detect_ruptures([SessionRating(1, 5), SessionRating(1, 4)])
    with pytest.raises(ValueError, match="session 2: score 9 is outside the scale 0-6"):
        detect_ruptures([SessionRating(1, 5), SessionRating(2, 9)])
    with pytest.raises(ValueError, match="scale_max"):
        RuptureSettings(scale_min=5, scale_max=5)
    with pytest.raises(ValueError, match="cutoff must lie on the scale"):
        RuptureSettings(cutoff=9)


def test_other_scales_scale_the_sd_floor():
    # SRS 0-40: floor 4, baseline 38,38,38 -> threshold 30
    assert summary(run([38, 38, 38, 30, 38], scale_max=40)) == [(4, 4, 5, "repaired", "k_sd")]
    assert summary(run([38, 38, 38, 31, 38], scale_max=40)) == []
