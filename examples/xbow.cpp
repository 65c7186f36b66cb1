// The mathematical trick in self-attention, from the "Let's build GPT" notebooks, in C++.
//
// Each token t of a sequence may only look at tokens 0..t (never the future). The simplest way to let it gather
// information from its past is to average: xbow[b, t] = mean over i <= t of x[b, i] ("bag of words").
// Three ways to compute the same thing, from slow and obvious to the form attention uses:
//   version 1: loops;
//   version 2: one matrix product with a row-normalised lower-triangular matrix;
//   version 3: softmax of a matrix whose future entries are -inf.
// Then version 4, self-attention: the affinities are no longer all equal but computed from the data, by a Head.
// With manual_seed(1337) the numbers are PyTorch's, so they can be read beside the notebook's output.
#include <cmath>
#include <iostream>

#include "engine/engine.h"
#include "layers/layers.h"

using ag::Slice;
using ag::Tensor;

namespace {

// Population variance of all elements, as torch.var(unbiased=False).
double variance(const Tensor& t) { return (t - t.mean()).pow(2).mean().item(); }

// Version 4: one self-attention head, as the notebook writes it, then the same with the Head layer.
void version4() {
    ag::manual_seed(1337);
    const int64_t B = 4, T = 8, C = 32, head_size = 16;
    Tensor x = ag::randn({B, T, C});
    ag::Linear key(C, head_size, /*bias=*/false), query(C, head_size, false), value(C, head_size, false);
    Tensor k = key(x);                                            // (B, T, 16): what each token contains
    Tensor q = query(x);                                          // (B, T, 16): what each token looks for
    Tensor wei = ag::matmul(q, k.transpose(-2, -1)) * std::pow(head_size, -0.5);  // (B, T, T) affinities
    Tensor tril = ag::tril(ag::ones({T, T}));
    wei = wei.masked_fill(tril == 0, -INFINITY);                  // the future is hidden
    wei = ag::softmax(wei, -1);                                   // rows sum to 1
    Tensor out = ag::matmul(wei, value(x));                       // (B, T, 16)
    std::cout << "--- version 4: wei[0] ---\n" << wei[0] << "\nout.shape = " << ag::shape_str(out.shape()) << "\n";

    ag::manual_seed(1337);  // the same draws again, now through the Head layer
    Tensor x_again = ag::randn({B, T, C});
    ag::Head head(C, head_size);
    // The Head computes key, query and value as one product (one gemm instead of three), so its sums run in
    // another order: equal to float32 rounding (atol 1e-6), not bit for bit.
    std::cout << "Head layer gives the same output: " << ag::allclose(head(x_again), out, 1e-5, 1e-6)
              << ", and the same weights: " << ag::allclose(head.attention(x_again), wei, 1e-5, 1e-6) << "\n\n";

    // Why scale by head_size^-0.5: with unit-variance q and k, q @ k^T has variance ~head_size, and softmax of
    // large logits is nearly one-hot (each token would listen to a single other token). Scaling restores variance 1.
    Tensor kr = ag::randn({B, T, head_size}), qr = ag::randn({B, T, head_size});
    Tensor raw = ag::matmul(qr, kr.transpose(-2, -1));
    std::cout << "var(k) = " << variance(kr) << ", var(q) = " << variance(qr) << ", var(q @ k^T) = " << variance(raw)
              << ", var(q @ k^T * head_size^-0.5) = " << variance(raw * std::pow(head_size, -0.5)) << "\n";
    Tensor logits = ag::tensor({0.1, -0.2, 0.3, -0.2, 0.5});
    std::cout << "softmax(logits)     = " << ag::softmax(logits, -1) << "\n"
              << "softmax(logits * 8) = " << ag::softmax(logits * 8.0, -1) << "  (sharpens towards one-hot)\n";
}

}  // namespace

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
        std::cout << "xbow3 == xbow2: " << ag::allclose(xbow3, xbow2) << "\n\n";

        version4();
        return ag::allclose(xbow1, xbow2) && ag::allclose(xbow3, xbow1) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
