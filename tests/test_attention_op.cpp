// causal_attention and causal_self_attention: the fused, blocked causal attention ops equal the composed ops, in
// values and gradients.
#include <catch2/catch.hpp>

#include <tuple>

#include "engine/engine.h"
#include "layers/layers.h"

using namespace ag;

namespace {

// softmax(q @ k^T * scale, causal) @ v, spelled with separate ops.
Tensor composed(const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
    return matmul(causal_softmax(matmul(q, k.transpose(-2, -1)) * scale), v);
}

}  // namespace

TEST_CASE("causal_attention: equals the composed ops in values and gradients, across block boundaries") {
    manual_seed(21);
    // T = 130 spans three 64-row blocks, with a partial last block.
    for (auto [B, T, hs] : {std::tuple<int64_t, int64_t, int64_t>{2, 5, 3}, {1, 64, 4}, {3, 130, 8}}) {
        Tensor q = randn({B, T, hs}, DType::Float64).requires_grad_();
        Tensor k = randn({B, T, hs}, DType::Float64).requires_grad_();
        Tensor v = randn({B, T, hs}, DType::Float64).requires_grad_();
        Tensor w = randn({B, T, hs}, DType::Float64);
        Tensor fused = causal_attention(q, k, v, 0.37);
        (fused * w).sum().backward();
        std::vector<Tensor> fused_grads = {q.grad().clone(), k.grad().clone(), v.grad().clone()};
        for (Tensor t : {q, k, v}) t.zero_grad();
        Tensor reference = composed(q, k, v, 0.37);
        (reference * w).sum().backward();
        INFO("B, T, hs = " << B << ", " << T << ", " << hs);
        CHECK(allclose(fused, reference, 1e-10, 1e-12));
        CHECK(allclose(fused_grads[0], q.grad(), 1e-10, 1e-12));
        CHECK(allclose(fused_grads[1], k.grad(), 1e-10, 1e-12));
        CHECK(allclose(fused_grads[2], v.grad(), 1e-10, 1e-12));
    }
}

TEST_CASE("gradcheck: causal_attention wrt q, k and v") {
    manual_seed(22);
    Tensor q = randn({2, 4, 3}, DType::Float64).requires_grad_();
    Tensor k = randn({2, 4, 3}, DType::Float64).requires_grad_();
    Tensor v = randn({2, 4, 3}, DType::Float64).requires_grad_();
    GradcheckResult r = gradcheck([](const std::vector<Tensor>& in) { return causal_attention(in[0], in[1], in[2], 0.5); },
                                  {q, k, v});
    INFO(r.report);
    CHECK(r.passed);
}

TEST_CASE("causal_self_attention: equals the composed ops on the slices of kqv, values and gradient") {
    manual_seed(25);
    for (auto [B, T, hs] : {std::tuple<int64_t, int64_t, int64_t>{2, 5, 3}, {3, 130, 8}}) {
        Tensor kqv = randn({B, T, 3 * hs}, DType::Float64).requires_grad_();
        Tensor w = randn({B, T, hs}, DType::Float64);
        Tensor packed = causal_self_attention(kqv, 0.37);
        (packed * w).sum().backward();
        Tensor packed_grad = kqv.grad().clone();
        kqv.zero_grad();
        Tensor k = kqv.slice(-1, 0, hs), q = kqv.slice(-1, hs, 2 * hs), v = kqv.slice(-1, 2 * hs, 3 * hs);
        Tensor reference = composed(q, k, v, 0.37);
        (reference * w).sum().backward();
        INFO("B, T, hs = " << B << ", " << T << ", " << hs);
        CHECK(allclose(packed, reference, 1e-10, 1e-12));
        CHECK(allclose(packed_grad, kqv.grad(), 1e-10, 1e-12));
    }
}

TEST_CASE("gradcheck: causal_self_attention wrt kqv, non-contiguous, and past one block") {
    manual_seed(26);
    Tensor kqv = randn({2, 4, 6}, DType::Float64).requires_grad_();
    GradcheckResult r = gradcheck([](const std::vector<Tensor>& in) { return causal_self_attention(in[0], 0.5); }, {kqv});
    INFO(r.report);
    CHECK(r.passed);
    // (2, 4, 6) read through a transposed view of a (6, 4, 2) leaf
    Tensor leaf = randn({6, 4, 2}, DType::Float64).requires_grad_();
    GradcheckResult t = gradcheck(
        [](const std::vector<Tensor>& in) { return causal_self_attention(in[0].transpose(0, 2), 0.5); }, {leaf});
    INFO(t.report);
    CHECK(t.passed);
    // T = 66 spans two blocks: the backward recomputes the probabilities instead of keeping them
    Tensor long_kqv = randn({1, 66, 3}, DType::Float64).requires_grad_();
    GradcheckResult l = gradcheck([](const std::vector<Tensor>& in) { return causal_self_attention(in[0], 0.5); },
                                  {long_kqv});
    INFO(l.report);
    CHECK(l.passed);
}

TEST_CASE("causal_attention: float32 agrees with the composed ops to float32 rounding") {
    manual_seed(23);
    Tensor q = randn({2, 100, 16}), k = randn({2, 100, 16}), v = randn({2, 100, 16});
    CHECK(allclose(causal_attention(q, k, v, 0.25), composed(q, k, v, 0.25), 1e-5, 1e-6));
}

TEST_CASE("Head: flash mode gives the same output, gradients and attention weights") {
    manual_seed(24);
    Head head(8, 4);
    Tensor x = randn({2, 6, 8}).requires_grad_();
    Tensor w = randn({2, 6, 4});
    (head(x) * w).sum().backward();
    Tensor out = head(x), attention = head.attention(), dx = x.grad().clone();
    std::vector<Tensor> dweights;  // key, query, value: each slice of the fused projection sends its own gradient
    for (Tensor& p : head.parameters()) dweights.push_back(p.grad().clone());
    head.zero_grad();
    x.zero_grad();
    head.flash = true;
    Tensor flash_out = head(x);
    (flash_out * w).sum().backward();
    CHECK(allclose(flash_out, out, 1e-5, 1e-6));
    CHECK(allclose(head.attention(), attention, 1e-5, 1e-6));
    CHECK(allclose(x.grad(), dx, 1e-5, 1e-6));
    for (size_t i = 0; i < dweights.size(); ++i) CHECK(allclose(head.parameters()[i].grad(), dweights[i], 1e-5, 1e-6));
}

TEST_CASE("causal_attention: mismatched shapes and dtypes are refused") {
    Tensor q = zeros({2, 4, 3});
    REQUIRE_THROWS_WITH(causal_attention(q, zeros({2, 5, 3}), q, 1.0),
                        Catch::Contains("causal_attention: q, k and v must all be (B, T, hs)") && Catch::Contains("[2, 5, 3]"));
    REQUIRE_THROWS_WITH(causal_attention(zeros({4, 3}), zeros({4, 3}), zeros({4, 3}), 1.0), Catch::Contains("(B, T, hs)"));
    REQUIRE_THROWS_WITH(causal_attention(q, q, zeros({2, 4, 3}, DType::Float64), 1.0), Catch::Contains("one dtype"));
}

TEST_CASE("causal_self_attention: a kqv that is not (B, T, 3 hs) is refused") {
    REQUIRE_THROWS_WITH(causal_self_attention(zeros({2, 4, 7}), 1.0),
                        Catch::Contains("causal_self_attention: kqv must be (B, T, 3 hs)") && Catch::Contains("[2, 4, 7]"));
    REQUIRE_THROWS_WITH(causal_self_attention(zeros({4, 6}), 1.0), Catch::Contains("(B, T, 3 hs)"));
    REQUIRE_THROWS_WITH(causal_self_attention(zeros({2, 4, 0}), 1.0), Catch::Contains("(B, T, 3 hs)"));
}
