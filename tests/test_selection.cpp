// where, gather, sort, topk, max / min along a dim, amax / amin and argmin: values and indices against PyTorch's
// (tests/fixtures/select_more_fixtures.inc, inputs without ties), ties against the documented rules, gradients by
// gradcheck in float64, and each error.
#include "tests/gradcheck_helpers.h"
#include "tests/op_fixture.h"

namespace fixture {
#include "tests/fixtures/select_more_fixtures.inc"
}  // namespace fixture

namespace sfx = fixture::sfx;
using Catch::Contains;

namespace {

const DType kFloatTypes[] = {DType::Float32, DType::Float64};

Tensor mask_of(const fixture::Array& a) { return make(a, DType::Float64) != 0.0; }

// The fixture's (dim, keepdim) order: (0, F), (0, T), (1, F), (1, T), (2, F), (2, T).
const std::pair<int64_t, bool> kDimKeep[] = {{0, false}, {0, true}, {1, false}, {1, true}, {2, false}, {2, true}};

}  // namespace

// ---- where -------------------------------------------------------------------------------------------------------

TEST_CASE("where: matches PyTorch with the condition and both choices broadcast", "[selection]") {
    for (DType dt : kFloatTypes)
        check_equal(ag::where(mask_of(sfx::cond214), make(sfx::a34, dt), make(sfx::b231, dt)), sfx::where_out, dt);
    const Tensor picked = ag::where(ag::tensor({1.0, 0.0}) == 1.0, ag::ones({2}, DType::Int64), ag::zeros({}, DType::Int64));
    CHECK(picked.to_vector<int64_t>() == std::vector<int64_t>{1, 0});  // any dtype, no gradient
}

TEST_CASE("where: gradients to both choices, broadcast ones included, match finite differences",
          "[selection][gradcheck]") {
    ag::manual_seed(31);
    const Tensor cond = mask_of(sfx::cond214);
    check_binary([cond](const Tensor& a, const Tensor& b) { return ag::where(cond, a, b); }, input({3, 4}), input({2, 3, 1}));
    Tensor a = input({3, 4}), b = ag::randn({3, 4}, DType::Float64);  // only a requires grad
    check_unary([cond, b](const Tensor& x) { return ag::where(cond, b, x); }, a);
}

TEST_CASE("where: a non-bool condition, mixed dtypes and shapes that do not broadcast are refused",
          "[selection][errors]") {
    const Tensor a = ag::ones({2, 3}), b = ag::zeros({2, 3});
    REQUIRE_THROWS_WITH(ag::where(a, a, b), "where: the condition must be a bool tensor; got torch.float32");
    REQUIRE_THROWS_WITH(ag::where(a > 0.5, a, b.to(DType::Float64)),
                        "where: both choices must have the same dtype; got torch.float32 and torch.float64");
    REQUIRE_THROWS_WITH(ag::where(a > 0.5, a, ag::zeros({4})), Contains("where: shapes cannot be broadcast"));
    REQUIRE_THROWS_WITH(ag::where(ag::ones({5}) > 0.5, a, b), Contains("where: shapes cannot be broadcast"));
}

// ---- gather ------------------------------------------------------------------------------------------------------

TEST_CASE("gather: matches PyTorch along each dim, with repeated indices and an index smaller than the tensor",
          "[selection]") {
    for (DType dt : kFloatTypes) {
        check_equal(ag::gather(make(sfx::a34, dt), 1, make(sfx::g1, DType::Int64)), sfx::gather_a_dim1, dt);
        check_equal(ag::gather(make(sfx::a34, dt), -2, make(sfx::g0, DType::Int64)), sfx::gather_a_dim0, dt);
        check_equal(ag::gather(make(sfx::x234, dt), 2, make(sfx::g2, DType::Int64)),
                    sfx::gather_x_dim2, dt);
    }
}

TEST_CASE("gather: the gradient scatter-adds back, repeated indices accumulating", "[selection][gradcheck]") {
    ag::manual_seed(32);
    const Tensor g1 = make(sfx::g1, DType::Int64), g2 = make(sfx::g2, DType::Int64);
    check_unary([g1](const Tensor& t) { return ag::gather(t, 1, g1); }, input({3, 4}));
    check_unary([g2](const Tensor& t) { return ag::gather(t, 2, g2); }, input({2, 3, 4}));
    check_unary([g1](const Tensor& t) { return ag::gather(t.transpose(0, 1), 0, g1.transpose(0, 1)); }, input({3, 4}));
    Tensor x = ag::zeros({3, 4}).requires_grad_();
    ag::gather(x, 1, g1).sum().backward();  // row 0 picks column 3 twice, row 2 column 1 twice
    CHECK(x.grad().to_vector<float>() == std::vector<float>{0, 0, 0, 2, 1, 0, 1, 0, 0, 2, 0, 0});
}

TEST_CASE("gather: a non-int64 index, a rank mismatch, a larger index and an index out of range are refused",
          "[selection][errors]") {
    const Tensor t = ag::ones({3, 4});
    REQUIRE_THROWS_WITH(ag::gather(t, 1, ag::zeros({3, 2})), "gather: the index must be an int64 tensor; got torch.float32");
    REQUIRE_THROWS_WITH(ag::gather(t, 1, ids({0, 1})),
                        "gather: the index must have as many dims as the tensor; got index [2] for tensor [3, 4]");
    REQUIRE_THROWS_WITH(ag::gather(t, 1, ids({0, 0, 0, 0, 0, 0, 0, 0}, {4, 2})),
                        "gather: the index must be no larger than the tensor in every dim but 1; got index [4, 2] for "
                        "tensor [3, 4]");
    REQUIRE_THROWS_WITH(ag::gather(t, 1, ids({0, 4}, {1, 2})),
                        "gather: index 4 at position 1 is out of range for dim 1 of size 4");
    REQUIRE_THROWS_WITH(ag::gather(t, 0, ids({-1}, {1, 1})), Contains("index -1 at position 0 is out of range"));
    REQUIRE_THROWS_WITH(ag::gather(t, 2, ids({0}, {1, 1})), Contains("gather: dim out of range"));
    CHECK(ag::gather(t, 0, ag::zeros({0, 4}, DType::Int64)).shape() == Shape{0, 4});  // an empty index: empty result
}

// ---- sort and topk -----------------------------------------------------------------------------------------------

TEST_CASE("sort: values and indices match PyTorch along each dim, ascending and descending", "[selection]") {
    for (DType dt : kFloatTypes)
        for (int64_t dim = 0; dim < 3; ++dim)
            for (bool descending : {false, true}) {
                CAPTURE(dt, dim, descending);
                const size_t k = 2 * dim + descending;
                auto [values, indices] = ag::sort(make(sfx::x234, dt), dim - 3, descending);
                check_equal(values, sfx::sort_values[k], dt);
                check_equal(indices, sfx::sort_indices[k], DType::Int64);
            }
}

TEST_CASE("topk: values and indices match PyTorch, largest and smallest, k = 0 included", "[selection]") {
    const std::tuple<int64_t, int64_t, bool> cases[] = {{2, -1, true}, {2, -1, false}, {3, 1, true}, {1, 0, false},
                                                        {0, 2, true}};
    for (DType dt : kFloatTypes)
        for (size_t c = 0; c < 5; ++c) {
            auto [k, dim, largest] = cases[c];
            CAPTURE(dt, k, dim, largest);
            auto [values, indices] = ag::topk(make(sfx::x234, dt), k, dim, largest);
            check_equal(values, sfx::topk_values[c], dt);
            check_equal(indices, sfx::topk_indices[c], DType::Int64);
        }
}

TEST_CASE("sort and topk: ties keep their original order, NaN counts as the largest", "[selection]") {
    const Tensor t = ag::tensor({2.0, 1.0, 2.0, NAN, 1.0, 2.0});
    CHECK(std::get<1>(ag::sort(t)).to_vector<int64_t>() == std::vector<int64_t>{1, 4, 0, 2, 5, 3});
    CHECK(std::get<1>(ag::sort(t, 0, true)).to_vector<int64_t>() == std::vector<int64_t>{3, 0, 2, 5, 1, 4});
    CHECK(std::get<1>(ag::topk(t, 3)).to_vector<int64_t>() == std::vector<int64_t>{3, 0, 2});
    CHECK(std::get<1>(ag::topk(t, 3, 0, /*largest=*/false)).to_vector<int64_t>() == std::vector<int64_t>{1, 4, 0});
    const Tensor cols = ag::tensor({{5.0, 5.0}, {5.0, 4.0}, {5.0, 5.0}});  // along dim 0 of a (3, 2)
    CHECK(std::get<1>(ag::sort(cols, 0, true)).to_vector<int64_t>() == std::vector<int64_t>{0, 0, 1, 2, 2, 1});
    auto [v, i] = ag::sort(ag::tensor(3.0));  // 0-d: itself at index 0
    CHECK((v.dim() == 0 && v.item() == 3.0 && i.dim() == 0 && i.item() == 0));
}

TEST_CASE("sort and topk: the values' gradient goes back to the chosen positions", "[selection][gradcheck]") {
    const Tensor x = distinct({2, 3, 4});
    for (int64_t dim : {0, 1, -1})
        for (bool flag : {false, true}) {
            CAPTURE(dim, flag);
            check_unary([=](const Tensor& t) { return std::get<0>(ag::sort(t, dim, flag)); }, x);
            check_unary([=](const Tensor& t) { return std::get<0>(ag::topk(t, 2, dim, flag)); }, x);
        }
    check_unary([](const Tensor& t) { return std::get<0>(ag::topk(t.transpose(0, 2), 1, 1)); }, x);
}

TEST_CASE("sort and topk: a k out of range, a dim out of range and a non-floating tensor are refused",
          "[selection][errors]") {
    const Tensor t = ag::ones({2, 3});
    REQUIRE_THROWS_WITH(ag::topk(t, 4), "topk: k must be in [0, 3] (the size of dim 1); got 4");
    REQUIRE_THROWS_WITH(ag::topk(t, -1, 0), "topk: k must be in [0, 2] (the size of dim 0); got -1");
    REQUIRE_THROWS_WITH(ag::topk(t, 1, 2), Contains("topk: dim out of range"));
    REQUIRE_THROWS_WITH(ag::sort(t, -3), Contains("sort: dim out of range"));
    REQUIRE_THROWS_WITH(ag::sort(ag::ones({3}, DType::Int64)), "sort: expected a floating-point tensor; got torch.int64");
    CHECK(std::get<0>(ag::sort(ag::zeros({2, 0}))).shape() == Shape{2, 0});  // an empty dim sorts to empty
}

// ---- max, min, amax, amin, argmin ------------------------------------------------------------------------------

TEST_CASE("max, min, amax, amin, argmin along a dim match PyTorch's values and indices", "[selection][reduction]") {
    for (DType dt : kFloatTypes) {
        const Tensor x = make(sfx::x234, dt);
        for (size_t k = 0; k < 6; ++k) {
            auto [dim, keepdim] = kDimKeep[k];
            CAPTURE(dt, dim, keepdim);
            auto [max_v, max_i] = ag::max(x, dim, keepdim);
            auto [min_v, min_i] = x.min(dim, keepdim);
            check_equal(max_v, sfx::max_values[k], dt);
            check_equal(max_i, sfx::max_indices[k], DType::Int64);
            check_equal(min_v, sfx::min_values[k], dt);
            check_equal(min_i, sfx::min_indices[k], DType::Int64);
            check_equal(ag::amax(x, dim, keepdim), sfx::amax_values[k], dt);
            check_equal(x.amin(dim - 3, keepdim), sfx::amin_values[k], dt);
            check_equal(ag::argmin(x, dim, keepdim), sfx::argmin_indices[k], DType::Int64);
        }
        check_equal(ag::min(x), sfx::min_all, dt);
    }
}

TEST_CASE("amax splits the gradient among ties, max(dim) gives it to the index it returns, as PyTorch does",
          "[selection][reduction]") {
    const Tensor w = ag::tensor({{1.0}, {10.0}});
    auto grad_of = [&w](const std::function<Tensor(const Tensor&)>& f) {
        Tensor t = ag::tensor({{1.0, 3.0, 3.0}, {2.0, 2.0, 0.0}}).requires_grad_();
        (f(t) * w).sum().backward();
        return t.grad();
    };
    check_equal(grad_of([](const Tensor& t) { return ag::amax(t, 1, true); }), sfx::ties_amax_grad, DType::Float32);
    check_equal(grad_of([](const Tensor& t) { return std::get<0>(ag::max(t, 1, true)); }), sfx::ties_max_grad,
                DType::Float32);
    check_equal(grad_of([](const Tensor& t) { return ag::amin(t, 1, true); }), sfx::ties_amin_grad, DType::Float32);
    // min(dim) and argmin take the first minimum
    const Tensor ties = ag::tensor({{0.0, 3.0, 0.0}, {2.0, 1.0, 1.0}});
    CHECK(std::get<1>(ag::min(ties, 1)).to_vector<int64_t>() == std::vector<int64_t>{0, 1});
    CHECK(ag::argmin(ties, 1).to_vector<int64_t>() == std::vector<int64_t>{0, 1});
    CHECK(grad_of([](const Tensor& t) { return std::get<0>(ag::min(t, 1, true)); }).to_vector<float>() ==
          std::vector<float>{1, 0, 0, 0, 0, 10});
}

TEST_CASE("max, min, amax, amin: gradients over each dim, keepdim or not, match finite differences",
          "[selection][reduction][gradcheck]") {
    const Tensor x = distinct({2, 3, 4});
    check_unary([](const Tensor& t) { return t.min(); }, x);
    for (const auto& setting : kDimKeep) {
        const int64_t dim = setting.first;  // plain variables: clang 14 cannot capture a structured binding
        const bool keepdim = setting.second;
        CAPTURE(dim, keepdim);
        check_unary([=](const Tensor& t) { return std::get<0>(ag::min(t, dim, keepdim)); }, x);
        check_unary([=](const Tensor& t) { return ag::amax(t, dim, keepdim); }, x);
        check_unary([=](const Tensor& t) { return ag::amin(t, dim, keepdim); }, x);
    }
    check_unary([](const Tensor& t) { return ag::amax(t.transpose(0, 2), 1); }, x);
}

TEST_CASE("min, amax, amin, argmin: errors name the op", "[selection][reduction][errors]") {
    const Tensor x = ag::ones({2, 3});
    REQUIRE_THROWS_WITH(ag::min(x, 2), Contains("min: dim out of range") && Contains("got 2"));
    REQUIRE_THROWS_WITH(ag::argmin(x, -3), Contains("argmin: dim out of range"));
    REQUIRE_THROWS_WITH(ag::amax(x, 2), Contains("amax: dim out of range"));
    REQUIRE_THROWS_WITH(ag::amin(ag::zeros({3, 0}), 1), "amin: cannot reduce over a dim of size 0; got shape [3, 0] and dim 1");
    REQUIRE_THROWS_WITH(ag::amax(ag::zeros({3, 0}), 1), "amax: cannot reduce over a dim of size 0; got shape [3, 0] and dim 1");
    REQUIRE_THROWS_WITH(ag::min(ag::ones({0})), "min: cannot reduce an empty tensor; got shape [0]");
    REQUIRE_THROWS_WITH(ag::min(ag::ones({2}, DType::Int64), 0), "min: expected a floating-point tensor; got torch.int64");
    REQUIRE_THROWS_WITH(ag::max(x, 2), Contains("max: dim out of range"));
    auto [v, i] = ag::max(ag::tensor(2.0), 0);  // a 0-d tensor is its own maximum, at index 0
    CHECK((v.item() == 2.0 && i.item() == 0 && v.dim() == 0));
}
