// The mathematical trick in self-attention, from the "Let's build GPT" notebooks, in C++.
//
// Each token t of a sequence may only look at tokens 0..t (never the future). The simplest way to let it gather
// information from its past is to average: xbow[b, t] = mean over i <= t of x[b, i] ("bag of words").
// Three ways to compute the same thing, from slow and obvious to the form attention uses:
//   version 1: loops;
//   version 2: one matrix product with a row-normalised lower-triangular matrix;
//   version 3: softmax of a matrix whose future entries are -inf.
// With manual_seed(1337) the numbers are PyTorch's, so they can be read beside the notebook's output.
#include <cmath>
#include <iostream>

#include "engine/engine.h"

using ag::Slice;
using ag::Tensor;

int main() {
    try {
        ag::manual_seed(1337);
        const int64_t B = 4, T = 8, C = 2;  // batch, time, channels
        Tensor x = ag::randn({B, T, C});
        std::cout << "x.shape = " << ag::shape_str(x.shape()) << "\n\n";

        // ---- the trick in miniature: a normalised lower-triangular a averages the rows of b
        Tensor a = ag::tril(ag::ones({5, 5}));
        a = a / a.sum(1, /*keepdim=*/true);
        Tensor b = ag::randn({5, 5});
        Tensor c = ag::matmul(a, b);
        std::cout << "a =\n" << a << "\nb =\n" << b << "\nc = a @ b =\n" << c << "\n\n";

        // ---- version 1: for loops.  xbow1[b, t] = mean_{i <= t} x[b, i]
        Tensor xbow1 = ag::zeros({B, T, C});
        for (int64_t bi = 0; bi < B; ++bi)
            for (int64_t t = 0; t < T; ++t) {
                Tensor xprev = x.index({bi, Slice{0, t + 1}});  // (t+1, C)
                xbow1[bi][t] = xprev.mean(0);                   // (C,)
            }
        std::cout << "--- x[0] ---\n" << x[0] << "\n--- xbow1[0] ---\n" << xbow1[0] << "\n\n";

        // ---- version 2: matrix multiply.  wei (T, T) @ x (B, T, C): wei broadcasts over the batch -> (B, T, C)
        Tensor wei = ag::tril(ag::ones({T, T}));
        wei = wei / wei.sum(-1, /*keepdim=*/true);
        Tensor xbow2 = ag::matmul(wei, x);
        std::cout << "--- wei ---\n" << wei << "\n";
        std::cout << "xbow1 == xbow2: " << std::boolalpha << ag::allclose(xbow1, xbow2) << "\n\n";

        // ---- version 3: softmax.  Affinities start at 0; -inf forbids the future; softmax normalises each row.
        Tensor tril = ag::tril(ag::ones({T, T}));
        Tensor logits = ag::zeros({T, T}).masked_fill(tril == 0, -INFINITY);
        Tensor xbow3 = ag::matmul(ag::softmax(logits, -1), x);
        std::cout << "--- logits ---\n" << logits << "\n";
        std::cout << "--- xbow3[0] ---\n" << xbow3[0] << "\n";
        std::cout << "xbow3 == xbow1: " << ag::allclose(xbow3, xbow1) << "\n";
        std::cout << "xbow3 == xbow2: " << ag::allclose(xbow3, xbow2) << "\n";
        return ag::allclose(xbow1, xbow2) && ag::allclose(xbow3, xbow1) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
