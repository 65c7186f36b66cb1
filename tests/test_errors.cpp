// Every caller mistake gets a std::invalid_argument in the form "op: rule; got <actual>", naming the op and the
// shapes, dtypes or values at fault. Each case checks the type, then the message's key parts.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "engine/engine.h"

using ag::DType;
using ag::Tensor;
using Catch::Contains;

namespace {

Tensor ids(const std::vector<int64_t>& values) {
    return ag::from_vector(values, {static_cast<int64_t>(values.size())});
}

Tensor leaf(const ag::Shape& shape) { return ag::randn(shape).requires_grad_(); }

}  // namespace

TEST_CASE("errors: element-wise ops name the op and both shapes when they cannot broadcast") {
    Tensor a = ag::ones({2, 3}), b = ag::ones({4});
    REQUIRE_THROWS_AS(ag::add(a, b), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::add(a, b), "add: shapes cannot be broadcast; got [2, 3] and [4]");
    REQUIRE_THROWS_AS(a - b, std::invalid_argument);
    REQUIRE_THROWS_WITH(a - b, "sub: shapes cannot be broadcast; got [2, 3] and [4]");
    REQUIRE_THROWS_AS(b * a, std::invalid_argument);
    REQUIRE_THROWS_WITH(b * a, "mul: shapes cannot be broadcast; got [4] and [2, 3]");
    REQUIRE_THROWS_AS(a / ag::ones({3, 3}), std::invalid_argument);
    REQUIRE_THROWS_WITH(a / ag::ones({3, 3}), "div: shapes cannot be broadcast; got [2, 3] and [3, 3]");
    REQUIRE_THROWS_AS(a < b, std::invalid_argument);
    REQUIRE_THROWS_WITH(a < b, Contains("lt: shapes cannot be broadcast"));
    REQUIRE_THROWS_AS(ag::allclose(a, b), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::allclose(a, b), Contains("allclose: shapes cannot be broadcast; got [2, 3] and [4]"));
}

TEST_CASE("errors: in-place add and masked_fill need the other tensor to fit the target's shape") {
    Tensor a = ag::ones({3}), mask = ag::ones({2, 3}) > 0.0;
    REQUIRE_THROWS_AS(ag::add_(a, ag::ones({2, 3})), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::add_(a, ag::ones({2, 3})), Contains("add_:") && Contains("[2, 3] into [3]"));
    REQUIRE_THROWS_AS(ag::masked_fill(a, mask, 0.0), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::masked_fill(a, mask, 0.0), Contains("masked_fill:") && Contains("mask [2, 3] for tensor [3]"));
    REQUIRE_THROWS_AS(ag::masked_fill(a, ag::ones({4}) > 0.0, 0.0), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::masked_fill(a, ag::ones({4}) > 0.0, 0.0), Contains("masked_fill:") && Contains("[3] and [4]"));
}

TEST_CASE("errors: matmul names both shapes when the inner dims differ") {
    REQUIRE_THROWS_AS(ag::matmul(ag::ones({4, 3}), ag::ones({5, 2})), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::matmul(ag::ones({4, 3}), ag::ones({5, 2})),
                        "matmul: inner dimensions must match; got [4, 3] @ [5, 2]");
    REQUIRE_THROWS_WITH(ag::matmul(ag::ones({3}), ag::ones({4})), "matmul: inner dimensions must match; got [3] @ [4]");
    REQUIRE_THROWS_WITH(ag::matmul(ag::ones({3}), ag::ones({2, 4, 5})), Contains("got [3] @ [2, 4, 5]"));
    REQUIRE_THROWS_WITH(ag::matmul(ag::ones({2, 3, 4}), ag::ones({2})), Contains("got [2, 3, 4] @ [2]"));
    REQUIRE_THROWS_AS(ag::matmul(ag::ones({2, 3, 4}), ag::ones({3, 4, 5})), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::matmul(ag::ones({2, 3, 4}), ag::ones({3, 4, 5})),
                        "matmul: batch dimensions cannot be broadcast; got [2, 3, 4] @ [3, 4, 5]");
}

TEST_CASE("errors: matmul refuses 0-d arguments") {
    REQUIRE_THROWS_AS(ag::matmul(ag::ones({}), ag::ones({3})), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::matmul(ag::ones({}), ag::ones({3})),
                        "matmul: both arguments need at least 1 dim; got [] @ [3]");
    REQUIRE_THROWS_WITH(ag::matmul(ag::ones({3, 2}), ag::ones({})), Contains("got [3, 2] @ []"));
}

TEST_CASE("errors: a dim out of range names the op, the valid range and the dim") {
    Tensor x = ag::ones({2, 3});
    REQUIRE_THROWS_AS(x.sum(2), std::invalid_argument);
    REQUIRE_THROWS_WITH(x.sum(2), "sum: dim out of range (expected to be in [-2, 1]); got 2");
    REQUIRE_THROWS_WITH(x.sum(-3), "sum: dim out of range (expected to be in [-2, 1]); got -3");
    REQUIRE_THROWS_WITH(x.mean(5), Contains("mean: dim out of range") && Contains("got 5"));
    REQUIRE_THROWS_WITH(x.max(2), Contains("max: dim out of range") && Contains("got 2"));
    REQUIRE_THROWS_WITH(x.argmax(2), Contains("argmax: dim out of range"));
    REQUIRE_THROWS_AS(ag::softmax(x, 2), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::softmax(x, 2), "softmax: dim out of range (expected to be in [-2, 1]); got 2");
    REQUIRE_THROWS_WITH(ag::log_softmax(x, -3), Contains("log_softmax: dim out of range"));
    REQUIRE_THROWS_AS(x.transpose(0, 2), std::invalid_argument);
    REQUIRE_THROWS_WITH(x.transpose(0, 2), "transpose: dim out of range (expected to be in [-2, 1]); got 2");
    REQUIRE_THROWS_WITH(x.select(2, 0), Contains("select: dim out of range"));
    REQUIRE_THROWS_WITH(x.slice(-3, 0, 1), Contains("slice: dim out of range"));
    REQUIRE_THROWS_WITH(x.unsqueeze(3), "unsqueeze: dim out of range (expected to be in [-3, 2]); got 3");
    REQUIRE_THROWS_WITH(x.squeeze(2), Contains("squeeze: dim out of range"));
    REQUIRE_THROWS_WITH(x.permute({0, 2}), Contains("permute: dim out of range"));
    REQUIRE_THROWS_WITH(ag::cat({x, x}, 2), Contains("cat: dim out of range"));
    REQUIRE_THROWS_WITH(ag::index_select(x, 2, ids({0})), Contains("index_select: dim out of range"));
    REQUIRE_THROWS_WITH(x.size(2), Contains("size: dim out of range"));
}

TEST_CASE("errors: a 0-d tensor accepts dims 0 and -1 only") {
    Tensor s = ag::ones({});
    CHECK(s.sum(0).dim() == 0);
    CHECK(s.transpose(0, -1).dim() == 0);
    REQUIRE_THROWS_AS(s.transpose(0, 1), std::invalid_argument);
    REQUIRE_THROWS_WITH(s.transpose(0, 1), "transpose: dim out of range (expected to be in [-1, 0]); got 1");
    REQUIRE_THROWS_WITH(s.squeeze(2), Contains("squeeze: dim out of range") && Contains("got 2"));
    REQUIRE_THROWS_WITH(s.max(1), Contains("max: dim out of range") && Contains("got 1"));
    REQUIRE_THROWS_WITH(s.argmax(1), Contains("argmax: dim out of range"));
    REQUIRE_THROWS_WITH(s.mean(1), Contains("mean: dim out of range"));
    REQUIRE_THROWS_WITH(s.softmax(1), Contains("softmax: dim out of range"));
    REQUIRE_THROWS_WITH(s.select(0, 0), "select: a 0-d tensor cannot be indexed");
}

TEST_CASE("errors: an index out of range names the op, the index and the size") {
    Tensor x = ag::ones({3, 4});
    REQUIRE_THROWS_AS(x.select(0, 3), std::invalid_argument);
    REQUIRE_THROWS_WITH(x.select(0, 3), "select: index 3 is out of range for dim 0 of size 3");
    REQUIRE_THROWS_WITH(x.select(1, -5), "select: index -5 is out of range for dim 1 of size 4");
    REQUIRE_THROWS_WITH(x[7], "select: index 7 is out of range for dim 0 of size 3");
    REQUIRE_THROWS_WITH(x.index({0, 4}), Contains("index 4 is out of range for dim 0 of size 4"));
    REQUIRE_THROWS_WITH(x.index({0, 1, 2}), Contains("index: too many indices") && Contains("[3, 4]"));
    REQUIRE_THROWS_AS(ag::index_select(x, 1, ids({0, 4})), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::index_select(x, 1, ids({0, 4})),
                        "index_select: index 4 at position 1 is out of range for dim 1 of size 4");
    REQUIRE_THROWS_WITH(ag::index_select(x, 0, ids({-1})), Contains("index -1 at position 0 is out of range"));
}

TEST_CASE("errors: embedding names the id and the table size") {
    Tensor table = ag::ones({5, 3});
    REQUIRE_THROWS_AS(ag::embedding(table, ids({1, 5})), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::embedding(table, ids({1, 5})),
                        "embedding: id 5 at position 1 is out of range for a table of 5 rows");
    REQUIRE_THROWS_WITH(ag::embedding(table, ids({-2})), Contains("embedding: id -2 at position 0"));
    REQUIRE_THROWS_WITH(ag::embedding(table, ag::ones({2})), "embedding: ids must be int64; got torch.float32");
    REQUIRE_THROWS_WITH(ag::embedding(ag::ones({5}), ids({1})), "embedding: the weight must be (V, C); got shape [5]");
}

TEST_CASE("errors: cross_entropy checks its targets") {
    Tensor logits = ag::ones({3, 4});
    REQUIRE_THROWS_AS(ag::cross_entropy(logits, ids({0, 4, 1})), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::cross_entropy(logits, ids({0, 4, 1})),
                        "cross_entropy: target 4 at position 1 is out of range for 4 classes");
    REQUIRE_THROWS_WITH(ag::cross_entropy(logits, ids({0, 1, -1})), Contains("target -1 at position 2"));
    REQUIRE_THROWS_AS(ag::cross_entropy(logits, ag::zeros({3})), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::cross_entropy(logits, ag::zeros({3})),
                        "cross_entropy: targets must be int64 class indices; got torch.float32");
    REQUIRE_THROWS_WITH(ag::cross_entropy(logits, ids({0, 1})),
                        "cross_entropy: targets must be (N) for logits (N, C); got [2] for [3, 4]");
    REQUIRE_THROWS_WITH(ag::cross_entropy(ag::ones({2, 3, 4}), ids({0, 1})),
                        Contains("cross_entropy: logits must be (N, C); got shape [2, 3, 4]"));
}

TEST_CASE("errors: backward on a non-scalar needs a gradient") {
    Tensor y = leaf({2, 3}) * 2.0;
    REQUIRE_THROWS_AS(y.backward(), std::invalid_argument);
    REQUIRE_THROWS_WITH(y.backward(), Contains("backward: grad can be implicitly created only for a tensor with one "
                                               "element; got shape [2, 3]"));
}

TEST_CASE("errors: backward with a gradient of the wrong shape or dtype") {
    Tensor y = leaf({2, 3}) * 2.0;
    REQUIRE_THROWS_AS(y.backward(ag::ones({3})), std::invalid_argument);
    REQUIRE_THROWS_WITH(y.backward(ag::ones({3})),
                        "backward: grad must have the shape of the tensor; got [3] for a tensor of shape [2, 3]");
    REQUIRE_THROWS_WITH(y.backward(ag::ones({2, 3}, DType::Float64)),
                        "backward: grad must have the dtype of the tensor; got torch.float64 for torch.float32");
    y.backward(ag::ones({2, 3}));  // the failed calls left the graph usable
}

TEST_CASE("errors: backward on a tensor that does not require grad") {
    Tensor y = ag::ones({2}).sum();
    REQUIRE_THROWS_AS(y.backward(), std::invalid_argument);
    REQUIRE_THROWS_WITH(y.backward(), "backward: the tensor does not require grad and has no grad_fn");
    Tensor detached = (leaf({2}) * 2.0).sum().detach();
    REQUIRE_THROWS_WITH(detached.backward(), Contains("does not require grad"));
}

TEST_CASE("errors: a second backward through a freed graph") {
    Tensor x = leaf({2});
    Tensor m = x * 2.0;
    Tensor loss = m.sum();
    loss.backward();
    REQUIRE_THROWS_AS(loss.backward(), std::invalid_argument);
    REQUIRE_THROWS_WITH(loss.backward(), Contains("backward: the graph through 'SumBackward' was already freed") &&
                                             Contains("retain_graph"));
    // a new loss built on the freed part of the graph fails where it reaches it
    REQUIRE_THROWS_WITH((m * 3.0).sum().backward(), Contains("the graph through 'MulBackward' was already freed"));
    // with retain_graph the second pass works and accumulates
    Tensor y = leaf({2});
    Tensor l2 = (y * 2.0).sum();
    l2.backward(Tensor(), /*retain_graph=*/true);
    l2.backward();
    CHECK(y.grad().to_vector<float>() == std::vector<float>{4, 4});
}

TEST_CASE("errors: mixing dtypes is refused, not promoted") {
    Tensor f32 = ag::ones({2, 2}), f64 = ag::ones({2, 2}, DType::Float64);
    REQUIRE_THROWS_AS(f32 + f64, std::invalid_argument);
    REQUIRE_THROWS_WITH(f32 + f64, "add: both tensors must have the same dtype; got torch.float32 and torch.float64");
    REQUIRE_THROWS_WITH(f64 * f32, Contains("mul: both tensors must have the same dtype"));
    REQUIRE_THROWS_AS(ag::matmul(f32, f64), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::matmul(f32, f64),
                        "matmul: both tensors must have the same dtype; got torch.float32 and torch.float64");
    REQUIRE_THROWS_WITH(ag::cat({f32, f64}, 0), "cat: tensors must have the same dtype; got torch.float32 and torch.float64");
    REQUIRE_THROWS_WITH(ag::lt(f32, f64), Contains("lt: both tensors must have the same dtype"));
    REQUIRE_THROWS_WITH(ag::add_(f32, f64), Contains("add_: both tensors must have the same dtype"));
    REQUIRE_THROWS_WITH(f32.copy_(f64), "copy_: dtypes must match; got torch.float64 into torch.float32");
}

TEST_CASE("errors: ops that need a certain dtype say which they got") {
    Tensor x = ag::ones({2, 3});
    REQUIRE_THROWS_AS(x.masked_fill(ag::zeros({2, 3}), 0.0), std::invalid_argument);
    REQUIRE_THROWS_WITH(x.masked_fill(ag::zeros({2, 3}), 0.0),
                        "masked_fill: the mask must be a bool tensor (e.g. tril == 0); got torch.float32");
    REQUIRE_THROWS_WITH(x.masked_fill(ag::zeros({2, 3}, DType::Int64), 0.0), Contains("got torch.int64"));
    REQUIRE_THROWS_WITH(ag::index_select(x, 0, ag::zeros({2})),
                        "index_select: the index must be a 1-D int64 tensor; got torch.float32 of shape [2]");
    REQUIRE_THROWS_WITH(ag::ones({2}, DType::Int64).exp(), "exp: expected a floating-point tensor; got torch.int64");
    REQUIRE_THROWS_WITH(ag::randn({2}, DType::Int64), "randn: expected a floating-point tensor; got torch.int64");
    REQUIRE_THROWS_WITH(x.data<double>(), "data: the tensor holds torch.float32; got a request for torch.float64");
}

TEST_CASE("errors: view refuses strides it cannot read without copying") {
    Tensor t = ag::ones({2, 3}).transpose(0, 1);
    REQUIRE_THROWS_AS(t.view({6}), std::invalid_argument);
    REQUIRE_THROWS_WITH(t.view({6}), "view: the strides of a tensor of shape [3, 2] do not allow viewing it as [6] "
                                     "(use reshape, which copies)");
    CHECK(t.reshape({6}).shape() == ag::Shape{6});
}

TEST_CASE("errors: reshape and view to a wrong number of elements") {
    Tensor x = ag::ones({2, 3});
    REQUIRE_THROWS_AS(x.reshape({4, 2}), std::invalid_argument);
    REQUIRE_THROWS_WITH(x.reshape({4, 2}), "reshape: shape [4, 2] is invalid for a tensor of shape [2, 3] (6 elements)");
    REQUIRE_THROWS_WITH(x.reshape({4, -1}), Contains("reshape: shape [4, -1] is invalid"));
    REQUIRE_THROWS_WITH(x.view({5}), Contains("view: shape [5] is invalid for a tensor of shape [2, 3]"));
    REQUIRE_THROWS_WITH(x.reshape({-1, -1}), "reshape: sizes must be non-negative (one may be -1); got [-1, -1]");
    REQUIRE_THROWS_WITH(x.reshape({-2, -3}), Contains("sizes must be non-negative"));
}

TEST_CASE("errors: other shape ops check their arguments") {
    Tensor x = ag::ones({2, 3});
    REQUIRE_THROWS_WITH(x.expand({2, 4}), Contains("expand:") && Contains("[2, 3] and [2, 4]"));
    REQUIRE_THROWS_WITH(x.expand({3}), "expand: the tensor must broadcast to the target shape; got [2, 3] to [3]");
    REQUIRE_THROWS_WITH(ag::ones({1}).expand({-1}), "expand: sizes must be non-negative; got [-1]");
    REQUIRE_THROWS_WITH(x.permute({0}), "permute: need one dim per dim of the tensor; got [0] for shape [2, 3]");
    REQUIRE_THROWS_WITH(x.permute({1, 1}), "permute: each dim must appear once; got [1, 1]");
    REQUIRE_THROWS_WITH(x.slice(0, 0, 2, 0), "slice: step must be positive; got 0");
    REQUIRE_THROWS_WITH(ag::cat({}, 0), "cat: needs at least one tensor; got none");
    REQUIRE_THROWS_WITH(ag::cat({x, ag::ones({3, 3})}, 1), Contains("cat:") && Contains("got [2, 3] and [3, 3]"));
    REQUIRE_THROWS_WITH(ag::tril(ag::ones({3})), "tril: needs a tensor with at least 2 dims; got shape [3]");
    REQUIRE_THROWS_WITH(ag::triu(ag::ones({})), Contains("triu: needs a tensor with at least 2 dims"));
    REQUIRE_THROWS_WITH(ag::sum_to(x, {4}), Contains("sum_to:") && Contains("[4]"));
    REQUIRE_THROWS_WITH(ag::max(ag::ones({0})), "max: cannot reduce an empty tensor; got shape [0]");
}

TEST_CASE("errors: requires_grad_ on a non-leaf or a non-float tensor") {
    Tensor y = leaf({2}) * 2.0;
    REQUIRE_THROWS_AS(y.requires_grad_(), std::invalid_argument);
    REQUIRE_THROWS_WITH(y.requires_grad_(), "requires_grad_: only a leaf can be marked; this tensor was made by "
                                            "'MulBackward' (use detach() to make a leaf)");
    REQUIRE_THROWS_AS(ag::ones({2}, DType::Int64).requires_grad_(), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::ones({2}, DType::Int64).requires_grad_(),
                        "requires_grad_: only floating-point tensors can require grad; got torch.int64");
    REQUIRE_THROWS_WITH((ag::ones({2}) > 0.0).requires_grad_(), Contains("got torch.bool"));
}

TEST_CASE("errors: in-place writes into a tensor that requires grad") {
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

TEST_CASE("errors: copy_ into a tensor of another shape") {
    Tensor x = ag::zeros({3});
    REQUIRE_THROWS_WITH(x.copy_(ag::ones({2, 3})), "copy_: source must broadcast to the destination's shape; got [2, 3] "
                                                   "into [3]");
    REQUIRE_THROWS_WITH(x.copy_(ag::ones({4})), Contains("copy_: shapes cannot be broadcast"));
}

TEST_CASE("errors: ragged nested lists in ag::tensor") {
    REQUIRE_THROWS_AS(ag::tensor({{1.0, 2.0}, {3.0}}), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::tensor({{1.0, 2.0}, {3.0}}),
                        "tensor: nested lists must be rectangular; got rows of shapes [2] and [1]");
    REQUIRE_THROWS_WITH(ag::tensor({1.0, {2.0, 3.0}}), Contains("got rows of shapes [] and [2]"));
    REQUIRE_THROWS_WITH(ag::tensor({{{1.0}, {2.0}}, {{1.0, 2.0}}}), Contains("got rows of shapes [2, 1] and [1, 2]"));
    REQUIRE_THROWS_WITH(ag::from_vector(std::vector<double>{1, 2, 3}, {2, 2}),
                        "from_vector: the shape must hold exactly the values given; got 3 values for shape [2, 2]");
}

TEST_CASE("errors: item() on a tensor that is not one element") {
    REQUIRE_THROWS_AS(ag::ones({2, 3}).item(), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::ones({2, 3}).item(),
                        "item: only a tensor with one element converts to a number; got shape [2, 3]");
    REQUIRE_THROWS_WITH(ag::ones({0}).item(), Contains("got shape [0]"));
    CHECK(ag::ones({1, 1}).item() == 1.0);
}

TEST_CASE("errors: creation functions refuse bad arguments") {
    REQUIRE_THROWS_AS(ag::randint(5, 5, {2}), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::randint(5, 5, {2}), "randint: high must be greater than low; got low=5, high=5");
    REQUIRE_THROWS_WITH(ag::randint(3, 1, {2}), Contains("got low=3, high=1"));
    REQUIRE_THROWS_AS(ag::arange(0, 5, 0), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::arange(0, 5, 0), Contains("arange:") && Contains("step nonzero") && Contains("step=0"));
    REQUIRE_THROWS_WITH(ag::arange(std::numeric_limits<double>::infinity()), Contains("end=inf"));
    REQUIRE_THROWS_WITH(ag::zeros({2, -1}), Contains("sizes must be non-negative; got [2, -1]"));
}

TEST_CASE("errors: an undefined tensor is reported, not dereferenced") {
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
    Tensor x = leaf({2});
    REQUIRE_THROWS_WITH(x.grad().item(), Contains(message));  // no backward yet
    CHECK(undefined.str() == "tensor(undefined)");
}

TEST_CASE("errors: copying a tensor that requires grad into a view is refused (its gradient would be lost)") {
    ag::Tensor y = ag::ones({2}).requires_grad_();
    ag::Tensor out = ag::zeros({3, 2});
    REQUIRE_THROWS_WITH(out[0] = y * 2.0, Catch::Contains("copy_: the source requires grad"));
    out[0] = (y * 2.0).detach();
    CHECK(out[0].to_vector<float>() == std::vector<float>{2, 2});
}

TEST_CASE("errors: add_ into a tensor that requires grad is refused outside NoGradGuard") {
    ag::Tensor w = ag::ones({2}).requires_grad_();
    REQUIRE_THROWS_WITH(ag::add_(w, ag::ones({2})), Catch::Contains("add_: cannot write in place"));
    ag::NoGradGuard no_grad;
    ag::add_(w, ag::ones({2}));
    CHECK(w.to_vector<float>() == std::vector<float>{2, 2});
}
