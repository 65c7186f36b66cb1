// matmul (engine/ops.h, "matmul"): 1-D, 2-D, batched and broadcast operands, transposed and strided views.
// Forward values against PyTorch 1.13 in float32 and float64 and float32 gradients of a whole expression
// (tests/fixtures/op_fixtures.inc, written by tests/fixtures/make_op_fixtures.py), gradcheck in float64, how
// operands are handed to BLAS, and each error message. Inner sizes of 0: test_zero_size.cpp.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

#include "engine/kernels.h"
#include "tests/gradcheck_helpers.h"
#include "tests/op_fixture.h"

using ag::DType;
using ag::Slice;
using ag::Tensor;
using Catch::Contains;

// ---- values ----------------------------------------------------------------------------------------------------

TEST_CASE("matmul: 1-D operands (dot product, vector @ matrix, matrix @ vector) match PyTorch", "[matmul]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    check_close(ag::matmul(make(fx::u5, dt), make(fx::w5, dt)), fx::dot_u5_w5, dt);  // 0-d
    check_close(ag::matmul(make(fx::v4, dt), make(fx::m45, dt)), fx::v4_at_m45, dt);
    check_close(ag::matmul(make(fx::a34, dt), make(fx::v4, dt)), fx::a34_at_v4, dt);
    check_close(ag::matmul(make(fx::v4, dt), make(fx::b243, dt)), fx::v4_at_b243, dt);
    check_close(ag::matmul(make(fx::x234, dt), make(fx::v4, dt)), fx::x234_at_v4, dt);
}

TEST_CASE("matmul: 2-D @ 2-D and batched 3-D @ 3-D match PyTorch", "[matmul]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    check_close(ag::matmul(make(fx::a34, dt), make(fx::m45, dt)), fx::a34_at_m45, dt);
    check_close(make(fx::x234, dt).matmul(make(fx::b245, dt)), fx::x234_at_b245, dt);
}

TEST_CASE("matmul: (T,T) @ (B,T,C) broadcasts like PyTorch", "[matmul]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    check_close(ag::matmul(make(fx::t44, dt), make(fx::b243, dt)), fx::t44_at_b243, dt);
}

TEST_CASE("matmul: (B,T,C) @ (C,N) matches PyTorch", "[matmul]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    check_close(ag::matmul(make(fx::x234, dt), make(fx::m45, dt)), fx::x234_at_m45, dt);
}

TEST_CASE("matmul: 4-D operands broadcast (2,1) with (1,3) batch dims like PyTorch", "[matmul]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    check_close(ag::matmul(make(fx::q2134, dt), make(fx::k1342, dt)), fx::q2134_at_k1342, dt);
}

TEST_CASE("matmul: transposed views as inputs match PyTorch", "[matmul]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor m43 = make(fx::m43, dt), m45 = make(fx::m45, dt), a34 = make(fx::a34, dt);
    check_close(ag::matmul(m43.transpose(-2, -1), m45), fx::m43T_at_m45, dt);
    check_close(ag::matmul(make(fx::x234, dt), make(fx::y234, dt).transpose(-2, -1)), fx::x234_at_y234T, dt);
    check_close(ag::matmul(m45.transpose(0, 1), a34.transpose(0, 1)), fx::m45T_at_a34T, dt);
    check_close(ag::matmul(make(fx::x234, dt).permute({2, 0, 1}), make(fx::v3, dt)), fx::x234_perm_at_v3, dt);
    check_close(ag::matmul(make(fx::y234, dt).permute({0, 2, 1}), m43.transpose(0, 1)), fx::y234_perm_at_m43T, dt);
}

TEST_CASE("matmul: non-contiguous slices as inputs match PyTorch", "[matmul]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor m38 = make(fx::m38, dt), m45 = make(fx::m45, dt);
    check_close(ag::matmul(m38.slice(1, 0, 8, 2), m45), fx::m38_step2_at_m45, dt);  // columns 2 apart
    check_close(ag::matmul(m38.slice(1, 2, 6), m45), fx::m38_cols_2_6_at_m45, dt);  // rows 8 apart
    Tensor b445 = make(fx::b445, dt);
    check_close(ag::matmul(b445.index({Slice{0, 4, 2}, Slice{}, Slice{1}}), m45), fx::b445_step2_at_m45, dt);
}

TEST_CASE("matmul: size-1 dims (row @ column, column @ row, their transposes) match PyTorch", "[matmul]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor r = make(fx::r14, dt), c = make(fx::c41, dt);
    check_close(ag::matmul(r, c), fx::r14_at_c41, dt);
    check_close(ag::matmul(c, r), fx::c41_at_r14, dt);
    check_close(ag::matmul(c.transpose(0, 1), r.transpose(0, 1)), fx::c41T_at_r14T, dt);
}

TEST_CASE("matmul: an inner dim of size 0 gives zeros, as in PyTorch", "[matmul]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor out = ag::matmul(ag::ones({3, 0}, dt), ag::ones({0, 2}, dt));
    check_equal(out, fixture::Array{{3, 2}, {0, 0, 0, 0, 0, 0}}, dt);
}

TEST_CASE("blas_layout: a leading dim beyond BLAS's 32-bit int is not passed to BLAS (the caller copies)",
          "[matmul][kernels]") {
    const int64_t big = int64_t{1} << 31;
    CHECK_FALSE(ag::kernels::blas_layout(2, 1, big, 1).ok);   // rows 2^31 apart
    CHECK_FALSE(ag::kernels::blas_layout(1, 2, 1, big).ok);   // columns 2^31 apart
    const ag::kernels::BlasLayout fits = ag::kernels::blas_layout(2, 3, big - 1, 1);
    CHECK((fits.ok && !fits.trans && fits.ld == big - 1));
    const ag::kernels::BlasLayout transposed = ag::kernels::blas_layout(3, 2, 1, 3);
    CHECK((transposed.ok && transposed.trans && transposed.ld == 3));
    CHECK_FALSE(ag::kernels::blas_layout(3, 3, 2, 2).ok);    // neither dim contiguous
}

// ---- gradients -------------------------------------------------------------------------------------------------

TEST_CASE("matmul: (T,T) @ (B,T,C) sums the gradient of the (T,T) operand over the batch like PyTorch", "[matmul]") {
    Tensor wei = leaf(fxg::bm_wei), x = leaf(fxg::bm_x);
    Tensor loss = (ag::matmul(wei, x) * make(fxg::bm_w)).sum();
    check_close(loss, fxg::broadcast_matmul_loss);
    loss.backward();
    check_close(wei.grad(), fxg::broadcast_matmul_dbm_wei);
    check_close(x.grad(), fxg::broadcast_matmul_dbm_x);
}

TEST_CASE("matmul: gradients of vectors and matrices match finite differences", "[matmul][gradcheck]") {
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

TEST_CASE("matmul: gradients of batched (B,T,C) @ (B,C,N) match finite differences", "[matmul][gradcheck]") {
    ag::manual_seed(14);
    check_binary([](const Tensor& a, const Tensor& b) { return a.matmul(b); }, input({2, 3, 4}), input({2, 4, 2}));
}

TEST_CASE("matmul: gradients of (T,T) @ (B,T,C) broadcast match finite differences", "[matmul][gradcheck]") {
    ag::manual_seed(15);
    check_binary([](const Tensor& a, const Tensor& b) { return ag::matmul(a, b); }, input({3, 3}), input({2, 3, 4}));
}

TEST_CASE("matmul: gradients of (B,T,C) @ (C,N) broadcast match finite differences", "[matmul][gradcheck]") {
    ag::manual_seed(16);
    auto mm = [](const Tensor& a, const Tensor& b) { return ag::matmul(a, b); };
    check_binary(mm, input({2, 3, 4}), input({4, 2}));
    // a non-contiguous left operand takes the batched path instead of one folded gemm
    check_binary([](const Tensor& a, const Tensor& b) { return ag::matmul(a.transpose(1, 2), b); }, input({2, 4, 3}),
           input({4, 2}));
}

TEST_CASE("matmul: gradients of 4-D broadcast (B,1,T,C) @ (H,C,N) and (B,1,T,C) @ (1,H,C,N) match finite differences",
          "[matmul][gradcheck]") {
    ag::manual_seed(17);
    auto mm = [](const Tensor& a, const Tensor& b) { return ag::matmul(a, b); };
    check_binary(mm, input({2, 1, 3, 4}), input({2, 4, 2}));
    check_binary(mm, input({2, 1, 3, 4}), input({1, 2, 4, 2}));  // each operand broadcast along a different batch dim
}

TEST_CASE("matmul: gradients of transposed and strided views match finite differences", "[matmul][gradcheck]") {
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

// ---- errors ----------------------------------------------------------------------------------------------------

TEST_CASE("matmul: names both shapes when the inner dims differ", "[matmul][errors]") {
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

TEST_CASE("matmul: refuses 0-d arguments", "[matmul][errors]") {
    REQUIRE_THROWS_AS(ag::matmul(ag::ones({}), ag::ones({3})), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::matmul(ag::ones({}), ag::ones({3})),
                        "matmul: both arguments need at least 1 dim; got [] @ [3]");
    REQUIRE_THROWS_WITH(ag::matmul(ag::ones({3, 2}), ag::ones({})), Contains("got [3, 2] @ []"));
}

TEST_CASE("matmul: mixing dtypes is refused, not promoted", "[matmul][errors]") {
    Tensor f32 = ag::ones({2, 2}), f64 = ag::ones({2, 2}, DType::Float64);
    REQUIRE_THROWS_AS(ag::matmul(f32, f64), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::matmul(f32, f64),
                        "matmul: both tensors must have the same dtype; got torch.float32 and torch.float64");
}
