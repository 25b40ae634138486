import io
import json
import math

import pytest

from alliance.goals.cli import gas_main
from alliance.goals.gas import GasError, gas_t_score, goal_weight


def test_all_goals_as_expected_is_50():
    assert gas_t_score([0, 0, 0]) == 50
    assert gas_t_score([0, 0], [3, 9]) == 50


def test_unweighted_hand_computed():
    # sum x = 2; sqrt(0.7*2 + 0.3*4) = sqrt(2.6) = 1.61245; 50 + 20/1.61245 = 62.4035
    assert gas_t_score([1, 1]) == pytest.approx(62.4035, abs=1e-4)
    # one goal: sqrt(0.7 + 0.3) = 1 -> 50 + 10x
    assert gas_t_score([-2]) == pytest.approx(30.0)


def test_unequal_weights_hand_computed():
    # sum wx = 0 + 1 - 3 = -2; sum w^2 = 14; (sum w)^2 = 36; sqrt(9.8 + 10.8) = sqrt(20.6) = 4.53872
    assert gas_t_score([0, 1, -1], [2, 1, 3]) == pytest.approx(50 - 20 / math.sqrt(20.6))
    assert gas_t_score([0, 1, -1], [2, 1, 3]) == pytest.approx(45.5934, abs=1e-4)
    # weights change the answer: the same levels unweighted give 50
    assert gas_t_score([0, 1, -1]) == 50


def test_rho_changes_the_denominator():
    # rho 0: sqrt(sum w^2) = sqrt(2) -> 50 + 20/1.41421 = 64.142
    assert gas_t_score([1, 1], rho=0) == pytest.approx(64.1421, abs=1e-4)


def test_goal_weight_is_importance_times_difficulty():
    assert goal_weight(3, 2) == 6
    with pytest.raises(GasError, match="importance 0 must be a positive number"):
        goal_weight(0, 2)


@pytest.mark.parametrize(
    "levels,weights,rho,message",
    [
        ([0, 3], None, 0.3, "goal 2: level 3 is not one of"),
        ([0, 1.5], None, 0.3, "goal 2: level 1.5"),
        ([], None, 0.3, "at least one goal"),
        ([0, 1], [1], 0.3, "2 levels but 1 weights"),
        ([0, 1], [1, -2], 0.3, "goal 2: weight -2 must be a positive number"),
        ([0, 1], None, 1.0, "rho 1.0 must be at least 0 and below 1"),
    ],
)
def test_invalid_input(levels, weights, rho, message):
    with pytest.raises(GasError, match=message):
        gas_t_score(levels, weights, rho)


def _run(*argv):
    out, err = io.StringIO(), io.StringIO()
    return gas_main(list(argv), out, err), out.getvalue(), err.getvalue()


def test_cli_text_and_json():
    rc, out, err = _run("--levels", "0,1,-1", "--weights", "2,1,3")
    assert (rc, out, err) == (0, "GAS T-score: 45.59 (3 goals, rho 0.3)\n", "")
    rc, out, _ = _run("--levels", "-1,-2", "--format", "json")  # a value starting with "-"
    data = json.loads(out)
    assert rc == 0 and data["t_score"] == pytest.approx(50 - 30 / math.sqrt(2.6), abs=0.01)
    assert data["levels"] == [-1, -2] and data["weights"] == [1.0, 1.0] and data["rho"] == 0.3


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--levels", "0,3"], "error: goal 2: level 3 is not one of -2, -1, 0, 1, 2\n"),
        (["--levels", "0,x"], "error: --levels: goal 2: 'x' is not a whole number\n"),
        (["--levels", "0,1", "--weights", "1"], "error: 2 levels but 1 weights\n"),
        (
            ["--weights", "1"],
            "error: alliance gas: the following arguments are required: --levels\n",
        ),
    ],
)
def test_cli_errors_exit_2_with_one_line(argv, message):
    rc, out, err = _run(*argv)
    assert (rc, out, err) == (2, "", message)
