"""Counts print as whole numbers ("12", never "12.00") on every page, print view and PDF."""

from __future__ import annotations

from alliance.reports.stats import count_cell, format_figure, mean_cell, rate


def test_a_count_is_a_whole_number():
    assert count_cell(12, clients=6).display == "12"
    assert format_figure(12.0, "count") == "12"


def test_rates_and_means_keep_their_own_format():
    assert rate(7, 10, clients=5).display == "70%"
    assert mean_cell([4.0, 4.5], clients=5).display == "4.25"
    assert format_figure(None, "count") == "—"


def test_a_small_count_stays_suppressed():
    assert count_cell(3, clients=2).display == "suppressed (< 5 clients)"
