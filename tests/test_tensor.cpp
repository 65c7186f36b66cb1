// The tensor handle: creation, views sharing storage, indexing, in-place writes, conversions, printing.
#include <catch2/catch.hpp>

#include "engine/engine.h"

using namespace ag;

namespace {
std::vector<float> values(const Tensor& t) { return t.to_vector<float>(); }
}  // namespace

TEST_CASE("tensor: creation functions give the documented values and shapes") {
    CHECK(zeros({2, 3}).shape() == Shape{2, 3});
    CHECK(values(zeros({3})) == std::vector<float>{0, 0, 0});
    CHECK(values(ones({2})) == std::vector<float>{1, 1});
    CHECK(values(full({2}, 3.5)) == std::vector<float>{3.5, 3.5});
    CHECK(values(arange(4.0)) == std::vector<float>{0, 1, 2, 3});
    CHECK(values(arange(1.0, 2.0, 0.25)) == std::vector<float>{1, 1.25, 1.5, 1.75});
    CHECK(values(arange(3.0, 0.0, -1.0)) == std::vector<float>{3, 2, 1});
    CHECK(values(tril(ones({3, 3}))) == std::vector<float>{1, 0, 0, 1, 1, 0, 1, 1, 1});
    CHECK(values(triu(ones({2, 3}), 1)) == std::vector<float>{0, 1, 1, 0, 0, 1});
    CHECK(values(tril(ones({2, 3}), -1)) == std::vector<float>{0, 0, 0, 1, 0, 0});
    CHECK(tensor(2.5).dim() == 0);
    CHECK(tensor({{1, 2}, {3, 4}, {5, 6}}).shape() == Shape{3, 2});
    CHECK(tensor({1, 2}, DType::Int64).dtype() == DType::Int64);
    CHECK(from_vector(std::vector<double>{1, 2, 3, 4}, {2, 2}).dtype() == DType::Float64);
}

TEST_CASE("tensor: transpose, permute and select are views that share storage") {
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

TEST_CASE("tensor: slicing follows Python's x[start:stop:step] rules") {
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

TEST_CASE("tensor: reshape views when it can and copies when it must; view refuses to copy") {
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

TEST_CASE("tensor: assigning to an indexed view writes into the base, as in xbow[b][t] = ...") {
    Tensor xbow = zeros({2, 3, 2});
    xbow[1][2] = tensor({5.0, 6.0});
    xbow[0][0] = 7.0;
    xbow.index({Slice{0, 2}, 1}) = tensor({1.0, 2.0});  // broadcast over the two rows
    CHECK(values(xbow) == std::vector<float>{7, 7, 1, 2, 0, 0, 0, 0, 1, 2, 5, 6});
    Tensor handle = xbow;
    handle = zeros({1});  // assigning to a named tensor rebinds it
    CHECK(xbow.shape() == Shape{2, 3, 2});
}

TEST_CASE("tensor: copy_ between overlapping views reads the source before writing") {
    Tensor x = arange(5.0);
    x.slice(0, 1, 5).copy_(x.slice(0, 0, 4));
    CHECK(values(x) == std::vector<float>{0, 0, 1, 2, 3});
}

TEST_CASE("tensor: in-place writes into a parameter are allowed only under NoGradGuard") {
    Tensor w = ones({2}).requires_grad_();
    REQUIRE_THROWS_WITH(w.fill_(0.0), Catch::Contains("requires grad"));
    {
        NoGradGuard no_grad;
        w.fill_(3.0);
    }
    CHECK(values(w) == std::vector<float>{3, 3});
}

TEST_CASE("tensor: item, to_vector and dtype conversion") {
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

TEST_CASE("tensor: comparisons and allclose") {
    Tensor a = tensor({1.0, 2.0, 3.0});
    CHECK((a == 2.0).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 0});
    CHECK((a != 2.0).to_vector<int64_t>() == std::vector<int64_t>{1, 0, 1});
    CHECK((a <= 2.0).to_vector<int64_t>() == std::vector<int64_t>{1, 1, 0});
    CHECK(allclose(a, a + 1e-6));
    CHECK_FALSE(allclose(a, a + 1e-3));
    CHECK(allclose(a, tensor({1.0, 2.0, 3.0001}), 1e-4));
    Tensor with_nan = tensor({NAN});
    CHECK_FALSE(allclose(with_nan, with_nan));
    CHECK(allclose(tensor({INFINITY}), tensor({INFINITY})));
}

TEST_CASE("tensor: printing names the dtype and the op that made the tensor") {
    CHECK(tensor({1.0, 2.0}).str() == "tensor([1., 2.])");
    CHECK(tensor({1.0, 2.5}, DType::Float64).str() == "tensor([1.0000, 2.5000], dtype=torch.float64)");
    Tensor w = tensor({0.5}).requires_grad_();
    CHECK(w.str() == "tensor([0.5000], requires_grad=True)");
    CHECK((w * 2.0).str() == "tensor([1.], grad_fn=<MulBackward>)");
    CHECK(tensor({3, 4}, DType::Int64).str() == "tensor([3, 4])");
    CHECK((tensor({1.0}) > 0.0).str() == "tensor([True])");
    CHECK(zeros({0}, DType::Int64).str() == "tensor([], dtype=torch.int64)");
}
