#!/usr/bin/env python3
"""Answers files for tests/check, computed with mpmath (50 digits), independently of chainrule.

A simulated student works through Mazur's 2-2-2 example (examples/mazur.chain: sgd, lr 0.5,
simultaneous updates) and writes every value rounded half-even to D decimals. `carry=True`
computes each step from the student's own written (rounded) numbers; `carry=False` writes the
exact values rounded. `plant` replaces the written value of one step by a mistaken one; later
steps then compute from it, as a student would.

    python3 tests/check/make_answers.py     # rewrites tests/check/data/mazur_*.txt
"""
from decimal import Decimal, ROUND_HALF_EVEN
from pathlib import Path

from mpmath import mp, mpf, exp

mp.dps = 50
DATA = Path(__file__).resolve().parent / "data"

GIVEN = dict(i1="0.05", i2="0.10", t1="0.01", t2="0.99", w1="0.15", w2="0.20", w3="0.25",
             w4="0.30", w5="0.40", w6="0.45", w7="0.50", w8="0.55", b1="0.35", b2="0.60")
LR = mpf("0.5")


def rounded(x, decimals):
    text = mp.nstr(x, 60, strip_zeros=False, min_fixed=-100, max_fixed=100)
    q = Decimal(text).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
    return format(q, "f")


def sigmoid(x):
    return 1 / (1 + exp(-x))


# (name, formula over the values written so far). The order is the order of the worked example.
STEPS = [
    ("net_h1", lambda v: v["w1"] * v["i1"] + v["w2"] * v["i2"] + v["b1"]),
    ("out_h1", lambda v: sigmoid(v["net_h1"])),
    ("net_h2", lambda v: v["w3"] * v["i1"] + v["w4"] * v["i2"] + v["b1"]),
    ("out_h2", lambda v: sigmoid(v["net_h2"])),
    ("net_o1", lambda v: v["w5"] * v["out_h1"] + v["w6"] * v["out_h2"] + v["b2"]),
    ("out_o1", lambda v: sigmoid(v["net_o1"])),
    ("net_o2", lambda v: v["w7"] * v["out_h1"] + v["w8"] * v["out_h2"] + v["b2"]),
    ("out_o2", lambda v: sigmoid(v["net_o2"])),
    ("E_o1", lambda v: mpf(1) / 2 * (v["t1"] - v["out_o1"]) ** 2),
    ("E_o2", lambda v: mpf(1) / 2 * (v["t2"] - v["out_o2"]) ** 2),
    ("E_total", lambda v: v["E_o1"] + v["E_o2"]),
    ("dE_total/dout_o1", lambda v: -(v["t1"] - v["out_o1"])),
    ("dout_o1/dnet_o1", lambda v: v["out_o1"] * (1 - v["out_o1"])),
    ("dnet_o1/dw5", lambda v: v["out_h1"]),
    ("dE_total/dw5", lambda v: v["dE_total/dout_o1"] * v["dout_o1/dnet_o1"] * v["dnet_o1/dw5"]),
    ("dE_total/dw6", lambda v: v["dE_total/dout_o1"] * v["dout_o1/dnet_o1"] * v["out_h2"]),
    ("dE_total/dout_o2", lambda v: -(v["t2"] - v["out_o2"])),
    ("dout_o2/dnet_o2", lambda v: v["out_o2"] * (1 - v["out_o2"])),
    ("dE_total/dw7", lambda v: v["dE_total/dout_o2"] * v["dout_o2/dnet_o2"] * v["out_h1"]),
    ("dE_total/dw8", lambda v: v["dE_total/dout_o2"] * v["dout_o2/dnet_o2"] * v["out_h2"]),
    ("w5+", lambda v: v["w5"] - LR * v["dE_total/dw5"]),
    ("w6+", lambda v: v["w6"] - LR * v["dE_total/dw6"]),
    ("w7+", lambda v: v["w7"] - LR * v["dE_total/dw7"]),
    ("w8+", lambda v: v["w8"] - LR * v["dE_total/dw8"]),
    ("dE_o1/dnet_o1", lambda v: v["dE_total/dout_o1"] * v["dout_o1/dnet_o1"]),
    ("dE_o1/dout_h1", lambda v: v["dE_o1/dnet_o1"] * v["w5"]),
    ("dE_o2/dnet_o2", lambda v: v["dE_total/dout_o2"] * v["dout_o2/dnet_o2"]),
    ("dE_o2/dout_h1", lambda v: v["dE_o2/dnet_o2"] * v["w7"]),
    ("dE_total/dout_h1", lambda v: v["dE_o1/dout_h1"] + v["dE_o2/dout_h1"]),
    ("dout_h1/dnet_h1", lambda v: v["out_h1"] * (1 - v["out_h1"])),
    ("dnet_h1/dw1", lambda v: v["i1"]),
    ("dE_total/dw1", lambda v: v["dE_total/dout_h1"] * v["dout_h1/dnet_h1"] * v["dnet_h1/dw1"]),
    ("dE_total/dw2", lambda v: v["dE_total/dout_h1"] * v["dout_h1/dnet_h1"] * v["i2"]),
    ("w1+", lambda v: v["w1"] - LR * v["dE_total/dw1"]),
    ("w2+", lambda v: v["w2"] - LR * v["dE_total/dw2"]),
]


def student(decimals, carry, plant=None):
    """Lines 'name = value'; plant = (name, function of the exact value of that step)."""
    exact = {k: mpf(x) for k, x in GIVEN.items()}
    own = dict(exact)
    lines = []
    for name, formula in STEPS:
        right = formula(exact)
        exact[name] = right
        value = formula(own) if carry else right
        if plant and plant[0] == name:
            value = plant[1](value, own)
        text = rounded(value, decimals)
        own[name] = mpf(text) if carry else value
        lines.append(f"{name} = {text}")
    return lines


def write(name, header, lines):
    (DATA / name).write_text("".join(f"# {h}\n" for h in header) + "\n".join(lines) + "\n")


def main():
    DATA.mkdir(exist_ok=True)
    for d in (4, 6, 9):
        write(f"mazur_exact_{d}.txt",
              [f"Mazur 2-2-2: every exact value rounded half-even to {d} decimals",
               "(tests/check/make_answers.py, mpmath at 50 digits)"],
              student(d, carry=False))
    write("mazur_carried_4.txt",
          ["Mazur 2-2-2: every value rounded to 4 decimals and the next step computed from the",
           "rounded numbers (tests/check/make_answers.py, mpmath at 50 digits)"],
          student(4, carry=True))
    # One early mistake: out_h1 = 0.593269992 written with two digits swapped (0.593629992);
    # every later step computed correctly from the student's own numbers at 9 decimals.
    write("mazur_early_mistake.txt",
          ["Mazur 2-2-2 at 9 decimals with out_h1 = 0.593629992 (digits swapped); the rest",
           "computed from it (tests/check/make_answers.py, mpmath at 50 digits)"],
          student(9, carry=True, plant=("out_h1", lambda value, own: mpf("0.593629992"))))

    # One recognisable mistake per line, every other line exact at 9 decimals. The planted value
    # is computed here from the exact values of the step's inputs.
    e = {k: mpf(x) for k, x in GIVEN.items()}
    for name, formula in STEPS:
        e[name] = formula(e)
    updated = {w: e[w] - LR * e[f"dE_total/d{w}"] for w in ("w5", "w6")}
    planted = {
        "net_h2": mpf("0.3295"),                                  # two digits swapped
        "net_o1": updated["w5"] * e["out_h1"] + updated["w6"] * e["out_h2"] + e["b2"],
        "E_o2": (e["t2"] - e["out_o2"]) ** 2,                     # factor 1/2 dropped
        "dE_total/dout_o1": e["t1"] - e["out_o1"],                # sign flipped
        "dout_o1/dnet_o1": e["out_o1"],                           # sigma(x) for sigma'(x)
        "dout_o2/dnet_o2": e["net_o2"] * (1 - e["net_o2"]),       # x(1 - x) of net_o2
        "w6+": e["w6"] - e["dE_total/dw6"],                       # learning rate missing
        "w7+": e["w7"] - 2 * LR * e["dE_total/dw7"],              # learning rate doubled
        "dE_total/dw1": e["dE_total/dw1"] * 10,                   # decimal point misplaced
        "dout_h1/dnet_h1": mpf("0.241800709"),                    # one digit differs (3 -> 8)
        "w2+": mpf("0.1996143"),                                  # a digit left out (5)
        "w8+": mpf("0.5613770121"),                               # an extra digit (7)
    }
    lines = []
    for name, _ in STEPS:
        if name in planted:
            value = planted[name]
            decimals = 9
            if name in ("net_h2",):
                decimals = 4
            elif name == "w2+":
                decimals = 7
            elif name == "w8+":
                decimals = 10
            lines.append(f"{name} = {rounded(value, decimals)}")
        else:
            lines.append(f"{name} = {rounded(e[name], 9)}")
    write("mazur_planted.txt",
          ["Mazur 2-2-2 at 9 decimals with one planted mistake on each of 12 lines",
           "(tests/check/make_answers.py, mpmath at 50 digits)"],
          lines)


if __name__ == "__main__":
    main()
