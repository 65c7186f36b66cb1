// Writing into a tensor (copy_, fill_, add_, x[i] = y): into the base through an indexed view, a source that
// overlaps the destination read as it was before the write, and the writes that are refused: into an expanded view
// (its elements share memory), into a tensor that requires grad outside NoGradGuard, from a source of another shape
// or dtype.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

#include "engine/engine.h"

using namespace ag;
using Catch::Contains;

namespace {

std::vector<float> values(const Tensor& t) { return t.to_vector<float>(); }

Tensor leaf(const Shape& shape) { return randn(shape).requires_grad_(); }

}  // namespace

TEST_CASE("inplace: add_ of a transposed view of itself adds the old values", "[inplace]") {
    Tensor x = ag::tensor({{1, 2}, {3, 4}});
    ag::add_(x, x.transpose(0, 1));
    CHECK(x.to_vector<float>() == std::vector<float>{2, 5, 5, 8});
}

TEST_CASE("inplace: add_ of a broadcast row of itself adds the old row", "[inplace]") {
    Tensor x = ag::tensor({{1, 2}, {3, 4}, {5, 6}});
    ag::add_(x, x[0]);  // row 0 is written first; every row must still add [1, 2]
    CHECK(x.to_vector<float>() == std::vector<float>{2, 4, 4, 6, 6, 8});
}

TEST_CASE("inplace: copy_ from an overlapping view of itself copies the old values", "[inplace]") {
    Tensor x = ag::tensor({{1, 2, 3}, {4, 5, 6}, {7, 8, 9}});
    x.copy_(x.transpose(0, 1));
    CHECK(x.to_vector<float>() == std::vector<float>{1, 4, 7, 2, 5, 8, 3, 6, 9});
    Tensor y = ag::arange(6);
    y.slice(0, 1, 6).copy_(y.slice(0, 0, 5));  // a shift by one: each element needs its left neighbour's old value
    CHECK(y.to_vector<float>() == std::vector<float>{0, 0, 1, 2, 3, 4});
    Tensor z = ag::tensor({{1, 2}, {3, 4}});
    z[1] = z[0];  // disjoint parts of one buffer
    CHECK(z.to_vector<float>() == std::vector<float>{1, 2, 1, 2});
    ag::add_(z, z);  // exactly the same elements: in place
    CHECK(z.to_vector<float>() == std::vector<float>{2, 4, 2, 4});
}

TEST_CASE("inplace: writing into an expanded view is refused", "[inplace]") {
    Tensor base = ag::zeros({1, 3});
    Tensor wide = base.expand({4, 3});  // four rows, one memory row
    const char* message = "more than one element of the written-to tensor refers to a single memory location";
    REQUIRE_THROWS_AS(wide.copy_(ag::arange(12).reshape({4, 3})), std::invalid_argument);
    REQUIRE_THROWS_WITH(wide.copy_(ag::arange(12).reshape({4, 3})), Contains("copy_: unsupported operation") &&
                                                                        Contains(message) && Contains("dim 0"));
    REQUIRE_THROWS_WITH(wide.fill_(1.0), Contains("fill_:") && Contains(message));
    REQUIRE_THROWS_WITH(ag::add_(wide, ag::ones({3})), Contains("add_:") && Contains(message));
    CHECK(base.to_vector<float>() == std::vector<float>{0, 0, 0});  // nothing was written
    CHECK(base.version() == 0);
    // An expanded dim of size 1 has no two elements to collide: allowed.
    Tensor one = ag::zeros({3}).expand({1, 3});
    one.fill_(2.0);
    CHECK(one.to_vector<float>() == std::vector<float>{2, 2, 2});
}

TEST_CASE("inplace: a view of a tensor that requires grad, made under NoGradGuard, is not written in grad mode",
          "[inplace]") {
    Tensor w = ag::ones({3}).requires_grad_();
    Tensor v;
    {
        ag::NoGradGuard no_grad;
        v = w[0];
    }
    REQUIRE_THROWS_WITH(v.fill_(7.0), Contains("fill_: this view of a tensor that requires grad was made under "
                                               "NoGradGuard"));
    CHECK(w.to_vector<float>() == std::vector<float>{1, 1, 1});
    {
        ag::NoGradGuard no_grad;
        v.fill_(7.0);  // under NoGradGuard again: an update, as optimisers make
    }
    CHECK(w.to_vector<float>() == std::vector<float>{7, 1, 1});
    w.detach()[1] = 3.0;  // a detached handle may be written: version counters guard what backward reads
    CHECK(w.to_vector<float>() == std::vector<float>{7, 3, 1});
}

TEST_CASE("inplace: assigning to an indexed view writes into the base, as in xbow[b][t] = ...", "[inplace]") {
    Tensor xbow = zeros({2, 3, 2});
    xbow[1][2] = tensor({5.0, 6.0});
    xbow[0][0] = 7.0;
    xbow.index({Slice{0, 2}, 1}) = tensor({1.0, 2.0});  // broadcast over the two rows
    CHECK(values(xbow) == std::vector<float>{7, 7, 1, 2, 0, 0, 0, 0, 1, 2, 5, 6});
    Tensor handle = xbow;
    handle = zeros({1});  // assigning to a named tensor rebinds it
    CHECK(xbow.shape() == Shape{2, 3, 2});
}

TEST_CASE("inplace: copy_ between overlapping views reads the source before writing", "[inplace]") {
    Tensor x = arange(5.0);
    x.slice(0, 1, 5).copy_(x.slice(0, 0, 4));
    CHECK(values(x) == std::vector<float>{0, 0, 1, 2, 3});
}

TEST_CASE("inplace: writes into a parameter are allowed only under NoGradGuard", "[inplace]") {
    Tensor w = ones({2}).requires_grad_();
    REQUIRE_THROWS_WITH(w.fill_(0.0), Catch::Contains("requires grad"));
    {
        NoGradGuard no_grad;
        w.fill_(3.0);
    }
    CHECK(values(w) == std::vector<float>{3, 3});
}

TEST_CASE("inplace: copy_, fill_ and x[i] = y into a tensor that requires grad are refused, naming the op",
          "[inplace][errors]") {
    Tensor x = leaf({2, 3});
    const char* message = "cannot write in place into a tensor that requires grad";
    REQUIRE_THROWS_AS(x.copy_(ag::ones({2, 3})), std::invalid_argument);
    REQUIRE_THROWS_WITH(x.copy_(ag::ones({2, 3})), Contains("copy_: ") && Contains(message));
    REQUIRE_THROWS_WITH(x.fill_(0.0), Contains("fill_: ") && Contains(message));
    REQUIRE_THROWS_WITH(x[0] = ag::ones({3}), Contains("copy_: ") && Contains(message));  // a view of x
    REQUIRE_THROWS_WITH(x.index({1, ag::Slice{0, 2}}) = 5.0, Contains("fill_: ") && Contains(message));
    REQUIRE_THROWS_WITH((x * 2.0)[1] = 5.0, Contains(message));  // a result in the graph
    {
        ag::NoGradGuard no_grad;  // where optimisers write
        x[0] = 5.0;
    }
    CHECK(x[0].to_vector<float>() == std::vector<float>{5, 5, 5});
}

TEST_CASE("inplace: add_ into a tensor that requires grad is refused outside NoGradGuard", "[inplace][errors]") {
    ag::Tensor w = ag::ones({2}).requires_grad_();
    REQUIRE_THROWS_WITH(ag::add_(w, ag::ones({2})), Catch::Contains("add_: cannot write in place"));
    ag::NoGradGuard no_grad;
    ag::add_(w, ag::ones({2}));
    CHECK(w.to_vector<float>() == std::vector<float>{2, 2});
}

TEST_CASE("inplace: copying a tensor that requires grad into a view is refused (its gradient would be lost)",
          "[inplace][errors]") {
    ag::Tensor y = ag::ones({2}).requires_grad_();
    ag::Tensor out = ag::zeros({3, 2});
    REQUIRE_THROWS_WITH(out[0] = y * 2.0, Catch::Contains("copy_: the source requires grad"));
    out[0] = (y * 2.0).detach();
    CHECK(out[0].to_vector<float>() == std::vector<float>{2, 2});
}

TEST_CASE("inplace: copy_ from a source of another shape is refused", "[inplace][errors]") {
    Tensor x = ag::zeros({3});
    REQUIRE_THROWS_WITH(x.copy_(ag::ones({2, 3})), "copy_: source must broadcast to the destination's shape; got [2, 3] "
                                                   "into [3]");
    REQUIRE_THROWS_WITH(x.copy_(ag::ones({4})), Contains("copy_: shapes cannot be broadcast"));
}

TEST_CASE("inplace: add_ needs the other tensor to fit the target's shape and dtype; so does copy_", "[inplace][errors]") {
    Tensor a = ones({3});
    REQUIRE_THROWS_AS(add_(a, ones({2, 3})), std::invalid_argument);
    REQUIRE_THROWS_WITH(add_(a, ones({2, 3})), Contains("add_:") && Contains("[2, 3] into [3]"));
    Tensor f32 = ones({2, 2}), f64 = ones({2, 2}, DType::Float64);
    REQUIRE_THROWS_WITH(add_(f32, f64), Contains("add_: both tensors must have the same dtype"));
    REQUIRE_THROWS_WITH(f32.copy_(f64), "copy_: dtypes must match; got torch.float64 into torch.float32");
}
