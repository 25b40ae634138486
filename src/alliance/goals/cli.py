"""``alliance gas``: Kiresuk-Sherman T-score from goal levels and weights, for researchers.

alliance gas --levels 0,1,-1 --weights 2,1,3 [--rho 0.3] [--format text|json]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import IO

from alliance.goals.gas import DEFAULT_RHO, GasError, gas_t_score
from alliance.lib.cli import EXIT_OK, OneLineArgumentParser, UsageError, run_cli


def _numbers(text: str, what: str, cast: type) -> list:
    values = []
    for n, part in enumerate(text.split(","), start=1):
        part = part.strip()
        try:
            values.append(cast(part))
        except ValueError:
            raise UsageError(
                f"--{what}: goal {n}: {part!r} is not a {'whole ' if cast is int else ''}number"
            ) from None
    return values


def _join_negative_values(argv: list[str]) -> list[str]:
    # argparse reads "--levels -1,0" as two options; join such values so users need not write "=".
    out: list[str] = []
    i = 0
    while i < len(argv):
        if (
            argv[i] in ("--levels", "--weights")
            and i + 1 < len(argv)
            and argv[i + 1].startswith("-")
        ):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def _gas_main(argv: list[str], stdout: IO[str], stderr: IO[str]) -> int:
    p = OneLineArgumentParser(
        prog="alliance gas",
        description="Goal Attainment Scaling T-score (Kiresuk & Sherman 1968).",
        stdout=stdout,
        stderr=stderr,
    )
    p.add_argument("--levels", required=True, help="comma-separated levels, each -2..2")
    p.add_argument("--weights", help="comma-separated positive weights (default: all 1)")
    p.add_argument(
        "--rho", type=float, default=DEFAULT_RHO, help="assumed correlation between goals (0.3)"
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    args = p.parse_args(_join_negative_values(argv))
    levels = _numbers(args.levels, "levels", int)
    weights = _numbers(args.weights, "weights", float) if args.weights else None
    try:
        t = gas_t_score(levels, weights, args.rho)
    except GasError as exc:
        raise UsageError(str(exc)) from None
    if args.format == "json":
        stdout.write(
            json.dumps(
                {
                    "t_score": round(t, 2),
                    "levels": levels,
                    "weights": weights or [1.0] * len(levels),
                    "rho": args.rho,
                    "n_goals": len(levels),
                }
            )
            + "\n"
        )
    else:
        stdout.write(f"GAS T-score: {t:.2f} ({len(levels)} goals, rho {args.rho:g})\n")
    return EXIT_OK


def gas_main(argv: Sequence[str], stdout: IO[str], stderr: IO[str]) -> int:
    """Entry point for ``alliance gas``; returns the exit status (0 ok, 2 bad input)."""
    return run_cli(_gas_main, argv, stdout, stderr)
