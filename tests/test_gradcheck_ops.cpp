// gradcheck, in float64 with PyTorch's tolerances, of matmul, softmax and losses, masking, gathering and views.
#include <catch2/catch.hpp>

#include "tests/gradcheck_helpers.h"

using ag::DType;
using ag::Shape;
using ag::Slice;
using ag::Tensor;

// ---- matmul ------------------------------------------------------------------------------------------------------

TEST_CASE("gradcheck: matmul of vectors and matrices") {
    ag::manual_seed(13);
    auto mm = [](const Tensor& a, const Tensor& b) { return ag::matmul(a, b); };
    SECTION("(4) . (4)") { check_binary(mm, input({4}), input({4})); }
    SECTION("(3) @ (3,4)") { check_binary(mm, input({3}), input({3, 4})); }
    SECTION("(3,4) @ (4)") { check_binary(mm, input({3, 4}), input({4})); }
    SECTION("(3,4) @ (4,2)") { check_binary(mm, input({3, 4}), input({4, 2})); }
    SECTION("(4) @ (2,4,3) and (2,3,4) @ (4)") {
        check_binary(mm, input({4}), input({2, 4, 3}));
        check_binary(mm, input({2, 3, 4}), input({4}));
    }
}

TEST_CASE("gradcheck: matmul batched (B,T,C) @ (B,C,N)") {
    ag::manual_seed(14);
    check_binary([](const Tensor& a, const Tensor& b) { return a.matmul(b); }, input({2, 3, 4}), input({2, 4, 2}));
}

TEST_CASE("gradcheck: matmul (T,T) @ (B,T,C) broadcast") {
    ag::manual_seed(15);
    check_binary([](const Tensor& a, const Tensor& b) { return ag::matmul(a, b); }, input({3, 3}), input({2, 3, 4}));
}

TEST_CASE("gradcheck: matmul (B,T,C) @ (C,N) broadcast") {
    ag::manual_seed(16);
    auto mm = [](const Tensor& a, const Tensor& b) { return ag::matmul(a, b); };
    check_binary(mm, input({2, 3, 4}), input({4, 2}));
    // a non-contiguous left operand takes the batched path instead of one folded gemm
    check_binary([](const Tensor& a, const Tensor& b) { return ag::matmul(a.transpose(1, 2), b); }, input({2, 4, 3}),
           input({4, 2}));
}

TEST_CASE("gradcheck: matmul 4-D broadcast (B,1,T,C) @ (H,C,N) and (B,1,T,C) @ (1,H,C,N)") {
    ag::manual_seed(17);
    auto mm = [](const Tensor& a, const Tensor& b) { return ag::matmul(a, b); };
    check_binary(mm, input({2, 1, 3, 4}), input({2, 4, 2}));
    check_binary(mm, input({2, 1, 3, 4}), input({1, 2, 4, 2}));  // each operand broadcast along a different batch dim
}

TEST_CASE("gradcheck: matmul of transposed and strided views") {
    ag::manual_seed(18);
    // (4,3)^T @ (2,4)^T: both operands are handed to BLAS as transposed
    check_binary([](const Tensor& a, const Tensor& b) { return ag::matmul(a.transpose(0, 1), b.transpose(0, 1)); },
           input({4, 3}), input({2, 4}));
    // q @ k^T with k a batched transposed view
    check_binary([](const Tensor& q, const Tensor& k) { return ag::matmul(q, k.transpose(-2, -1)); }, input({2, 3, 4}),
           input({2, 3, 4}));
    // every other column: strides no BLAS layout can read, so the operand is copied
    check_binary([](const Tensor& a, const Tensor& b) { return ag::matmul(a.slice(1, 0, 4, 2), b); }, input({3, 4}),
           input({2, 3}));
    // a vector with stride 2
    check_binary([](const Tensor& a, const Tensor& b) { return ag::matmul(a.slice(0, 0, 6, 2), b); }, input({6}),
           input({3, 2}));
}

// ---- softmax and losses --------------------------------------------------------------------------------------------

TEST_CASE("gradcheck: softmax and log_softmax along every dim") {
    ag::manual_seed(19);
    Tensor x = input({2, 3, 4});
    for (int64_t dim : {0, 1, 2, -1}) {
        INFO("dim " << dim);
        check_unary([dim](const Tensor& t) { return t.softmax(dim); }, x);
        check_unary([dim](const Tensor& t) { return t.log_softmax(dim); }, x);
    }
    check_unary([](const Tensor& t) { return ag::softmax(t.transpose(0, 2), 1); }, x);
}

TEST_CASE("gradcheck: softmax of a causally masked input") {
    ag::manual_seed(20);
    const int64_t T = 3;
    Tensor mask = causal_mask(T);
    // wei = softmax(masked_fill(x, future, -inf)): the gradient reaches the past and present logits only
    check_unary([mask](const Tensor& x) { return ag::softmax(x.masked_fill(mask, -kInf), -1); }, input({2, T, T}));
}

TEST_CASE("gradcheck: cross_entropy") {
    ag::manual_seed(21);
    Tensor targets = ids({3, 0, 3, 1, 2}, {5});
    check_unary([targets](const Tensor& logits) { return ag::cross_entropy(logits, targets); }, input({5, 4}));
    // (B,T,C) logits flattened to (B*T, C), as in the notebooks
    check_unary([targets](const Tensor& logits) { return ag::cross_entropy(logits.reshape({-1, 4}).slice(0, 0, 5), targets); },
           input({2, 3, 4}));
}

// ---- masking and triangles ---------------------------------------------------------------------------------------

TEST_CASE("gradcheck: masked_fill with a broadcast mask") {
    ag::manual_seed(22);
    Tensor mask = ag::randn({3, 4}) > 0.0;
    check_unary([mask](const Tensor& t) { return t.masked_fill(mask, 0.5); }, input({2, 3, 4}));
    check_unary([mask](const Tensor& t) { return ag::masked_fill(t, mask.index({Slice{}, Slice{0, 1}}), -2.0); },
           input({3, 4}));
}

TEST_CASE("gradcheck: tril and triu with several diagonals") {
    ag::manual_seed(23);
    Tensor x = input({2, 3, 4});
    for (int64_t diagonal : {-1, 0, 1}) {
        INFO("diagonal " << diagonal);
        check_unary([diagonal](const Tensor& t) { return ag::tril(t, diagonal); }, x);
        check_unary([diagonal](const Tensor& t) { return ag::triu(t, diagonal); }, x);
    }
    check_unary([](const Tensor& t) { return ag::tril(t.transpose(0, 1)); }, input({4, 3}));
}

// ---- gathering and joining ----------------------------------------------------------------------------------------

TEST_CASE("gradcheck: index_select with repeated indices adds their gradients") {
    ag::manual_seed(24);
    Tensor x = input({4, 3});
    Tensor index = ids({2, 0, 2, 2}, {4});
    check_unary([index](const Tensor& t) { return ag::index_select(t, 0, index); }, x);
    check_unary([index](const Tensor& t) { return ag::index_select(t, 1, index.slice(0, 0, 3)); }, x);
    check_unary([index](const Tensor& t) { return ag::index_select(t, -1, index); }, input({2, 3, 3}));
    check_unary([index](const Tensor& t) { return ag::index_select(t.transpose(0, 1), 0, index.slice(0, 0, 3)); }, x);
}

TEST_CASE("gradcheck: embedding with repeated ids") {
    ag::manual_seed(25);
    Tensor table = input({5, 3});
    check_unary([](const Tensor& w) { return ag::embedding(w, ids({1, 4, 1, 0, 4, 4}, {2, 3})); }, table);
    check_unary([](const Tensor& w) { return ag::embedding(w, ids({3}, {})); }, table);
}

TEST_CASE("gradcheck: cat along each dim, with an input that needs no gradient") {
    ag::manual_seed(26);
    Tensor a = input({2, 3}), b = input({2, 3}), c = ag::randn({2, 3}, DType::Float64);
    check_binary([c](const Tensor& x, const Tensor& y) { return ag::cat({x, c, y}, 0); }, a, b);
    check_binary([c](const Tensor& x, const Tensor& y) { return ag::cat({x, y, c}, 1); }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return ag::cat({x, y.slice(1, 0, 1), x}, -1); }, a, b);
}

// ---- views and copies --------------------------------------------------------------------------------------------

TEST_CASE("gradcheck: reshape and view") {
    ag::manual_seed(27);
    Tensor x = input({2, 3, 4});
    check_unary([](const Tensor& t) { return t.reshape({6, 4}); }, x);
    check_unary([](const Tensor& t) { return t.reshape({-1}); }, x);
    check_unary([](const Tensor& t) { return t.view({4, -1, 2}); }, x);
    check_unary([](const Tensor& t) { return t.transpose(0, 2).reshape({4, 6}); }, x);  // not viewable: copies
}

TEST_CASE("gradcheck: transpose, permute, unsqueeze, squeeze") {
    ag::manual_seed(28);
    Tensor x = input({2, 3, 4});
    check_unary([](const Tensor& t) { return t.transpose(0, 2); }, x);
    check_unary([](const Tensor& t) { return t.transpose(-1, -2) * 1.0; }, x);
    check_unary([](const Tensor& t) { return t.permute({2, 0, 1}); }, x);
    check_unary([](const Tensor& t) { return t.unsqueeze(1); }, x);
    check_unary([](const Tensor& t) { return t.unsqueeze(-1).squeeze(-1); }, x);
    check_unary([](const Tensor& t) { return t.squeeze(1); }, input({3, 1, 2}));
}

TEST_CASE("gradcheck: expand sums the gradient over the copies") {
    ag::manual_seed(29);
    check_unary([](const Tensor& t) { return t.expand({2, 3, 4}); }, input({3, 1}));
    check_unary([](const Tensor& t) { return ag::expand(t, {3, 2}) * 1.0; }, input({}));
}

TEST_CASE("gradcheck: slice with a step, select and index") {
    ag::manual_seed(30);
    Tensor x = input({4, 5});
    check_unary([](const Tensor& t) { return t.slice(1, 1, 5, 2); }, x);
    check_unary([](const Tensor& t) { return t.slice(0, -3, 100, 2); }, x);
    check_unary([](const Tensor& t) { return t.select(1, -1); }, x);
    check_unary([](const Tensor& t) { return t[2]; }, x);
    check_unary([](const Tensor& t) { return t.index({Slice{0, 3}, 1}); }, x);
    check_unary([](const Tensor& t) { return t.index({Slice{1, 4, 2}, Slice{0, 5, 3}}); }, x);
}

TEST_CASE("gradcheck: overlapping slices and selects of one tensor add their gradients into its parts") {
    ag::manual_seed(31);
    Tensor x = input({4, 6});
    // a leaf, sliced three ways along the last dim (the way a fused q, k, v projection is split), two overlapping
    check_unary([](const Tensor& t) { return t.slice(1, 0, 2) * t.slice(1, 2, 4) + t.slice(1, 3, 5); }, x);
    // a non-leaf whose gradient first arrives whole (shared with its consumer's), then in parts (copy on write)
    check_unary([](const Tensor& t) {
        Tensor y = t * 2.0;
        return y + y.select(0, 1) * y.slice(0, 0, 4, 3).sum(0, /*keepdim=*/true);
    }, x);
}

TEST_CASE("gradcheck: contiguous, clone, to") {
    ag::manual_seed(31);
    Tensor x = input({3, 4});
    check_unary([](const Tensor& t) { return t.contiguous(); }, x);
    check_unary([](const Tensor& t) { return t.transpose(0, 1).contiguous(); }, x);
    check_unary([](const Tensor& t) { return t.clone(); }, x);
    check_unary([](const Tensor& t) { return t.to(DType::Float64); }, x);
}

TEST_CASE("gradcheck: to(Float32) and back passes the gradient through, with a step float32 can resolve") {
    ag::manual_seed(32);
    // float32 rounding makes differences over eps = 1e-6 meaningless; 1e-2 is coarse enough for it
    auto f = [](const std::vector<Tensor>& in) { return in[0].to(DType::Float32).to(DType::Float64) * 2.0; };
    ag::GradcheckResult r = ag::gradcheck(f, {input({2, 3})}, {1e-2, 1e-4, 1e-3});
    INFO(r.report);
    REQUIRE(r.passed);
}

// ---- a composite -----------------------------------------------------------------------------------------------

TEST_CASE("gradcheck: causal self-attention softmax(q @ k^T * scale) @ v wrt q, k and v") {
    ag::manual_seed(33);
    const int64_t B = 2, T = 3, head_size = 4;
    Tensor mask = causal_mask(T);
    auto attention = [mask](const std::vector<Tensor>& in) {
        const Tensor &q = in[0], &k = in[1], &v = in[2];
        Tensor wei = ag::matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(static_cast<double>(head_size)));
        wei = ag::softmax(wei.masked_fill(mask, -kInf), -1);  // (B, T, T)
        return ag::matmul(wei, v);                              // (B, T, head_size)
    };
    check(attention, {input({B, T, head_size}), input({B, T, head_size}), input({B, T, head_size})});
}
