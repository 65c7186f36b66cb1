// dropout (engine/dropout.cpp) and self_attention's dropout on its weights: PyTorch's masks bit for bit after
// manual_seed (../shared reference vectors and tests/fixtures/gpt_op_fixtures.inc), the gradient through the same
// mask, the draws consumed, and the errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "engine/engine.h"
#include "engine/random.h"
#include "tests/check_close.h"
#include "tests/gradcheck_helpers.h"

namespace {
#include "tests/fixtures/gpt_op_fixtures.inc"

using namespace ag;
using Catch::Contains;

std::vector<double> as_doubles(const Tensor& t) { return t.to_vector<double>(); }

// A float32 fixture's values as the floats they denote.
std::vector<float> floats(const std::vector<double>& values) { return {values.begin(), values.end()}; }

}  // namespace

TEST_CASE("dropout: PyTorch's reference vectors after manual_seed", "[dropout][random]") {
    manual_seed(1337);  // empty(12).bernoulli_(0.8)
    bool keep[12];
    default_generator().fill_bernoulli(keep, 12, 0.8);
    CHECK(std::vector<bool>(keep, keep + 12) == std::vector<bool>{1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1});

    manual_seed(1337);  // dropout(arange(1., 9.).view(2, 4), 0.2, training=True)
    CHECK(as_doubles(dropout(arange(1, 9).view({2, 4}), 0.2)) == std::vector<double>{1.25, 0, 3.75, 5, 6.25, 7.5, 8.75, 10});

    manual_seed(0);  // dropout(ones(10), 0.5, training=True)
    CHECK(as_doubles(dropout(ones({10}), 0.5)) == std::vector<double>{0, 0, 2, 0, 0, 0, 2, 2, 0, 2});
}

TEST_CASE("dropout: PyTorch's output and gradient bit for bit on randn(4, 8, 32), p = 0.1", "[dropout]") {
    manual_seed(1337);
    Tensor x = randn({4, 8, 32}).requires_grad_();
    Tensor y = dropout(x, 0.1);
    const Tensor g = randn({4, 8, 32});
    (y * g).sum().backward();
    CHECK(y.to_vector<float>() == floats(gfx::dropout_y));
    CHECK(x.grad().to_vector<float>() == floats(gfx::dropout_grad));
}

TEST_CASE("dropout: float64 keeps PyTorch's mask and its 1 / (1 - p) in double", "[dropout]") {
    manual_seed(5);
    CHECK(as_doubles(dropout(ones({3, 100}, DType::Float64), 0.3)) == gfx::dropout_f64);
}

TEST_CASE("dropout: consumes two generator outputs per element, as PyTorch's bernoulli_", "[dropout][random]") {
    manual_seed(4);
    (void)dropout(ones({7, 3}), 0.5);
    const std::vector<float> after_dropout = rand({5}).to_vector<float>();
    manual_seed(4);
    (void)rand({42});  // 2 * 21 single-output draws
    CHECK(rand({5}).to_vector<float>() == after_dropout);
}

TEST_CASE("dropout: eval mode and p = 0 return x and draw nothing; p = 1 gives zeros", "[dropout]") {
    Tensor x = arange(1, 7).view({2, 3}).requires_grad_();
    manual_seed(2);
    CHECK(&dropout(x, 0.5, /*training=*/false).impl() == &x.impl());  // x itself, not a copy
    CHECK(&dropout(x, 0.0).impl() == &x.impl());
    const std::vector<float> next = rand({3}).to_vector<float>();
    manual_seed(2);
    CHECK(rand({3}).to_vector<float>() == next);
    Tensor zero = dropout(x, 1.0);
    CHECK(as_doubles(zero) == std::vector<double>(6, 0.0));
    zero.sum().backward();
    CHECK(as_doubles(x.grad()) == std::vector<double>(6, 0.0));
}

TEST_CASE("dropout: the gradient is the forward's mask, scaled; gradcheck with a fixed mask", "[dropout][gradcheck]") {
    manual_seed(6);
    Tensor x = randn({50, 40}).requires_grad_();
    Tensor y = dropout(x, 0.3);
    y.sum().backward();
    const std::vector<float> xs = x.to_vector<float>(), ys = y.to_vector<float>(), gs = x.grad().to_vector<float>();
    const float scale = 1.0f / 0.7f;
    int64_t dropped = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
        const bool kept = ys[i] != 0;
        dropped += !kept;
        CHECK(ys[i] == (kept ? xs[i] * scale : 0.0f));
        CHECK(gs[i] == (kept ? scale : 0.0f));
    }
    CHECK(dropped > 2000 * 0.25);  // about 600 of 2000 expected
    CHECK(dropped < 2000 * 0.35);
    // Each call draws from a generator seeded the same way, so gradcheck sees one fixed mask.
    Generator gen;
    check([&gen](const std::vector<Tensor>& in) { gen.manual_seed(9); return dropout(in[0], 0.4, true, &gen); },
          {input({4, 5})});
}

TEST_CASE("dropout: p outside [0, 1] or an integer tensor is refused", "[dropout][errors]") {
    CHECK_THROWS_WITH(dropout(ones({2}), -0.1), Contains("dropout: p must be in [0, 1]"));
    CHECK_THROWS_WITH(dropout(ones({2}), 1.5), Contains("got 1.5"));
    CHECK_THROWS_WITH(dropout(ones({2}), NAN), Contains("p must be in [0, 1]"));
    manual_seed(1);
    const std::vector<float> next = rand({2}).to_vector<float>();
    manual_seed(1);
    CHECK_THROWS_WITH(dropout(ones({2}, DType::Int64), 0.5), Contains("dropout: expected a floating-point tensor"));
    CHECK(rand({2}).to_vector<float>() == next);  // refused before anything was drawn
    CHECK_THROWS_WITH(dropout(ones({2}, DType::Bool), 1.0), Contains("dropout: expected a floating-point tensor"));
    CHECK_THROWS_WITH(dropout(ones({2}, DType::Int64), 0.5, /*training=*/false), Contains("dropout"));
}

// ---- self_attention with dropout on its weights ------------------------------------------------------------------

namespace {

struct AttentionCase {
    uint64_t seed;
    int64_t B, T, n_head, hs;
    bool causal;
    double p;
    const std::vector<double>& out;
    const std::vector<double>& grad;
};

}  // namespace

TEST_CASE("self_attention: with dropout, PyTorch's lecture heads after manual_seed, values and gradient",
          "[attention][dropout]") {
    const AttentionCase cases[] = {
        {1337, 2, 6, 2, 4, true, 0.2, gfx::att_small_out, gfx::att_small_grad},
        {7, 2, 5, 3, 2, false, 0.5, gfx::att_full_out, gfx::att_full_grad},
        {11, 1, 70, 2, 4, true, 0.1, gfx::att_long_out, gfx::att_long_grad},  // past one block of 64 rows
    };
    for (const AttentionCase& c : cases) {
        INFO("seed " << c.seed << ", T = " << c.T);
        manual_seed(c.seed);
        Tensor kqv = randn({c.B, c.T, 3 * c.n_head * c.hs}).requires_grad_();
        Tensor out = self_attention(kqv, c.n_head, c.causal, 1 / std::sqrt(double(c.hs)), c.p);
        const Tensor g = randn(out.shape());
        (out * g).sum().backward();
        check_close(out, c.out, 1e-5, 1e-6);
        check_close(kqv.grad(), c.grad, 1e-5, 1e-5);
    }
}

TEST_CASE("self_attention: gradcheck with a fixed dropout mask, within and past one block",
          "[attention][dropout][gradcheck]") {
    manual_seed(12);
    Generator gen;
    for (int64_t T : {5, 67}) {
        for (bool causal : {true, false}) {
            INFO("T = " << T << ", causal " << causal);
            const auto fn = [&gen, causal](const std::vector<Tensor>& in) {
                gen.manual_seed(31);
                return self_attention(in[0], 2, causal, 0.5, 0.3, &gen);
            };
            check(fn, {input({T == 5 ? 2 : 1, T, T == 5 ? 12 : 6})});
        }
    }
}

TEST_CASE("self_attention: dropout 0 draws nothing; a dropout outside [0, 1) is refused", "[attention][dropout]") {
    manual_seed(3);
    const Tensor kqv = randn({1, 4, 6});
    const Tensor plain = self_attention(kqv, 1, true, 0.5);
    const std::vector<float> next = rand({2}).to_vector<float>();
    manual_seed(3);
    (void)randn({1, 4, 6});
    CHECK(self_attention(kqv, 1, true, 0.5, 0.0).to_vector<float>() == plain.to_vector<float>());
    CHECK(rand({2}).to_vector<float>() == next);
    CHECK_THROWS_WITH(self_attention(kqv, 1, true, 0.5, 1.0), Contains("dropout must be in [0, 1)"));
    CHECK_THROWS_WITH(self_attention(kqv, 1, true, 0.5, -0.5), Contains("got -0.5"));
}
