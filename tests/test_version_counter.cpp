// Version counters: every in-place write bumps its buffer's version, every op records the versions of the tensors
// its backward reads, and backward refuses to compute with values written after the op saved them.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

#include "engine/engine.h"
#include "layers/layers.h"

using ag::DType;
using ag::Tensor;
using Catch::Contains;

namespace {

Tensor leaf(const ag::Shape& shape) { return ag::randn(shape).requires_grad_(); }

Tensor ids(const std::vector<int64_t>& values) {
    return ag::from_vector(values, {static_cast<int64_t>(values.size())});
}

}  // namespace

TEST_CASE("version: every in-place write bumps the version its views share", "[autograd][version]") {
    Tensor x = ag::zeros({2, 3});
    CHECK(x.version() == 0);
    x.fill_(1.0);
    CHECK(x.version() == 1);
    x[0] = ag::ones({3});  // through a view
    CHECK(x.version() == 2);
    CHECK(x[1].version() == 2);  // views share the count
    ag::add_(x, ag::ones({3}));
    CHECK(x.version() == 3);
    x.detach().copy_(ag::zeros({2, 3}));
    CHECK(x.version() == 4);
    Tensor fresh = x + 1.0;  // a new buffer starts at 0
    CHECK(fresh.version() == 0);
}

TEST_CASE("version: an index changed between forward and backward is refused, not read out of bounds",
          "[autograd][version][indexing]") {
    Tensor table = leaf({5, 3});
    SECTION("embedding") {
        Tensor i = ids({0, 4, 2});
        Tensor loss = ag::embedding(table, i).sum();
        i.fill_(-7);
        REQUIRE_THROWS_AS(loss.backward(), std::runtime_error);
    }
    SECTION("index_select") {
        Tensor i = ids({1, 3});
        Tensor loss = ag::index_select(table, 0, i).sum();
        i.fill_(100);
        REQUIRE_THROWS_WITH(loss.backward(),
                            Contains("was modified by an in-place operation after IndexSelectBackward saved it"));
    }
    SECTION("cross_entropy's targets") {
        Tensor targets = ids({0, 2, 1, 2, 0});
        Tensor loss = ag::cross_entropy(table, targets);
        targets[1] = ag::full({}, 9, DType::Int64);
        REQUIRE_THROWS_WITH(loss.backward(),
                            Contains("a tensor of shape [5] was modified by an in-place operation after "
                                     "CrossEntropyBackward saved it (its version was 0, now 1)"));
    }
    CHECK(!table.grad().defined());  // nothing was accumulated
}

TEST_CASE("version: each op refuses a saved input or result written in place, naming the op and the tensor",
          "[autograd][version]") {
    Tensor w = leaf({3, 3}).set_name("w");
    Tensor x = ag::randn({3, 3}).set_name("x");  // needs no gradient, so writing into it is allowed
    SECTION("matmul") {
        Tensor loss = ag::matmul(x, w).sum();
        x.fill_(0.0);
        REQUIRE_THROWS_WITH(loss.backward(), "backward: a tensor of shape [3, 3] ('x') was modified by an in-place "
                                             "operation after MatmulBackward saved it (its version was 0, now 1); run "
                                             "backward() before writing into it, or write into a clone()");
    }
    SECTION("mul, through a view of the saved tensor") {
        Tensor loss = (x * w).sum();
        x[1][2] = 5.0;
        REQUIRE_THROWS_WITH(loss.backward(), Contains("after MulBackward saved it"));
    }
    SECTION("masked_fill's mask") {
        Tensor mask = x > 0.0;
        Tensor loss = w.masked_fill(mask, 0.0).sum();
        mask.fill_(true);
        REQUIRE_THROWS_WITH(loss.backward(), Contains("after MaskedFillBackward saved it"));
    }
    SECTION("a result that backward reads (exp, softmax), written under NoGradGuard") {
        Tensor y = ag::exp(w);
        Tensor s = ag::softmax(w, -1);
        Tensor loss = (y + s).sum();
        {
            ag::NoGradGuard no_grad;
            y.fill_(1.0);
        }
        REQUIRE_THROWS_WITH(loss.backward(), Contains("after ExpBackward saved it"));
    }
    SECTION("the second pass of a retained graph") {
        Tensor loss = (x * w).sum();
        loss.backward(Tensor(), /*retain_graph=*/true);
        x.fill_(2.0);
        REQUIRE_THROWS_WITH(loss.backward(), Contains("after MulBackward saved it"));
    }
    SECTION("an optimiser step between forward and backward") {
        ag::SGD opt({{"w", w}}, 0.1);
        Tensor loss = (w * w).sum();
        loss.backward(Tensor(), /*retain_graph=*/true);
        opt.step();
        REQUIRE_THROWS_WITH(loss.backward(), Contains("('w') was modified by an in-place operation after MulBackward"));
    }
}

TEST_CASE("version: writes that no backward reads are allowed", "[autograd][version]") {
    Tensor w = leaf({2, 2});
    Tensor b = ag::ones({2, 2});
    SECTION("add reads no values") {
        Tensor loss = (w + b).sum();
        b.fill_(7.0);
        loss.backward();
        CHECK(w.grad().to_vector<float>() == std::vector<float>(4, 1.0f));
    }
    SECTION("a write after backward") {
        Tensor loss = (w * b).sum();
        loss.backward();
        b.fill_(3.0);  // the graph is gone: nothing to protect
        CHECK(w.grad().to_vector<float>() == std::vector<float>(4, 1.0f));
    }
    SECTION("a write into a clone") {
        Tensor c = b.clone();
        Tensor loss = (w * b).sum();
        c.fill_(5.0);
        loss.backward();
        CHECK(w.grad().to_vector<float>() == std::vector<float>(4, 1.0f));
    }
}

TEST_CASE("version: the packed attention refuses its projection written before backward",
          "[autograd][version][attention]") {
    Tensor kqv = ag::randn({2, 4, 6}).requires_grad_();
    Tensor loss = ag::self_attention(kqv, 1, true, 0.5).sum();
    {
        ag::NoGradGuard no_grad;
        kqv.fill_(0.0);
    }
    REQUIRE_THROWS_WITH(loss.backward(), Contains("after SelfAttentionBackward saved it"));
}

TEST_CASE("version: an op saves only what its backward reads, so other writes stay allowed, as in PyTorch",
          "[autograd][version]") {
    Tensor w = ag::ones({3}).requires_grad_();
    auto write_w = [&] {
        ag::NoGradGuard no_grad;
        w.fill_(5.0);
    };
    SECTION("w * 2.0 reads only the 2.0 for w's gradient") {
        Tensor loss = (w * 2.0).sum();
        write_w();
        loss.backward();
        CHECK(w.grad().to_vector<float>() == std::vector<float>(3, 2.0f));
    }
    SECTION("w / 2.0 reads only the 2.0") {
        Tensor loss = (w / 2.0).sum();
        write_w();
        loss.backward();
        CHECK(w.grad().to_vector<float>() == std::vector<float>(3, 0.5f));
    }
    SECTION("relu reads its result, not its input") {
        Tensor loss = ag::relu(w).sum();
        write_w();
        loss.backward();
        CHECK(w.grad().to_vector<float>() == std::vector<float>(3, 1.0f));
    }
    SECTION("x @ W with x needing no gradient reads x, not W") {
        Tensor x = ag::ones({2, 3});
        Tensor W = ag::ones({3, 2}).requires_grad_();
        Tensor loss = ag::matmul(x, W).sum();
        {
            ag::NoGradGuard no_grad;
            W.fill_(9.0);
        }
        loss.backward();
        CHECK(W.grad().to_vector<float>() == std::vector<float>(6, 2.0f));
    }
}

TEST_CASE("version: a tensor converted after the forward is refused by its backward, not given a wrong gradient",
          "[autograd][version][layers]") {
    ag::manual_seed(7);
    ag::Linear layer(3, 2);
    Tensor loss = layer(ag::ones({4, 3})).sum();
    layer.to(DType::Float64);  // between forward and backward
    REQUIRE_THROWS_WITH(loss.backward(), Contains("a gradient of torch.float32 reached a tensor of shape [2, 3] ('weight')") &&
                                             Contains("is now torch.float64") && Contains("run backward() first"));
    CHECK_FALSE(layer.weight.grad().defined());
    CHECK_FALSE(layer.bias.grad().defined());
}

TEST_CASE("version: set_data refuses another shape, which a graph built before would read out of bounds",
          "[autograd][version]") {
    Tensor table = ag::randn({1000, 4}).requires_grad_();
    Tensor loss = ag::embedding(table, ag::from_vector(std::vector<int64_t>{999, 998}, {2})).sum();
    REQUIRE_THROWS_WITH(table.set_data(ag::zeros({2, 4})),
                        "set_data: the new values must have the tensor's shape [1000, 4]; got [2, 4]");
    loss.backward();
    CHECK(table.grad().shape() == ag::Shape{1000, 4});
    REQUIRE_THROWS_WITH((table * 2.0).set_data(ag::zeros({1000, 4})), Contains("set_data: only a leaf"));
}
