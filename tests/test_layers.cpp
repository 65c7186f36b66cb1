// Layers: PyTorch's numbers for the same seed (initial values: tests/fixtures/init_fixtures.inc, outputs and
// gradients: tests/fixtures/layer_fixtures.inc), gradcheck wrt input and every parameter, causality, fused ==
// composed.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>

#include "engine/engine.h"
#include "layers/layers.h"
#include "tests/check_close.h"

namespace {
#include "tests/fixtures/init_fixtures.inc"
#include "tests/fixtures/layer_fixtures.inc"
}  // namespace

using namespace ag;

namespace {

// gradcheck of loss = (module(x) * w).sum() and of module(x) itself, wrt x and every parameter, in float64.
template <typename M>
void gradcheck_module(M& module, const Shape& x_shape) {
    module.to(DType::Float64);
    Tensor x = randn(x_shape, DType::Float64).requires_grad_();
    std::vector<Tensor> inputs = {x};
    for (const Tensor& p : module.parameters()) inputs.push_back(p);
    Tensor w = randn(module(x).shape(), DType::Float64);
    auto weighted = [&](const std::vector<Tensor>& in) { return (module(in[0]) * w).sum(); };
    auto full = [&](const std::vector<Tensor>& in) { return module(in[0]); };
    GradcheckResult scalar = gradcheck(weighted, inputs);
    INFO(scalar.report);
    CHECK(scalar.passed);
    GradcheckResult jacobian = gradcheck(full, inputs);
    INFO(jacobian.report);
    CHECK(jacobian.passed);
}

// Every value of a float32 tensor equals PyTorch's bit for bit; on failure, names the first that differs and how many do.
void check_bits(const Tensor& actual, const std::vector<float>& expected) {
    const std::vector<float> got = actual.to_vector<float>();
    REQUIRE(got.size() == expected.size());
    size_t differing = 0, first = got.size();
    for (size_t i = 0; i < got.size(); ++i)
        if (std::bit_cast<uint32_t>(got[i]) != std::bit_cast<uint32_t>(expected[i])) {
            if (differing++ == 0) first = i;
        }
    INFO(differing << " of " << got.size() << " values differ; the first at flat index " << first << ": ours "
                   << (differing ? got[first] : 0.0f) << ", PyTorch " << (differing ? expected[first] : 0.0f));
    CHECK(differing == 0);
}

}  // namespace

TEST_CASE("Linear: manual_seed(1337) Linear(32, 16) holds PyTorch's initial weight and bias, bit for bit",
          "[layers][random]") {
    manual_seed(1337);
    Linear linear(32, 16);
    REQUIRE(linear.weight.shape() == Shape{16, 32});
    REQUIRE(linear.bias.shape() == Shape{16});
    check_bits(linear.weight, init_fixtures::linear_32_16_weight);  // all 512 values
    check_bits(linear.bias, init_fixtures::linear_32_16_bias);      // all 16, drawn after the weight
}

TEST_CASE("Linear: output and gradients match PyTorch for the same seed", "[layers]") {
    manual_seed(11);
    Tensor x = randn({2, 3, 5}).requires_grad_();
    Linear linear(5, 4);
    Tensor out = linear(x);
    (out * randn(out.shape())).sum().backward();
    check_close(out, layer_fixtures::linear_out);
    check_close(x.grad(), layer_fixtures::linear_dx);
    check_close(linear.weight.grad(), layer_fixtures::linear_d_weight);
    check_close(linear.bias.grad(), layer_fixtures::linear_d_bias);
}

TEST_CASE("Head: output, attention and gradients match PyTorch for the same seed", "[layers][attention]") {
    manual_seed(12);
    Tensor x = randn({2, 5, 8}).requires_grad_();
    Head head(8, 4);
    Tensor out = head(x);
    (out * randn(out.shape())).sum().backward();
    check_close(out, layer_fixtures::head_out);
    check_close(head.attention(x), layer_fixtures::head_wei);
    check_close(x.grad(), layer_fixtures::head_dx);
    check_close(head.key.weight.grad(), layer_fixtures::head_d_key_weight);
    check_close(head.query.weight.grad(), layer_fixtures::head_d_query_weight);
    check_close(head.value.weight.grad(), layer_fixtures::head_d_value_weight);
}

TEST_CASE("Head: the notebook's version 4 (B,T,C = 4,8,32, head_size 16, seed 1337) matches PyTorch",
          "[layers][attention]") {
    manual_seed(1337);
    Tensor x = randn({4, 8, 32});
    Head head(32, 16);
    Tensor out = head(x);
    check_close(head.attention(x)[0], layer_fixtures::notebook_wei0);
    check_close(out[0], layer_fixtures::notebook_out0);
    CHECK(head.attention(x)[0][1].str() == "tensor([0.3966, 0.6034, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000])");
}

TEST_CASE("MultiHeadAttention: output and gradients match PyTorch for the same seed", "[layers][attention]") {
    manual_seed(13);
    Tensor x = randn({2, 4, 6}).requires_grad_();
    MultiHeadAttention mha(6, 2, 3);
    Tensor out = mha(x);
    (out * randn(out.shape())).sum().backward();
    check_close(out, layer_fixtures::mha_out);
    check_close(x.grad(), layer_fixtures::mha_dx);
    check_close(mha.heads[0].key.weight.grad(), layer_fixtures::mha_d_heads_0_key_weight);
    check_close(mha.heads[1].query.weight.grad(), layer_fixtures::mha_d_heads_1_query_weight);
    check_close(mha.heads[1].value.weight.grad(), layer_fixtures::mha_d_heads_1_value_weight);
    check_close(mha.proj.weight.grad(), layer_fixtures::mha_d_proj_weight);
    check_close(mha.proj.bias.grad(), layer_fixtures::mha_d_proj_bias);
}

TEST_CASE("Linear: gradients wrt input, weight and bias match finite differences", "[layers][gradcheck]") {
    manual_seed(1);
    Linear linear(4, 3);
    gradcheck_module(linear, {2, 3, 4});
}

TEST_CASE("Head: gradients wrt input and key, query, value weights, causal and not, match finite differences",
          "[layers][attention][gradcheck]") {
    manual_seed(2);
    Head head(4, 3);
    gradcheck_module(head, {2, 4, 4});
    Head full(4, 3, /*causal=*/false);
    gradcheck_module(full, {2, 3, 4});
}

TEST_CASE("MultiHeadAttention: gradients wrt input and every parameter match finite differences",
          "[layers][attention][gradcheck]") {
    manual_seed(4);
    MultiHeadAttention mha(4, 2, 2);
    gradcheck_module(mha, {2, 3, 4});
}

TEST_CASE("Embedding and PositionalEmbedding: gradients wrt their tables match finite differences",
          "[layers][gradcheck]") {
    manual_seed(5);
    Embedding emb(5, 3);
    PositionalEmbedding pos(4, 3);
    emb.to(DType::Float64);
    pos.to(DType::Float64);
    Tensor ids = tensor({{1, 4, 1}, {0, 1, 3}}, DType::Int64);  // repeated ids: their gradients add up
    Tensor w = randn({2, 3, 3}, DType::Float64);
    auto f = [&](const std::vector<Tensor>&) { return ((emb(ids) + pos(3)) * w).sum(); };
    GradcheckResult r = gradcheck(f, {emb.weight, pos.weight});
    INFO(r.report);
    CHECK(r.passed);
}

TEST_CASE("Embedding: manual_seed(1337) Embedding(65, 32) holds PyTorch's initial table, bit for bit",
          "[layers][random]") {
    manual_seed(1337);
    Embedding emb(65, 32);
    REQUIRE(emb.weight.shape() == Shape{65, 32});
    check_bits(emb.weight, init_fixtures::embedding_65_32_weight);  // all 2,080 values
    CHECK(emb(tensor({{2, 0}}, DType::Int64)).shape() == Shape{1, 2, 32});
    REQUIRE_THROWS_WITH(emb(tensor({65}, DType::Int64)), Catch::Contains("out of range"));
    PositionalEmbedding pos(8, 4);
    REQUIRE_THROWS_WITH(pos(9), Catch::Contains("block_size = 8"));
}

TEST_CASE("Head: changing the future never changes the past (causality)", "[layers][attention]") {
    manual_seed(6);
    Head head(8, 4);
    Tensor x = randn({3, 6, 8});
    Tensor out = head(x);
    for (int64_t t = 0; t < 5; ++t) {
        Tensor changed = x.clone();
        changed.index({Slice{}, Slice{t + 1}}) = randn({3, 5 - t, 8}) * 10.0;
        Tensor past = head(changed).index({Slice{}, Slice{0, t + 1}});
        CHECK(past.to_vector<float>() == out.index({Slice{}, Slice{0, t + 1}}).to_vector<float>());
    }
}

TEST_CASE("Module: named parameters come in a stable, PyTorch-like order", "[layers]") {
    MultiHeadAttention mha(8, 2, 4);
    std::vector<std::string> names;
    for (auto& [name, p] : mha.named_parameters()) names.push_back(name);
    CHECK(names == std::vector<std::string>{"heads.0.key.weight", "heads.0.query.weight", "heads.0.value.weight",
                                            "heads.1.key.weight", "heads.1.query.weight", "heads.1.value.weight",
                                            "proj.weight", "proj.bias"});
    CHECK(mha.num_parameters() == 6 * 4 * 8 + 8 * 8 + 8);
    CHECK(mha.heads[1].value.weight.name() == "heads.1.value.weight");  // tensors carry their path, for graph dumps
    mha.eval();
    CHECK_FALSE(mha.heads[1].is_training());
    mha.train();
    CHECK(mha.proj.is_training());
    mha.to(DType::Float64);
    CHECK(mha.proj.weight.dtype() == DType::Float64);
    CHECK(mha.proj.weight.requires_grad());
}

TEST_CASE("Linear and Head: wrong input shapes are refused with the expected shape in the message", "[layers]") {
    Linear linear(4, 2);
    REQUIRE_THROWS_WITH(linear(zeros({3, 5})), Catch::Contains("in_features = 4") && Catch::Contains("[3, 5]"));
    Head head(4, 2);
    REQUIRE_THROWS_WITH(head(zeros({3, 4})), Catch::Contains("(B, T, C)"));
    REQUIRE_THROWS_AS(MultiHeadAttention(4, 0, 2), std::invalid_argument);
}

TEST_CASE("Module: to() the dtype it already has changes nothing, so an optimiser built before still works",
          "[layers][optim]") {
    manual_seed(3);
    Linear layer(3, 2);
    AdamW opt(layer.named_parameters(), 0.1);
    const std::shared_ptr<TensorImpl> weight = layer.weight.impl_ptr();
    const std::vector<float> before = layer.weight.to_vector<float>();
    layer.to(DType::Float32);
    CHECK(layer.weight.impl_ptr() == weight);  // the same tensor, not a copy
    layer(ones({4, 3})).sum().backward();
    opt.step();
    CHECK(layer.weight.to_vector<float>() != before);  // the optimiser updated the model's own weight
}

TEST_CASE("Module: to() another dtype converts each parameter in place; an older optimiser refuses to step",
          "[layers][optim]") {
    manual_seed(4);
    Linear layer(3, 2);
    SGD sgd(layer.named_parameters(), 0.1);
    AdamW adamw(layer.named_parameters(), 0.1);
    const std::vector<float> before = layer.weight.to_vector<float>();
    Tensor handle = layer.weight;  // any handle sees the conversion
    layer.to(DType::Float64);
    CHECK(handle.dtype() == DType::Float64);
    CHECK(handle.name() == "weight");
    CHECK(handle.requires_grad());
    CHECK(handle.to_vector<double>() == std::vector<double>(before.begin(), before.end()));
    layer(ones({4, 3}, DType::Float64)).sum().backward();
    for (Optimizer* opt : std::vector<Optimizer*>{&sgd, &adamw})
        REQUIRE_THROWS_WITH(opt->step(), Catch::Contains("parameter 'weight' is now torch.float64 of shape [2, 3], but "
                                                         "the optimiser was built for torch.float32") &&
                                             Catch::Contains("Module::to"));
    CHECK(layer.weight.to_vector<double>() == std::vector<double>(before.begin(), before.end()));  // untouched
    AdamW fresh(layer.named_parameters(), 0.1);  // built after converting: fine
    fresh.step();
    CHECK(layer.weight.to_vector<double>() != std::vector<double>(before.begin(), before.end()));
    REQUIRE_THROWS_WITH(layer.to(DType::Int64), Catch::Contains("Module::to: parameters must be floating-point"));
}
