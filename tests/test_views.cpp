// Shape ops (engine/ops.h, "shape and indexing"; tensor.h's slice, select, index): reshape, view, transpose,
// permute, squeeze, unsqueeze, expand, slicing, select, cat. Views share their base's storage; forward values
// against PyTorch 1.13 in float32 and float64 and float32 gradients of a whole expression
// (tests/fixtures/op_fixtures.inc, written by tests/fixtures/make_op_fixtures.py), gradcheck in float64, and each
// error message. index_select and embedding: test_indexing.cpp.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

#include "tests/gradcheck_helpers.h"
#include "tests/op_fixture.h"

using namespace ag;
using Catch::Contains;

namespace {
std::vector<float> values(const Tensor& t) { return t.to_vector<float>(); }
}  // namespace

// ---- views: storage and values ---------------------------------------------------------------------------------

TEST_CASE("transpose, permute and select are views that share storage", "[views]") {
    Tensor x = arange(24.0).reshape({2, 3, 4});
    Tensor t = x.transpose(-2, -1);
    CHECK(t.shape() == Shape{2, 4, 3});
    CHECK(t.strides() == Shape{12, 1, 4});
    CHECK(t.impl().storage == x.impl().storage);
    CHECK(t.index({1, 3, 2}).item() == 12 + 2 * 4 + 3);
    Tensor p = x.permute({2, 0, 1});
    CHECK(p.shape() == Shape{4, 2, 3});
    CHECK(p.index({3, 1, 2}).item() == 12 + 8 + 3);
    CHECK(x[1][2].data<float>() == x.data<float>() + 20);
}

TEST_CASE("slice: follows Python's x[start:stop:step] rules", "[views]") {
    Tensor x = arange(10.0);
    CHECK(values(x.slice(0, 2, 5)) == std::vector<float>{2, 3, 4});
    CHECK(values(x.slice(0, -3, INT64_MAX)) == std::vector<float>{7, 8, 9});
    CHECK(values(x.slice(0, 1, 8, 3)) == std::vector<float>{1, 4, 7});
    CHECK(x.slice(0, 5, 2).numel() == 0);
    CHECK(values(x.slice(0, 0, 100)).size() == 10);
    Tensor m = arange(12.0).reshape({3, 4});
    CHECK(values(m.index({Slice{1, 3}, 2})) == std::vector<float>{6, 10});
    CHECK(values(m.index({-1})) == std::vector<float>{8, 9, 10, 11});
}

TEST_CASE("reshape views when it can and copies when it must; view refuses to copy", "[views]") {
    Tensor x = arange(6.0).reshape({2, 3});
    Tensor r = x.reshape({3, -1});
    CHECK(r.shape() == Shape{3, 2});
    CHECK(r.impl().storage == x.impl().storage);
    Tensor t = x.transpose(0, 1);  // (3, 2), not contiguous
    Tensor flat = t.reshape({6});
    CHECK(flat.impl().storage != x.impl().storage);
    CHECK(values(flat) == std::vector<float>{0, 3, 1, 4, 2, 5});
    REQUIRE_THROWS_WITH(t.view({6}), Catch::Contains("view") && Catch::Contains("reshape"));
    CHECK(t.unsqueeze(0).view({1, 3, 2}).shape() == Shape{1, 3, 2});  // size-1 dims never block a view
    CHECK(x.expand({4, 2, 3}).strides() == Shape{0, 3, 1});
}

TEST_CASE("transpose, permute, reshape, view and expand give PyTorch's values", "[views]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::x234, dt);
    check_equal(x.transpose(0, 2), fx::x234_transpose_0_2, dt);
    check_equal(ag::permute(x, {2, 0, 1}), fx::x234_permute_2_0_1, dt);
    check_equal(x.transpose(0, 2).reshape({4, 6}), fx::x234_transpose_0_2_reshape_4_6, dt);  // a copy
    check_equal(ag::view(x, {6, 4}), fx::x234_view_6_4, dt);
    check_equal(x.view({-1}), fx::x234_view_neg1, dt);
    check_equal(make(fx::a31, dt).expand({2, 3, 4}), fx::a31_expand_2_3_4, dt);
}

TEST_CASE("slices with steps and negative bounds, select, squeeze and unsqueeze give PyTorch's values", "[views]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::x234, dt);
    check_equal(x.index({Slice{}, Slice{0, INT64_MAX, 2}, Slice{1, INT64_MAX, 2}}), fx::x234_steps, dt);
    check_equal(x.slice(2, -2, INT64_MAX), fx::x234_last_two, dt);
    check_equal(x.select(1, -1), fx::x234_select_1_neg1, dt);
    check_equal(x.index({1, Slice{0, 3, 2}}), fx::x234_1_0to3by2, dt);
    check_equal(x[1].slice(0, 0, 3, 2), fx::x234_1_0to3by2, dt);
    check_equal(make(fx::x214, dt).squeeze(1).unsqueeze(-1), fx::x214_squeeze_1_unsqueeze_neg1, dt);
}

TEST_CASE("cat along each dim, and of three tensors of different sizes, matches PyTorch", "[views]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::x234, dt), y = make(fx::y234, dt);
    for (int64_t dim = 0; dim < 3; ++dim) {
        CAPTURE(dim);
        check_equal(ag::cat({x, y}, dim), fx::cat_x234_y234[dim], dt);
        check_equal(ag::cat({x, y}, dim - 3), fx::cat_x234_y234[dim], dt);
    }
    check_equal(ag::cat({make(fx::x214, dt), x, y}, 1), fx::cat_x214_x234_y234_dim1, dt);
}

// ---- gradients -------------------------------------------------------------------------------------------------

TEST_CASE("cat, transpose, stepped slices, reshape, unsqueeze and expand route gradients like PyTorch", "[views]") {
    Tensor a = leaf(fxg::vw_a), b = leaf(fxg::vw_b);
    Tensor z = ag::cat({a.transpose(0, 1), b}, 0);  // (6, 3)
    Tensor picked = z.index({Slice{0, INT64_MAX, 2}, Slice{1}});  // z[::2, 1:]
    Tensor spread = z.reshape({3, 6}).unsqueeze(0).expand({2, 3, 6});
    Tensor loss = (picked * make(fxg::vw_w1)).sum() + (spread * make(fxg::vw_w2)).sum();
    check_close(loss, fxg::views_loss);
    loss.backward();
    check_close(a.grad(), fxg::views_dvw_a);
    check_close(b.grad(), fxg::views_dvw_b);
}

TEST_CASE("reshape and view: gradients match finite differences", "[views][gradcheck]") {
    ag::manual_seed(27);
    Tensor x = input({2, 3, 4});
    check_unary([](const Tensor& t) { return t.reshape({6, 4}); }, x);
    check_unary([](const Tensor& t) { return t.reshape({-1}); }, x);
    check_unary([](const Tensor& t) { return t.view({4, -1, 2}); }, x);
    check_unary([](const Tensor& t) { return t.transpose(0, 2).reshape({4, 6}); }, x);  // not viewable: copies
}

TEST_CASE("transpose, permute, unsqueeze, squeeze: gradients match finite differences", "[views][gradcheck]") {
    ag::manual_seed(28);
    Tensor x = input({2, 3, 4});
    check_unary([](const Tensor& t) { return t.transpose(0, 2); }, x);
    check_unary([](const Tensor& t) { return t.transpose(-1, -2) * 1.0; }, x);
    check_unary([](const Tensor& t) { return t.permute({2, 0, 1}); }, x);
    check_unary([](const Tensor& t) { return t.unsqueeze(1); }, x);
    check_unary([](const Tensor& t) { return t.unsqueeze(-1).squeeze(-1); }, x);
    check_unary([](const Tensor& t) { return t.squeeze(1); }, input({3, 1, 2}));
}

TEST_CASE("expand: the gradient summed over the copies matches finite differences", "[views][gradcheck]") {
    ag::manual_seed(29);
    check_unary([](const Tensor& t) { return t.expand({2, 3, 4}); }, input({3, 1}));
    check_unary([](const Tensor& t) { return ag::expand(t, {3, 2}) * 1.0; }, input({}));
}

TEST_CASE("slice with a step, select and index: gradients match finite differences", "[views][gradcheck]") {
    ag::manual_seed(30);
    Tensor x = input({4, 5});
    check_unary([](const Tensor& t) { return t.slice(1, 1, 5, 2); }, x);
    check_unary([](const Tensor& t) { return t.slice(0, -3, 100, 2); }, x);
    check_unary([](const Tensor& t) { return t.select(1, -1); }, x);
    check_unary([](const Tensor& t) { return t[2]; }, x);
    check_unary([](const Tensor& t) { return t.index({Slice{0, 3}, 1}); }, x);
    check_unary([](const Tensor& t) { return t.index({Slice{1, 4, 2}, Slice{0, 5, 3}}); }, x);
}

TEST_CASE("overlapping slices and selects of one tensor add their gradients into its parts (finite differences)",
          "[views][gradcheck]") {
    ag::manual_seed(31);
    Tensor x = input({4, 6});
    // a leaf, sliced three ways along the last dim (the way a fused q, k, v projection is split), two overlapping
    check_unary([](const Tensor& t) { return t.slice(1, 0, 2) * t.slice(1, 2, 4) + t.slice(1, 3, 5); }, x);
    // a non-leaf whose gradient first arrives whole (shared with its consumer's), then in parts (copy on write)
    check_unary([](const Tensor& t) {
        Tensor y = t * 2.0;
        return y + y.select(0, 1) * y.slice(0, 0, 4, 3).sum(0, /*keepdim=*/true);
    }, x);
}

TEST_CASE("cat: gradients along each dim, with an input that needs no gradient, match finite differences",
          "[views][gradcheck]") {
    ag::manual_seed(26);
    Tensor a = input({2, 3}), b = input({2, 3}), c = ag::randn({2, 3}, DType::Float64);
    check_binary([c](const Tensor& x, const Tensor& y) { return ag::cat({x, c, y}, 0); }, a, b);
    check_binary([c](const Tensor& x, const Tensor& y) { return ag::cat({x, y, c}, 1); }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return ag::cat({x, y.slice(1, 0, 1), x}, -1); }, a, b);
}

// ---- errors ----------------------------------------------------------------------------------------------------

TEST_CASE("view: refuses strides it cannot read without copying", "[views][errors]") {
    Tensor t = ag::ones({2, 3}).transpose(0, 1);
    REQUIRE_THROWS_AS(t.view({6}), std::invalid_argument);
    REQUIRE_THROWS_WITH(t.view({6}), "view: the strides of a tensor of shape [3, 2] do not allow viewing it as [6] "
                                     "(use reshape, which copies)");
    CHECK(t.reshape({6}).shape() == ag::Shape{6});
}

TEST_CASE("reshape and view: a wrong number of elements is refused", "[views][errors]") {
    Tensor x = ag::ones({2, 3});
    REQUIRE_THROWS_AS(x.reshape({4, 2}), std::invalid_argument);
    REQUIRE_THROWS_WITH(x.reshape({4, 2}), "reshape: shape [4, 2] is invalid for a tensor of shape [2, 3] (6 elements)");
    REQUIRE_THROWS_WITH(x.reshape({4, -1}), Contains("reshape: shape [4, -1] is invalid"));
    REQUIRE_THROWS_WITH(x.view({5}), Contains("view: shape [5] is invalid for a tensor of shape [2, 3]"));
    REQUIRE_THROWS_WITH(x.reshape({-1, -1}), "reshape: sizes must be non-negative (one may be -1); got [-1, -1]");
    REQUIRE_THROWS_WITH(x.reshape({-2, -3}), Contains("sizes must be non-negative"));
}

TEST_CASE("expand, permute, slice, cat: bad arguments are refused, naming them", "[views][errors]") {
    Tensor x = ag::ones({2, 3});
    REQUIRE_THROWS_WITH(x.expand({2, 4}), Contains("expand:") && Contains("[2, 3] and [2, 4]"));
    REQUIRE_THROWS_WITH(x.expand({3}), "expand: the tensor must broadcast to the target shape; got [2, 3] to [3]");
    REQUIRE_THROWS_WITH(ag::ones({1}).expand({-1}), "expand: sizes must be non-negative; got [-1]");
    REQUIRE_THROWS_WITH(x.permute({0}), "permute: need one dim per dim of the tensor; got [0] for shape [2, 3]");
    REQUIRE_THROWS_WITH(x.permute({1, 1}), "permute: each dim must appear once; got [1, 1]");
    REQUIRE_THROWS_WITH(x.slice(0, 0, 2, 0), "slice: step must be positive; got 0");
    REQUIRE_THROWS_WITH(ag::cat({}, 0), "cat: needs at least one tensor; got none");
    REQUIRE_THROWS_WITH(ag::cat({x, ag::ones({3, 3})}, 1), Contains("cat:") && Contains("got [2, 3] and [3, 3]"));
    Tensor f64 = ag::ones({2, 3}, DType::Float64);
    REQUIRE_THROWS_WITH(ag::cat({x, f64}, 0), "cat: tensors must have the same dtype; got torch.float32 and torch.float64");
}

TEST_CASE("shape ops: a dim out of range names the op, the valid range and the dim", "[views][errors]") {
    Tensor x = ag::ones({2, 3});
    REQUIRE_THROWS_AS(x.transpose(0, 2), std::invalid_argument);
    REQUIRE_THROWS_WITH(x.transpose(0, 2), "transpose: dim out of range (expected to be in [-2, 1]); got 2");
    REQUIRE_THROWS_WITH(x.select(2, 0), Contains("select: dim out of range"));
    REQUIRE_THROWS_WITH(x.slice(-3, 0, 1), Contains("slice: dim out of range"));
    REQUIRE_THROWS_WITH(x.unsqueeze(3), "unsqueeze: dim out of range (expected to be in [-3, 2]); got 3");
    REQUIRE_THROWS_WITH(x.squeeze(2), Contains("squeeze: dim out of range"));
    REQUIRE_THROWS_WITH(x.permute({0, 2}), Contains("permute: dim out of range"));
    REQUIRE_THROWS_WITH(ag::cat({x, x}, 2), Contains("cat: dim out of range"));
    REQUIRE_THROWS_WITH(x.size(2), Contains("size: dim out of range"));
}

TEST_CASE("shape ops: a 0-d tensor accepts dims 0 and -1 only, and cannot be indexed", "[views][errors]") {
    Tensor s = ag::ones({});
    CHECK(s.transpose(0, -1).dim() == 0);
    REQUIRE_THROWS_AS(s.transpose(0, 1), std::invalid_argument);
    REQUIRE_THROWS_WITH(s.transpose(0, 1), "transpose: dim out of range (expected to be in [-1, 0]); got 1");
    REQUIRE_THROWS_WITH(s.squeeze(2), Contains("squeeze: dim out of range") && Contains("got 2"));
    REQUIRE_THROWS_WITH(s.select(0, 0), "select: a 0-d tensor cannot be indexed");
}

TEST_CASE("select and index: an index out of range names the op, the index and the size", "[views][errors]") {
    Tensor x = ag::ones({3, 4});
    REQUIRE_THROWS_AS(x.select(0, 3), std::invalid_argument);
    REQUIRE_THROWS_WITH(x.select(0, 3), "select: index 3 is out of range for dim 0 of size 3");
    REQUIRE_THROWS_WITH(x.select(1, -5), "select: index -5 is out of range for dim 1 of size 4");
    REQUIRE_THROWS_WITH(x[7], "select: index 7 is out of range for dim 0 of size 3");
    REQUIRE_THROWS_WITH(x.index({0, 4}), Contains("index 4 is out of range for dim 0 of size 4"));
    REQUIRE_THROWS_WITH(x.index({0, 1, 2}), Contains("index: too many indices") && Contains("[3, 4]"));
}
