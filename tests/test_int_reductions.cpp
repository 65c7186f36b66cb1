// sum and mean of bool and int64 tensors, as PyTorch does them: sum counts into int64, exactly; mean needs a floating
// tensor, so a rate is mask.to(Float32).mean().
#include <cstdint>
#include <vector>

#include "tests/gradcheck_helpers.h"

using Catch::Contains;

TEST_CASE("sum of a bool tensor is an int64 count: (a == b).sum()", "[int_reductions]") {
    const Tensor a = ag::tensor({1.0, 2.0, 3.0, 4.0}), b = ag::tensor({1.0, 0.0, 3.0, 0.0});
    const Tensor hits = (a == b).sum();
    CHECK(hits.dtype() == DType::Int64);
    CHECK(hits.shape() == Shape{});
    CHECK(hits.to_vector<int64_t>() == std::vector<int64_t>{2});
    CHECK(hits.item() == 2);
}

TEST_CASE("sum of a bool tensor past 2^8 (and 2^16) elements counts every one", "[int_reductions]") {
    // A uint8 or float16 counter would wrap or round here; PyTorch's int64 count does not.
    const Tensor mask = ag::ones({300, 300}) > 0.0;  // 90000 trues
    CHECK(mask.sum().to_vector<int64_t>() == std::vector<int64_t>{90000});
    CHECK(mask.sum(0).to_vector<int64_t>() == std::vector<int64_t>(300, 300));
    const Tensor some = ag::arange(1000) < 700.0;  // 700 of 1000
    CHECK(some.sum().to_vector<int64_t>() == std::vector<int64_t>{700});
}

TEST_CASE("sum of a bool or int64 tensor along a dim, with and without keepdim, and strided", "[int_reductions]") {
    const Tensor m = ag::from_vector(std::vector<bool>{true, false, true, true, true, false}, {2, 3});
    CHECK(m.sum(1).to_vector<int64_t>() == std::vector<int64_t>{2, 2});
    CHECK(m.sum(0).to_vector<int64_t>() == std::vector<int64_t>{2, 1, 1});
    CHECK(m.sum(0, true).shape() == Shape{1, 3});
    CHECK(m.sum(-1, true).dtype() == DType::Int64);
    CHECK(m.transpose(0, 1).sum(0).to_vector<int64_t>() == std::vector<int64_t>{2, 2});
    const Tensor ints = ag::from_vector(std::vector<int64_t>{1, -2, 3, 4, 5, -6}, {2, 3});
    CHECK(ints.sum().to_vector<int64_t>() == std::vector<int64_t>{5});
    CHECK(ints.sum(1).to_vector<int64_t>() == std::vector<int64_t>{2, 3});
    CHECK(ints.sum(0, true).to_vector<int64_t>() == std::vector<int64_t>{5, 3, -3});
    CHECK(ints.sum(0, true).shape() == Shape{1, 3});
    CHECK(ag::zeros({0}, DType::Int64).sum().to_vector<int64_t>() == std::vector<int64_t>{0});
}

TEST_CASE("sum of int64 values beyond 2^24 (and 2^53) is exact, where float would round", "[int_reductions]") {
    const int64_t big = (int64_t{1} << 24) + 1;  // 16777217: not a float32
    const Tensor t = ag::from_vector(std::vector<int64_t>{big, big, 1}, {3});
    CHECK(t.sum().to_vector<int64_t>() == std::vector<int64_t>{2 * big + 1});
    const int64_t huge = (int64_t{1} << 53) + 1;  // not a double
    const Tensor h = ag::from_vector(std::vector<int64_t>{huge, 1, huge, 1}, {2, 2});
    CHECK(h.sum().to_vector<int64_t>() == std::vector<int64_t>{2 * huge + 2});
    CHECK(h.sum(0).to_vector<int64_t>() == std::vector<int64_t>{2 * huge, 2});
    CHECK(h.sum(1).to_vector<int64_t>() == std::vector<int64_t>{huge + 1, huge + 1});
    // Many columns at once (the vectorised column path) stay exact too.
    std::vector<int64_t> rows(3 * 40, huge);
    CHECK(ag::from_vector(rows, {3, 40}).sum(0).to_vector<int64_t>() == std::vector<int64_t>(40, 3 * huge));
}

TEST_CASE("mean of a mask converted to float32 is the rate", "[int_reductions]") {
    const Tensor pred = ag::from_vector(std::vector<int64_t>{1, 2, 2, 0}, {4});
    const Tensor target = ag::from_vector(std::vector<int64_t>{1, 2, 0, 0}, {4});
    const Tensor accuracy = (pred == target).to(DType::Float32).mean();
    CHECK(accuracy.dtype() == DType::Float32);
    CHECK(accuracy.item() == 0.75);
}

TEST_CASE("mean of a bool or int64 tensor is refused with a hint to convert it first", "[int_reductions][errors]") {
    const Tensor ints = ag::ones({2, 3}, DType::Int64);
    const Tensor mask = ints == 1.0;
    const char* rule = "mean: could not infer the output dtype; the input must be floating-point (convert it first, "
                       "e.g. t.to(DType::Float32).mean()); got ";
    REQUIRE_THROWS_WITH(ints.mean(), std::string(rule) + "torch.int64");
    REQUIRE_THROWS_WITH(mask.mean(), std::string(rule) + "torch.bool");
    REQUIRE_THROWS_WITH(ag::mean(ints, 1), std::string(rule) + "torch.int64");
    REQUIRE_THROWS_WITH(mask.mean(0, true), Contains("mean: could not infer the output dtype"));
}

TEST_CASE("sum of an int tensor checks its dim as the float sum does", "[int_reductions][errors]") {
    REQUIRE_THROWS_WITH(ag::ones({2, 3}, DType::Int64).sum(2), "sum: dim out of range (expected to be in [-2, 1]); got 2");
    REQUIRE_THROWS_AS((ag::ones({2}) > 0.0).sum(-2), std::invalid_argument);
}
