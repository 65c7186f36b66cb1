// layer_norm (engine/layer_norm.cpp, kernels_layer_norm.cpp): PyTorch's values and gradients, gradcheck in float64
// (with and without the affine part, one channel, large offsets, strided input), and its errors.
#include <catch2/catch.hpp>

#include <tuple>
#include <vector>

#include "engine/engine.h"
#include "tests/check_close.h"
#include "tests/gradcheck_helpers.h"

namespace {
#include "tests/fixtures/gpt_op_fixtures.inc"

using namespace ag;
using Catch::Contains;

Tensor fixture(const std::vector<double>& values, const Shape& shape, DType dtype) {
    return from_vector(values, shape).to(dtype);
}

// The notebook-style spelling of layer_norm from the engine's own ops: (x - mean) / sqrt(var + eps) * w + b.
Tensor composed_layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
    Tensor mean = x.mean(-1, true);
    Tensor centred = x - mean;
    Tensor var = (centred * centred).mean(-1, true);
    return centred / sqrt(var + eps) * w + b;
}

}  // namespace

TEST_CASE("layer_norm: PyTorch's values in float32 and float64, with and without weight and bias", "[layer_norm]") {
    for (DType dt : {DType::Float32, DType::Float64}) {
        const bool f32 = dt == DType::Float32;
        const double rtol = f32 ? 1e-5 : 1e-12, atol = f32 ? 1e-6 : 1e-13;
        const Tensor x = fixture(gfx::ln_x, {2, 3, 8}, dt);
        const Tensor w = fixture(gfx::ln_w, {8}, dt), b = fixture(gfx::ln_b, {8}, dt);
        check_close(layer_norm(x, w, b), f32 ? gfx::ln_out_f32 : gfx::ln_out_f64, rtol, atol);
        check_close(layer_norm(x, Tensor(), Tensor()), f32 ? gfx::ln_plain_out_f32 : gfx::ln_plain_out_f64, rtol, atol);
    }
}

TEST_CASE("layer_norm: PyTorch's float32 gradients wrt x, weight and bias", "[layer_norm]") {
    Tensor x = fixture(gfx::ln_x, {2, 3, 8}, DType::Float32).requires_grad_();
    Tensor w = fixture(gfx::ln_w, {8}, DType::Float32).requires_grad_();
    Tensor b = fixture(gfx::ln_b, {8}, DType::Float32).requires_grad_();
    (layer_norm(x, w, b) * fixture(gfx::ln_g, {2, 3, 8}, DType::Float32)).sum().backward();
    check_close(x.grad(), gfx::ln_grad_x, 1e-5, 1e-5);
    check_close(w.grad(), gfx::ln_grad_w, 1e-5, 1e-6);
    check_close(b.grad(), gfx::ln_grad_b, 1e-5, 1e-6);
}

TEST_CASE("layer_norm: equals the composed ops, values and gradients, on rows of many widths", "[layer_norm]") {
    manual_seed(3);
    for (int64_t C : {1, 2, 7, 64, 300}) {
        INFO("C = " << C);
        Tensor x = randn({5, C}, DType::Float64).requires_grad_();
        Tensor w = randn({C}, DType::Float64).requires_grad_(), b = randn({C}, DType::Float64).requires_grad_();
        const Tensor g = randn({5, C}, DType::Float64);
        Tensor fused = layer_norm(x, w, b, 1e-5);
        (fused * g).sum().backward();
        const std::vector<Tensor> fused_grads{x.grad().clone(), w.grad().clone(), b.grad().clone()};
        x.zero_grad(), w.zero_grad(), b.zero_grad();
        Tensor composed = composed_layer_norm(x, w, b, 1e-5);
        (composed * g).sum().backward();
        check_close(fused, composed.to_vector<double>(), 1e-12, 1e-12);
        check_close(fused_grads[0], x.grad().to_vector<double>(), 1e-10, 1e-10);
        check_close(fused_grads[1], w.grad().to_vector<double>(), 1e-12, 1e-12);
        check_close(fused_grads[2], b.grad().to_vector<double>(), 1e-12, 1e-12);
    }
}

TEST_CASE("layer_norm: gradcheck wrt x, weight and bias", "[layer_norm][gradcheck]") {
    manual_seed(11);
    const auto ln = [](const std::vector<Tensor>& in) { return layer_norm(in[0], in[1], in[2]); };
    check(ln, {input({2, 3, 5}), input({5}), input({5})});
    SECTION("without weight and bias") {
        check([](const std::vector<Tensor>& in) { return layer_norm(in[0], Tensor(), Tensor()); }, {input({4, 6})});
    }
    SECTION("weight only, and bias only") {
        check([](const std::vector<Tensor>& in) { return layer_norm(in[0], in[1], Tensor()); }, {input({3, 4}), input({4})});
        check([](const std::vector<Tensor>& in) { return layer_norm(in[0], Tensor(), in[1]); }, {input({3, 4}), input({4})});
    }
    SECTION("one channel: the output is the bias, and x gets a zero gradient") {
        check(ln, {input({3, 1}), input({1}), input({1})});
    }
    SECTION("rows far from 0: x - mean is formed first") {
        Tensor far = (randn({2, 8}, DType::Float64) + 1e3).requires_grad_();
        check([](const std::vector<Tensor>& in) { return layer_norm(in[0], Tensor(), Tensor()); }, {far});
    }
    SECTION("a strided input and a 1-D one") {
        check([](const std::vector<Tensor>& in) { return layer_norm(in[0].transpose(0, 1), in[1], in[2]); },
              {input({3, 5}), input({3}), input({3})});
        check(ln, {input({6}), input({6}), input({6})});
    }
}

TEST_CASE("layer_norm: mean 0 and variance 1 per row; a constant row gives the bias", "[layer_norm]") {
    manual_seed(5);
    const Tensor y = layer_norm(randn({4, 100}, DType::Float64) * 3.0 + 7.0, Tensor(), Tensor(), 0);
    check_close(y.mean(-1), std::vector<double>(4, 0.0), 0, 1e-14);
    check_close((y * y).mean(-1), std::vector<double>(4, 1.0), 1e-13, 0);
    const Tensor b = from_vector(std::vector<double>{1, 2, 3}, {3});
    CHECK(layer_norm(full({2, 3}, 5.0, DType::Float64), ones({3}, DType::Float64), b).to_vector<double>() ==
          std::vector<double>{1, 2, 3, 1, 2, 3});
}

TEST_CASE("layer_norm: float32 rows with a large offset keep their spread, forward and backward", "[layer_norm]") {
    manual_seed(9);
    Tensor x32 = (randn({3, 50}) * 0.05 + 3e4).requires_grad_();  // float32 steps of 2^-9 at 3e4
    Tensor x64 = x32.detach().to(DType::Float64).requires_grad_();
    const Tensor g = randn({3, 50});
    Tensor y32 = layer_norm(x32, Tensor(), Tensor()), y64 = layer_norm(x64, Tensor(), Tensor());
    (y32 * g).sum().backward();
    (y64 * g.to(DType::Float64)).sum().backward();
    check_close(y32, y64.to_vector<double>(), 1e-5, 1e-5);
    check_close(x32.grad(), x64.grad().to_vector<double>(), 1e-4, 1e-4);
}

TEST_CASE("layer_norm: the same numbers whatever the thread count", "[layer_norm][threads]") {
    manual_seed(8);
    // rows in whole and partial chunks, one column block (C 128) and two (C 384), with and without weight and bias
    for (const auto& [rows, C, affine] : {std::tuple{64, 384, true}, {70, 512, true}, {300, 128, true},
                                          {300, 128, false}}) {
        INFO("rows " << rows << ", C " << C << (affine ? "" : ", no weight or bias"));
        Tensor x = randn({rows, C}).requires_grad_();
        Tensor w = affine ? randn({C}).requires_grad_() : Tensor(), b = affine ? randn({C}).requires_grad_() : Tensor();
        const Tensor g = randn({rows, C});
        std::vector<std::vector<float>> runs;
        const int before = num_threads();
        for (int threads : {1, 2}) {
            set_num_threads(threads);
            x.zero_grad();
            if (affine) w.zero_grad(), b.zero_grad();
            Tensor y = layer_norm(x, w, b);
            (y * g).sum().backward();
            runs.push_back(y.to_vector<float>());
            runs.push_back(x.grad().to_vector<float>());
            if (affine) runs.push_back(w.grad().to_vector<float>()), runs.push_back(b.grad().to_vector<float>());
        }
        set_num_threads(before);
        const size_t per_run = runs.size() / 2;
        for (size_t i = 0; i < per_run; ++i) CHECK(runs[i] == runs[i + per_run]);
    }
}

TEST_CASE("layer_norm: errors name the rule and what was given", "[layer_norm][errors]") {
    const Tensor x = zeros({2, 4});
    CHECK_THROWS_WITH(layer_norm(zeros({}), Tensor(), Tensor()), Contains("at least one dim"));
    CHECK_THROWS_WITH(layer_norm(x, zeros({3}), Tensor()), Contains("weight must be (C) with C = 4") && Contains("[3]"));
    CHECK_THROWS_WITH(layer_norm(x, Tensor(), zeros({4, 1})), Contains("bias must be (C)"));
    CHECK_THROWS_WITH(layer_norm(x, zeros({4}, DType::Float64), Tensor()), Contains("dtype torch.float32"));
    CHECK_THROWS_WITH(layer_norm(x, Tensor(), Tensor(), -1), Contains("eps must be non-negative"));
    CHECK_THROWS_WITH(layer_norm(x, Tensor(), Tensor(), NAN), Contains("eps"));
    CHECK_THROWS_WITH(layer_norm(zeros({2, 4}, DType::Int64), Tensor(), Tensor()), Contains("layer_norm"));
}

TEST_CASE("layer_norm: a weight changed in place before backward is refused", "[layer_norm][version]") {
    Tensor x = ones({2, 3}).requires_grad_();
    Tensor w = ones({3}).requires_grad_();
    Tensor y = layer_norm(x * from_vector(std::vector<float>{1, 2, 3}, {3}), w, Tensor());
    {
        NoGradGuard no_grad;
        w.fill_(2.0);
    }
    CHECK_THROWS_WITH(y.sum().backward(), Contains("LayerNormBackward"));
}
