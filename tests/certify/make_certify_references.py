#!/usr/bin/python3
"""Reference values for tests/certify, computed with mpmath at 80 significant digits, independently
of chainrule: every formula is written out here by hand.

    /usr/bin/python3 tests/certify/make_certify_references.py > tests/certify/certify.ref

Each line is `key value`; values are decimal strings with 30 significant digits (plenty for the
displays the tests use: the test rounds them itself)."""
from mpmath import mp, mpf, exp, nstr

mp.dps = 80


def sigmoid(z):
    return 1 / (1 + exp(-z))


def put(key, value):
    print(key, nstr(value, 30, strip_zeros=False, min_fixed=-30, max_fixed=30))


# cancellation.chain: E = (x + a)^2 - x^2 - 2 a x = a^2, dE/da = 2 (x + a) - 2 x = 2 a
x, a = mpf(100000000), mpf("0.1")
put("cancellation.E", (x + a) ** 2 - x ** 2 - 2 * a * x)
put("cancellation.dE_da", 2 * (x + a) - 2 * x)

# saturated.chain: E = 1 - sigmoid(z), dE/dz = -sigmoid(z) (1 - sigmoid(z))
z = mpf(40)
put("saturated.out", sigmoid(z))
put("saturated.E", 1 - sigmoid(z))
put("saturated.dE_dz", -sigmoid(z) * (1 - sigmoid(z)))

# accumulated.chain: full-batch gradient descent, lr 1, gradients summed over the four rows,
# E = 1/2 (y - out)^2, dE/dw_i = -(y - out) out (1 - out) x_i. loss_history k is the summed loss
# of the batch before update k + 1 (k = 0 .. 9999), and entry 10000 the summed loss after the last
# update (one batch = the whole data set, so "the last batch" is all rows). Every 25th entry is
# written, to keep this file small.
rows = [([0, 0, 1], 0), ([1, 1, 1], 1), ([1, 0, 1], 1), ([0, 1, 1], 0)]
w = [mpf("-0.12801019571599248"), mpf("-0.9481475363442173"), mpf("0.09932495575741829")]
for k in range(10001):
    loss = mpf(0)
    grad = [mpf(0)] * 3
    for xs, y in rows:
        out = sigmoid(sum(wi * xi for wi, xi in zip(w, xs)))
        loss += (y - out) ** 2 / 2
        delta = -(y - out) * out * (1 - out)
        grad = [g + delta * xi for g, xi in zip(grad, xs)]
    if k % 25 == 0:
        put(f"accumulated.loss.{k}", loss)
    if k == 9999:
        for i in range(3):
            put(f"accumulated.last_gradient.{i + 1}", grad[i])
    if k < 10000:
        w = [wi - gi for wi, gi in zip(w, grad)]
for i in range(3):
    put(f"accumulated.final_w.{i + 1}", w[i])
