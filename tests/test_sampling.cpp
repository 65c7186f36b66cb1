// multinomial (engine/creation.cpp), the text generation's sampler: PyTorch's samples bit for bit after manual_seed,
// without replacement as PyTorch defines it, its errors; and the generator's state, saved and restored.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <set>
#include <vector>

#include "engine/engine.h"
#include "engine/random.h"

namespace {
#include "tests/fixtures/gpt_op_fixtures.inc"

using namespace ag;
using Catch::Contains;

std::vector<double> as_doubles(const Tensor& t) { return t.to_vector<double>(); }

// The fixture's probabilities (4, 65), float32 as PyTorch had them.
Tensor fixture_probs() { return from_vector(gfx::multinomial_p, {4, 65}).to(DType::Float32); }

std::vector<double> part(const std::vector<double>& all, size_t begin, size_t n) {
    return {all.begin() + static_cast<std::ptrdiff_t>(begin), all.begin() + static_cast<std::ptrdiff_t>(begin + n)};
}

}  // namespace

TEST_CASE("multinomial: PyTorch's reference vector, six rows of [.1, .2, .3, .4]", "[sampling][random]") {
    manual_seed(1337);
    const Tensor p = from_vector(std::vector<float>{.1f, .2f, .3f, .4f}, {1, 4}).expand({6, 4});
    const Tensor s = multinomial(p, 1);
    CHECK(s.shape() == Shape{6, 1});
    CHECK(s.dtype() == DType::Int64);
    CHECK(as_doubles(s) == std::vector<double>{3, 3, 2, 3, 2, 2});
}

TEST_CASE("multinomial: one sample per row as PyTorch draws it, five seeds", "[sampling][random]") {
    const Tensor p = fixture_probs();
    for (uint64_t seed = 0; seed < 5; ++seed) {
        INFO("seed " << seed);
        manual_seed(seed);
        CHECK(as_doubles(multinomial(p, 1)) == part(gfx::multinomial_one, seed * 4, 4));
    }
}

TEST_CASE("multinomial: several samples without replacement, PyTorch's order", "[sampling][random]") {
    const Tensor p = fixture_probs();
    manual_seed(9);
    CHECK(as_doubles(multinomial(p, 5)) == gfx::multinomial_five);
    manual_seed(9);
    const Tensor all = multinomial(p.select(0, 0), 65);  // 1-D: every position once, a permutation
    CHECK(all.shape() == Shape{65});
    CHECK(as_doubles(all) == gfx::multinomial_all);
    const std::vector<double> v = as_doubles(all);
    CHECK(std::set<double>(v.begin(), v.end()).size() == 65);
    manual_seed(3);
    CHECK(as_doubles(multinomial(p.to(DType::Float64), 3)) == gfx::multinomial_f64);
}

TEST_CASE("multinomial: a zero weight is never drawn; frequencies follow the weights", "[sampling][random]") {
    manual_seed(17);
    const Tensor p = from_vector(std::vector<double>{0, 1, 3, 0}, {1, 4}).expand({4000, 4});
    const std::vector<double> s = as_doubles(multinomial(p, 1));
    int64_t count[4] = {};
    for (double v : s) ++count[static_cast<int>(v)];
    CHECK(count[0] == 0);
    CHECK(count[3] == 0);
    CHECK(count[2] > 2850);  // 3000 expected; the bounds are 5 standard deviations
    CHECK(count[2] < 3150);
    // Without replacement, both non-zero weights come first; the rest in an order of PyTorch's definition.
    const std::vector<double> two = as_doubles(multinomial(from_vector(std::vector<double>{0, 1, 3, 0}, {4}), 2));
    CHECK(std::set<double>(two.begin(), two.end()) == std::set<double>{1, 2});
}

TEST_CASE("multinomial: consumes two generator outputs per probability, as PyTorch's exponential_",
          "[sampling][random]") {
    manual_seed(8);
    (void)multinomial(ones({3, 5}), 2);
    const std::vector<float> after = rand({4}).to_vector<float>();
    manual_seed(8);
    (void)rand({30});
    CHECK(rand({4}).to_vector<float>() == after);
}

TEST_CASE("multinomial: invalid weights, shapes and counts are refused", "[sampling][errors]") {
    const Tensor good = ones({2, 3});
    CHECK_THROWS_WITH(multinomial(zeros({}), 1), Contains("1-D (K) or 2-D (rows, K)"));
    CHECK_THROWS_WITH(multinomial(ones({2, 2, 2}), 1), Contains("got shape [2, 2, 2]"));
    CHECK_THROWS_WITH(multinomial(good, 0), Contains("num_samples must be in [1, K = 3]; got 0"));
    CHECK_THROWS_WITH(multinomial(good, 4), Contains("without replacement"));
    CHECK_THROWS_WITH(multinomial(from_vector(std::vector<float>{1, -1}, {2}), 1), Contains("element < 0"));
    CHECK_THROWS_WITH(multinomial(from_vector(std::vector<float>{1, NAN}, {2}), 1), Contains("nan"));
    CHECK_THROWS_WITH(multinomial(from_vector(std::vector<float>{1, INFINITY}, {2}), 1), Contains("inf"));
    CHECK_THROWS_WITH(multinomial(from_vector(std::vector<float>{1, 1, 0, 0}, {2, 2}), 1),
                      Contains("sum of probabilities <= 0") && Contains("row 1"));
    CHECK_THROWS_WITH(multinomial(ones({3}, DType::Int64), 1), Contains("multinomial"));
    CHECK(multinomial(ones({0, 3}), 2).shape() == Shape{0, 2});  // no rows: no samples, nothing drawn
}

TEST_CASE("Generator: state() and set_state() continue the same stream, cached normal included", "[random]") {
    Generator gen(42);
    std::vector<float> warm(3);
    gen.fill_normal(warm.data(), 3, 0, 1);  // the scalar path leaves a cached normal
    const auto saved = gen.state();
    std::vector<float> a(40), b(40);
    gen.fill_normal(a.data(), 1, 0, 1);
    gen.fill_uniform(a.data() + 1, 39, 0, 1);
    Generator other(7);
    other.set_state(saved);
    other.fill_normal(b.data(), 1, 0, 1);
    other.fill_uniform(b.data() + 1, 39, 0, 1);
    CHECK(a == b);
    auto bad = saved;
    bad[0] = uint64_t(1) << 40;
    CHECK_THROWS_WITH(other.set_state(bad), Contains("not a 32-bit value"));
    bad = saved;
    bad[Generator::kStateWords - 3] = 625;
    CHECK_THROWS_WITH(other.set_state(bad), Contains("out of range"));
    bad.fill(0);
    bad[Generator::kStateWords - 3] = 624;
    CHECK_THROWS_WITH(other.set_state(bad), Contains("all zero"));  // it would give 0 forever
    bad = saved;
    bad[Generator::kStateWords - 2] = 1;
    bad[Generator::kStateWords - 1] = std::bit_cast<uint64_t>(std::nan(""));
    CHECK_THROWS_WITH(other.set_state(bad), Contains("cached normal value is not finite"));
}
