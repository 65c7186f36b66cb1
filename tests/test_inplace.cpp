// Writing into a tensor (copy_, fill_, add_, x[i] = y): a source that overlaps the destination is read as it was
// before the write, and a destination whose elements share memory (an expanded view) is refused.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

#include "engine/engine.h"

using ag::Tensor;
using Catch::Contains;

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
