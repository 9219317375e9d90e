#!/usr/bin/python3
"""Writes examples/data/digits_{train,test}.csv and examples/digits.chain.

Input: the 8x8 handwritten digits from Debian 12's python3-sklearn (1,797 rows, 64 pixel values
0-16, the digit in the last column), as copied to ../shared/data/digits.csv.gz. Pass its path:

    /usr/bin/python3 scripts/make_digits_example.py /work/shared/data/digits.csv.gz

Deterministic: the held-out split (the first 80 % of a random.Random(1) shuffle for training, the
rest for testing) and the initial weights (random.Random(42), uniform in +-sqrt(6/(fan_in +
fan_out)), Glorot's range, rounded to 4 decimals) come from seeded Python generators, so rerunning
rewrites the same bytes. The CSV keeps the pixel values as given (0-16) and writes the digit as a
one-hot target of 10 columns (t_1 is digit 0, ..., t_10 is digit 9); the model scales the pixels.
"""

import gzip
import math
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HIDDEN = 32
CLASSES = 10
PIXELS = 64


def read_rows(path):
    rows = []
    with gzip.open(path, "rt") as f:
        for line in f:
            cells = line.strip().split(",")
            if len(cells) != PIXELS + 1:
                raise ValueError("expected 65 columns, got %d" % len(cells))
            rows.append(([int(c) for c in cells[:PIXELS]], int(cells[PIXELS])))
    return rows


def write_csv(path, rows):
    header = ["x_%d" % (k + 1) for k in range(PIXELS)] + ["t_%d" % (k + 1) for k in range(CLASSES)]
    with open(path, "w", newline="\n") as f:
        f.write(",".join(header) + "\n")
        for pixels, digit in rows:
            onehot = ["1" if k == digit else "0" for k in range(CLASSES)]
            f.write(",".join([str(p) for p in pixels] + onehot) + "\n")


def weights(rng, rows, cols):
    bound = math.sqrt(6.0 / (rows + cols))
    return [["%.4f" % rng.uniform(-bound, bound) for _ in range(cols)] for _ in range(rows)]


def matrix_text(m, indent):
    lines = ["[" + ", ".join(row) + "]" for row in m]
    return "[" + (",\n" + " " * indent).join(lines) + "]"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_digits_example.py PATH/TO/digits.csv.gz")
    rows = read_rows(sys.argv[1])
    order = list(range(len(rows)))
    random.Random(1).shuffle(order)
    cut = len(rows) * 4 // 5
    train = [rows[i] for i in order[:cut]]
    test = [rows[i] for i in order[cut:]]
    data = os.path.join(ROOT, "examples", "data")
    os.makedirs(data, exist_ok=True)
    write_csv(os.path.join(data, "digits_train.csv"), train)
    write_csv(os.path.join(data, "digits_test.csv"), test)

    rng = random.Random(42)
    w1 = weights(rng, HIDDEN, PIXELS)
    w2 = weights(rng, CLASSES, HIDDEN)
    text = """# Handwritten digits: a 64-32-10 classifier (the seeds' MNIST exercise, 8x8 images)
# Data: examples/data/digits_{train,test}.csv, from Debian 12's python3-sklearn digits set (UCI),
# split 80/20 and initial weights drawn by scripts/make_digits_example.py (seeded; rerun it to
# regenerate this file). %d training rows, %d held-out rows.
precision double
display 4 decimals

input  x[64] = [%s]
target t[10] = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
param  W1[32][64] = %s
param  b1[32] = [%s]
param  W2[10][32] = %s
param  b2[10] = [%s]

a = x / 16
# The pre-activations are named: folded into softmax, every local partial of the group would
# carry both whole layers' sums, and recording them would take minutes instead of a second.
z1 = W1 @ a + b1
h = sigmoid(z1)
z2 = W2 @ h + b2
p = softmax(z2)
E = cce(t, p)

data train(x, t) = from "data/digits_train.csv"
data test(x, t) = from "data/digits_test.csv"

train minimize E using sgd(lr = 0.5) for 3 epochs on train batch 16 reduce mean trace none
evaluate p on test
""" % (len(train), len(test), ", ".join(["0"] * PIXELS), matrix_text(w1, 20),
       ", ".join(["0"] * HIDDEN), matrix_text(w2, 20), ", ".join(["0"] * CLASSES))
    with open(os.path.join(ROOT, "examples", "digits.chain"), "w", newline="\n") as f:
        f.write(text)


if __name__ == "__main__":
    main()
