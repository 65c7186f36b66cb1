// The tensor handle (engine/tensor.h): numbers out (item, to_vector), dtype conversion and copies (to, contiguous,
// clone) with their gradients, printing, and an undefined handle. Creation: test_creation.cpp; views:
// test_views.cpp; writes: test_inplace.cpp.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

#include "tests/gradcheck_helpers.h"

using namespace ag;
using Catch::Contains;

TEST_CASE("tensor: item, to_vector and dtype conversion", "[tensor]") {
    CHECK(tensor({{4.5}}).item() == 4.5);
    Tensor x = tensor({1.5, -2.5});
    Tensor d = x.to(DType::Float64);
    CHECK(d.dtype() == DType::Float64);
    CHECK(d.to_vector<double>() == std::vector<double>{1.5, -2.5});
    CHECK(x.to(DType::Int64).to_vector<int64_t>() == std::vector<int64_t>{1, -2});  // truncates like a C++ cast
    CHECK((x > 0.0).dtype() == DType::Bool);
    CHECK((x > 0.0).to_vector<int64_t>() == std::vector<int64_t>{1, 0});
    CHECK(x.transpose(0, 0).contiguous().impl().storage == x.impl().storage);
}

TEST_CASE("tensor: contiguous, clone and to pass gradients that match finite differences", "[tensor][gradcheck]") {
    ag::manual_seed(31);
    Tensor x = input({3, 4});
    check_unary([](const Tensor& t) { return t.contiguous(); }, x);
    check_unary([](const Tensor& t) { return t.transpose(0, 1).contiguous(); }, x);
    check_unary([](const Tensor& t) { return t.clone(); }, x);
    check_unary([](const Tensor& t) { return t.to(DType::Float64); }, x);
}

TEST_CASE("tensor: to(Float32) and back passes the gradient through, with a step float32 can resolve",
          "[tensor][gradcheck]") {
    ag::manual_seed(32);
    // float32 rounding makes differences over eps = 1e-6 meaningless; 1e-2 is coarse enough for it
    auto f = [](const std::vector<Tensor>& in) { return in[0].to(DType::Float32).to(DType::Float64) * 2.0; };
    ag::GradcheckResult r = ag::gradcheck(f, {input({2, 3})}, {1e-2, 1e-4, 1e-3});
    INFO(r.report);
    REQUIRE(r.passed);
}

TEST_CASE("tensor: printing names the dtype and the op that made the tensor", "[tensor][format]") {
    CHECK(tensor({1.0, 2.0}).str() == "tensor([1., 2.])");
    CHECK(tensor({1.0, 2.5}, DType::Float64).str() == "tensor([1.0000, 2.5000], dtype=torch.float64)");
    Tensor w = tensor({0.5}).requires_grad_();
    CHECK(w.str() == "tensor([0.5000], requires_grad=True)");
    CHECK((w * 2.0).str() == "tensor([1.], grad_fn=<MulBackward>)");
    CHECK(tensor({3, 4}, DType::Int64).str() == "tensor([3, 4])");
    CHECK((tensor({1.0}) > 0.0).str() == "tensor([True])");
    CHECK(zeros({0}, DType::Int64).str() == "tensor([], dtype=torch.int64)");
}

TEST_CASE("tensor: item() on a tensor that is not one element is refused", "[tensor][errors]") {
    REQUIRE_THROWS_AS(ag::ones({2, 3}).item(), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::ones({2, 3}).item(),
                        "item: only a tensor with one element converts to a number; got shape [2, 3]");
    REQUIRE_THROWS_WITH(ag::ones({0}).item(), Contains("got shape [0]"));
    CHECK(ag::ones({1, 1}).item() == 1.0);
}

TEST_CASE("tensor: data<T>() of another dtype names both", "[tensor][errors]") {
    Tensor x = ones({2, 3});
    REQUIRE_THROWS_WITH(x.data<double>(), "data: the tensor holds torch.float32; got a request for torch.float64");
}

TEST_CASE("tensor: an undefined tensor is reported, not dereferenced", "[tensor][errors]") {
    Tensor undefined;
    const char* message = "tensor: this tensor is undefined";
    CHECK_FALSE(undefined.defined());
    REQUIRE_THROWS_AS(undefined.shape(), std::invalid_argument);
    REQUIRE_THROWS_WITH(undefined.shape(), Contains(message));
    REQUIRE_THROWS_WITH(undefined + ag::ones({2}), Contains(message));
    REQUIRE_THROWS_WITH(ag::matmul(ag::ones({2, 2}), undefined), Contains(message));
    REQUIRE_THROWS_WITH(undefined.backward(), Contains(message));
    REQUIRE_THROWS_WITH(ag::cat({ag::ones({2}), undefined}, 0), Contains(message));
    REQUIRE_THROWS_WITH(ag::ones({2}).copy_(undefined), Contains(message));
    Tensor x = randn({2}).requires_grad_();
    REQUIRE_THROWS_WITH(x.grad().item(), Contains(message));  // no backward yet
    CHECK(undefined.str() == "tensor(undefined)");
}
