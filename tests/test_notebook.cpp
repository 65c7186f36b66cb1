// The notebooks' first acceptance tests: the averaging trick, versions 1 to 3, with PyTorch's printed numbers.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/engine.h"

using namespace ag;

namespace {

// Printed by the notebook after torch.manual_seed(1337); x = torch.randn(4, 8, 2).
const char* kX0 = R"(tensor([[ 0.1808, -0.0700],
        [-0.3596, -0.9152],
        [ 0.6258,  0.0255],
        [ 0.9545,  0.0643],
        [ 0.3612,  1.1679],
        [-1.3499, -0.5102],
        [ 0.2360, -0.2398],
        [-0.9211,  1.5433]]))";

const char* kXbow0 = R"(tensor([[ 0.1808, -0.0700],
        [-0.0894, -0.4926],
        [ 0.1490, -0.3199],
        [ 0.3504, -0.2238],
        [ 0.3525,  0.0545],
        [ 0.0688, -0.0396],
        [ 0.0927, -0.0682],
        [-0.0341,  0.1332]]))";

Tensor version1(const Tensor& x) {
    Tensor xbow = zeros(x.shape());
    for (int64_t b = 0; b < x.size(0); ++b)
        for (int64_t t = 0; t < x.size(1); ++t) xbow[b][t] = x.index({b, Slice{0, t + 1}}).mean(0);
    return xbow;
}

}  // namespace

TEST_CASE("notebook: manual_seed(1337) randn(4, 8, 2) prints the notebook's x[0]", "[notebook]") {
    manual_seed(1337);
    Tensor x = randn({4, 8, 2});
    CHECK(x.shape() == Shape{4, 8, 2});
    CHECK(x[0].str() == kX0);
}

TEST_CASE("notebook: version 1 (loops) prints the notebook's xbow[0]", "[notebook]") {
    manual_seed(1337);
    Tensor x = randn({4, 8, 2});
    CHECK(version1(x)[0].str() == kXbow0);
}

TEST_CASE("notebook: versions 1, 2 and 3 agree", "[notebook]") {
    manual_seed(1337);
    Tensor x = randn({4, 8, 2});
    Tensor wei = tril(ones({8, 8}));
    wei = wei / wei.sum(-1, true);
    Tensor xbow2 = matmul(wei, x);  // (T, T) @ (B, T, C) -> (B, T, C)
    Tensor logits = zeros({8, 8}).masked_fill(tril(ones({8, 8})) == 0, -INFINITY);
    Tensor xbow3 = matmul(softmax(logits, -1), x);
    CHECK(xbow2.shape() == Shape{4, 8, 2});
    CHECK(allclose(version1(x), xbow2));
    CHECK(allclose(xbow2, xbow3));
    CHECK(xbow3[0].str() == kXbow0);
    CHECK(logits.str().rfind("tensor([[0., -inf, -inf, -inf, -inf, -inf, -inf, -inf],", 0) == 0);
}

TEST_CASE("notebook: the 5x5 averaging example prints the notebook's a, b and c", "[notebook]") {
    manual_seed(1337);
    randn({4, 8, 2});  // the notebook drew x first
    Tensor a = tril(ones({5, 5}));
    a = a / a.sum(1, true);
    Tensor b = randn({5, 5});
    Tensor c = matmul(a, b);
    CHECK(a.str() == R"(tensor([[1.0000, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.5000, 0.5000, 0.0000, 0.0000, 0.0000],
        [0.3333, 0.3333, 0.3333, 0.0000, 0.0000],
        [0.2500, 0.2500, 0.2500, 0.2500, 0.0000],
        [0.2000, 0.2000, 0.2000, 0.2000, 0.2000]]))");
    CHECK(b.str() == R"(tensor([[-0.8345,  0.5978, -0.0514, -0.0646, -0.4970],
        [ 0.4658, -0.2573, -1.0673,  2.0089, -0.9665],
        [ 0.3583,  0.1073,  1.2463,  1.2460,  0.3534],
        [ 0.9425, -1.6669, -0.7960,  0.1298, -1.9446],
        [ 0.0610, -0.2379,  1.9020, -1.1763, -0.1772]]))");
    CHECK(c.str() == R"(tensor([[-0.8345,  0.5978, -0.0514, -0.0646, -0.4970],
        [-0.1844,  0.1703, -0.5593,  0.9722, -0.7318],
        [-0.0035,  0.1493,  0.0426,  1.0635, -0.3700],
        [ 0.2330, -0.3048, -0.1671,  0.8300, -0.7637],
        [ 0.1986, -0.2914,  0.2467,  0.4288, -0.6464]]))");
}

TEST_CASE("notebook: the softmax example shows scaling by 8 sharpening towards one-hot", "[notebook][softmax]") {
    Tensor logits = tensor({0.1, -0.2, 0.3, -0.2, 0.5});
    CHECK(softmax(logits, -1).str() == "tensor([0.1925, 0.1426, 0.2351, 0.1426, 0.2872])");
    CHECK(softmax(logits * 8.0, -1).str() == "tensor([0.0326, 0.0030, 0.1615, 0.0030, 0.8000])");
}
