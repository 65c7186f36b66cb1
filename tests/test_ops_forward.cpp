// Forward values of every op in engine/ops.h against PyTorch 1.13, in float32 and in float64.
// The inputs and PyTorch's results live in tests/fixtures/op_fixtures.inc, written by
// tests/fixtures/make_op_fixtures.py; each test rebuilds the expression the script names next to the fixture.
#include <catch2/catch.hpp>

#include <vector>

#include "engine/ops.h"
#include "tests/op_fixture.h"

namespace fixture {
#include "tests/fixtures/op_fixtures.inc"
}  // namespace fixture

using ag::DType;
using ag::Slice;
using ag::Tensor;
using fixture::check_close;
using fixture::check_equal;
using fixture::make;
namespace fx = fixture::fx;

// ---- element-wise ----------------------------------------------------------------------------------------------

TEST_CASE("add, sub, mul, div: (3,1) with (1,4) broadcast to (3,4) like PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor a = make(fx::a31, dt), b = make(fx::b14, dt), p = make(fx::p14, dt);
    check_close(a + b, fx::add_a31_b14, dt);
    check_close(a - b, fx::sub_a31_b14, dt);
    check_close(a * b, fx::mul_a31_b14, dt);
    check_close(a / p, fx::div_a31_p14, dt);
    check_close(ag::add(a, b), fx::add_a31_b14, dt);
    check_close(ag::sub(a, b), fx::sub_a31_b14, dt);
    check_close(ag::mul(a, b), fx::mul_a31_b14, dt);
    check_close(ag::div(a, p), fx::div_a31_p14, dt);
}

TEST_CASE("element-wise ops: (4), (3,1) and (5,5) broadcast against batched operands like PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::x234, dt), v = make(fx::v4, dt);
    check_close(x * v, fx::mul_x234_v4, dt);
    check_close(x + make(fx::a31, dt), fx::add_x234_a31, dt);
    check_close(v - x, fx::sub_v4_x234, dt);
    check_close(x / make(fx::p34, dt), fx::div_x234_p34, dt);
    check_close(make(fx::x255, dt) + make(fx::m55, dt), fx::add_x255_m55, dt);
}

TEST_CASE("neg and the operators with a number match PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor a = make(fx::a34, dt), p = make(fx::p34, dt);
    check_close(-a, fx::neg_a34, dt);
    check_close(ag::neg(a), fx::neg_a34, dt);
    check_close(a * 2, fx::a34_times_2, dt);
    check_close(2 * a, fx::a34_times_2, dt);
    check_close(a + 1.5, fx::a34_plus_1_5, dt);
    check_close(1.5 + a, fx::a34_plus_1_5, dt);
    check_close(1 - a, fx::one_minus_a34, dt);
    check_close(a - 0.25, fx::a34_minus_0_25, dt);
    check_close(2 / p, fx::two_over_p34, dt);
    check_close(a / 3, fx::a34_over_3, dt);
}

TEST_CASE("pow, exp, log, sqrt, tanh, relu match PyTorch on ordinary values") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor a = make(fx::a34, dt), p = make(fx::p34, dt);
    check_close(ag::pow(a, 2), fx::pow_a34_2, dt);
    check_close(a.pow(3), fx::pow_a34_3, dt);
    check_close(p.pow(0.5), fx::pow_p34_0_5, dt);
    check_close(p.pow(-1.5), fx::pow_p34_neg_1_5, dt);
    check_close(ag::exp(a), fx::exp_a34, dt);
    check_close(ag::log(p), fx::log_p34, dt);
    check_close(ag::sqrt(p), fx::sqrt_p34, dt);
    check_close(ag::tanh(a), fx::tanh_a34, dt);
    check_close(ag::relu(a), fx::relu_a34, dt);
}

TEST_CASE("pow, exp, log, sqrt, tanh, relu give PyTorch's infinities and NaNs on inf, NaN, 0 and large values") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor s = make(fx::special, dt);  // -inf, -100, -20, -2.5, -1, -0, 0, 0.5, 1, 20, 100, inf, NaN
    check_close(s.pow(2), fx::pow_special_2, dt);
    check_close(s.pow(3), fx::pow_special_3, dt);
    check_close(s.pow(1.5), fx::pow_special_1_5, dt);
    check_close(s.pow(-1), fx::pow_special_neg_1, dt);
    check_close(s.exp(), fx::exp_special, dt);  // exp(100) overflows float32 only
    check_close(s.log(), fx::log_special, dt);
    check_close(s.sqrt(), fx::sqrt_special, dt);
    check_close(s.tanh(), fx::tanh_special, dt);
    check_close(s.relu(), fx::relu_special, dt);
}

// ---- reductions ----------------------------------------------------------------------------------------------------

TEST_CASE("sum, mean, max over each dim, with and without keepdim, match PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::x234, dt);
    for (int64_t dim = 0; dim < 3; ++dim)
        for (bool keepdim : {false, true}) {
            CAPTURE(dim, keepdim);
            const size_t k = 2 * dim + keepdim;
            check_close(ag::sum(x, dim, keepdim), fx::sum_x234[k], dt);
            check_close(ag::mean(x, dim, keepdim), fx::mean_x234[k], dt);
            check_close(ag::max(x, dim, keepdim), fx::max_x234[k], dt);
            check_close(x.sum(dim - 3, keepdim), fx::sum_x234[k], dt);  // a negative dim counts from the end
            check_close(x.mean(dim - 3, keepdim), fx::mean_x234[k], dt);
            check_close(x.max(dim - 3, keepdim), fx::max_x234[k], dt);
        }
}

TEST_CASE("sum, mean, max over all elements and over dims of a transposed view match PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::x234, dt);
    check_close(ag::sum(x), fx::sum_x234_all, dt);
    check_close(ag::mean(x), fx::mean_x234_all, dt);
    check_close(ag::max(x), fx::max_x234_all, dt);
    check_close(x.transpose(0, 2).sum(1), fx::sum_x234_t02_dim1, dt);
    check_close(x.transpose(0, 2).max(0), fx::max_x234_t02_dim0, dt);
}

TEST_CASE("argmax over each dim gives PyTorch's int64 positions, the first one on ties") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::x234, dt);
    for (int64_t dim = 0; dim < 3; ++dim)
        for (bool keepdim : {false, true}) {
            CAPTURE(dim, keepdim);
            check_equal(ag::argmax(x, dim, keepdim), fx::argmax_x234[2 * dim + keepdim], DType::Int64);
        }
    Tensor ties = make(fx::ties, dt);
    check_equal(ties.argmax(0), fx::argmax_ties_dim0, DType::Int64);
    check_equal(ties.argmax(1), fx::argmax_ties_dim1, DType::Int64);
}

TEST_CASE("max and argmax: a NaN is the maximum, as in PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::with_nan, dt);  // [[1, nan, 3], [2, 5, nan], [nan, 0, 1]]
    check_close(x.max(1), fx::max_with_nan_dim1, dt);
    check_equal(x.argmax(1), fx::argmax_with_nan_dim1, DType::Int64);
    check_close(x.max(), fx::max_with_nan_all, dt);
}

// ---- matmul --------------------------------------------------------------------------------------------------------

TEST_CASE("matmul: 1-D operands (dot product, vector @ matrix, matrix @ vector) match PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    check_close(ag::matmul(make(fx::u5, dt), make(fx::w5, dt)), fx::dot_u5_w5, dt);  // 0-d
    check_close(ag::matmul(make(fx::v4, dt), make(fx::m45, dt)), fx::v4_at_m45, dt);
    check_close(ag::matmul(make(fx::a34, dt), make(fx::v4, dt)), fx::a34_at_v4, dt);
    check_close(ag::matmul(make(fx::v4, dt), make(fx::b243, dt)), fx::v4_at_b243, dt);
    check_close(ag::matmul(make(fx::x234, dt), make(fx::v4, dt)), fx::x234_at_v4, dt);
}

TEST_CASE("matmul: 2-D @ 2-D and batched 3-D @ 3-D match PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    check_close(ag::matmul(make(fx::a34, dt), make(fx::m45, dt)), fx::a34_at_m45, dt);
    check_close(make(fx::x234, dt).matmul(make(fx::b245, dt)), fx::x234_at_b245, dt);
}

TEST_CASE("matmul: (T,T) @ (B,T,C) broadcasts like PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    check_close(ag::matmul(make(fx::t44, dt), make(fx::b243, dt)), fx::t44_at_b243, dt);
}

TEST_CASE("matmul: (B,T,C) @ (C,N) matches PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    check_close(ag::matmul(make(fx::x234, dt), make(fx::m45, dt)), fx::x234_at_m45, dt);
}

TEST_CASE("matmul: 4-D operands broadcast (2,1) with (1,3) batch dims like PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    check_close(ag::matmul(make(fx::q2134, dt), make(fx::k1342, dt)), fx::q2134_at_k1342, dt);
}

TEST_CASE("matmul: transposed views as inputs match PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor m43 = make(fx::m43, dt), m45 = make(fx::m45, dt), a34 = make(fx::a34, dt);
    check_close(ag::matmul(m43.transpose(-2, -1), m45), fx::m43T_at_m45, dt);
    check_close(ag::matmul(make(fx::x234, dt), make(fx::y234, dt).transpose(-2, -1)), fx::x234_at_y234T, dt);
    check_close(ag::matmul(m45.transpose(0, 1), a34.transpose(0, 1)), fx::m45T_at_a34T, dt);
    check_close(ag::matmul(make(fx::x234, dt).permute({2, 0, 1}), make(fx::v3, dt)), fx::x234_perm_at_v3, dt);
    check_close(ag::matmul(make(fx::y234, dt).permute({0, 2, 1}), m43.transpose(0, 1)), fx::y234_perm_at_m43T, dt);
}

TEST_CASE("matmul: non-contiguous slices as inputs match PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor m38 = make(fx::m38, dt), m45 = make(fx::m45, dt);
    check_close(ag::matmul(m38.slice(1, 0, 8, 2), m45), fx::m38_step2_at_m45, dt);  // columns 2 apart
    check_close(ag::matmul(m38.slice(1, 2, 6), m45), fx::m38_cols_2_6_at_m45, dt);  // rows 8 apart
    Tensor b445 = make(fx::b445, dt);
    check_close(ag::matmul(b445.index({Slice{0, 4, 2}, Slice{}, Slice{1}}), m45), fx::b445_step2_at_m45, dt);
}

TEST_CASE("matmul: size-1 dims (row @ column, column @ row, their transposes) match PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor r = make(fx::r14, dt), c = make(fx::c41, dt);
    check_close(ag::matmul(r, c), fx::r14_at_c41, dt);
    check_close(ag::matmul(c, r), fx::c41_at_r14, dt);
    check_close(ag::matmul(c.transpose(0, 1), r.transpose(0, 1)), fx::c41T_at_r14T, dt);
}

TEST_CASE("matmul: an inner dim of size 0 gives zeros, as in PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor out = ag::matmul(ag::ones({3, 0}, dt), ag::ones({0, 2}, dt));
    check_equal(out, fixture::Array{{3, 2}, {0, 0, 0, 0, 0, 0}}, dt);
}

// ---- softmax and cross_entropy ---------------------------------------------------------------------------------------

TEST_CASE("softmax and log_softmax along each dim match PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::x234, dt);
    for (int64_t dim = 0; dim < 3; ++dim) {
        CAPTURE(dim);
        check_close(ag::softmax(x, dim), fx::softmax_x234[dim], dt);
        check_close(ag::log_softmax(x, dim), fx::log_softmax_x234[dim], dt);
        check_close(x.softmax(dim - 3), fx::softmax_x234[dim], dt);
        check_close(x.log_softmax(dim - 3), fx::log_softmax_x234[dim], dt);
    }
}

TEST_CASE("softmax: an all -inf row gives NaN, partly -inf rows and logits of 1000 stay finite, as in PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    // rows: [-inf x4], [1, -inf, 2, -inf], [1000, 999, -1000, 0], [0.5, -0.25, 0.125, 2]
    Tensor rows = make(fx::rows, dt);
    check_close(rows.softmax(-1), fx::softmax_rows, dt);
    check_close(rows.log_softmax(-1), fx::log_softmax_rows, dt);
    check_close(rows.transpose(0, 1).softmax(0), fx::softmax_rowsT_dim0, dt);  // strided slices
    check_close(rows.transpose(0, 1).log_softmax(0), fx::log_softmax_rowsT_dim0, dt);
}

TEST_CASE("softmax of masked_fill(-inf): matches PyTorch along the last and a middle dim", "[softmax]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor att = make(fx::att, dt);
    check_close(att.masked_fill(make(fx::mask214, DType::Bool), -fixture::kInf).softmax(-1),
                fx::masked_softmax_att_mask214, dt);
    check_close(att.masked_fill(make(fx::mask41, DType::Bool), -fixture::kInf).softmax(1),
                fx::masked_softmax_att_mask41_dim1, dt);
}

TEST_CASE("cross_entropy: the mean loss matches PyTorch, also for logits scaled by 1000") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::ce_x, dt), t = make(fx::ce_t, DType::Int64);
    check_close(ag::cross_entropy(x, t), fx::cross_entropy_ce, dt);
    check_close(ag::cross_entropy(x * 1000, t), fx::cross_entropy_ce_x1000, dt);
}

// ---- masks and creation ----------------------------------------------------------------------------------------------

TEST_CASE("masked_fill: masks of shape (4,4), (4,1), (1,4) and (2,1,4) broadcast to (2,4,4) like PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor att = make(fx::att, dt);
    check_equal(att.masked_fill(make(fx::causal, DType::Bool), -fixture::kInf), fx::att_fill_causal_neg_inf, dt);
    check_equal(ag::masked_fill(att, make(fx::mask41, DType::Bool), 0.0), fx::att_fill_mask41, dt);
    check_equal(ag::masked_fill(att, make(fx::mask14, DType::Bool), 2.5), fx::att_fill_mask14, dt);
    check_equal(ag::masked_fill(att, make(fx::mask214, DType::Bool), -1.0), fx::att_fill_mask214, dt);
}

TEST_CASE("masked_fill: the notebooks' tril(ones) == 0 mask is PyTorch's causal mask") {
    check_equal(ag::tril(ag::ones({4, 4})) == 0.0, fx::causal, DType::Bool);
}

TEST_CASE("tril and triu: diagonals -1, 0 and 2 match PyTorch on (3,5) and batched (2,3,4)") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x35 = make(fx::x35, dt), x234 = make(fx::x234, dt);
    const int64_t diagonals[] = {-1, 0, 2};
    for (size_t k = 0; k < 3; ++k) {
        CAPTURE(diagonals[k]);
        check_equal(ag::tril(x35, diagonals[k]), fx::tril_x35[k], dt);
        check_equal(ag::triu(x35, diagonals[k]), fx::triu_x35[k], dt);
        check_equal(ag::tril(x234, diagonals[k]), fx::tril_x234[k], dt);
        check_equal(ag::triu(x234, diagonals[k]), fx::triu_x234[k], dt);
    }
}

TEST_CASE("arange: the count and values match PyTorch, also for fractional and negative steps") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    check_close(ag::arange(5, dt), fx::arange_5, dt);
    check_close(ag::arange(1, 2.5, 0.5, dt), fx::arange_1_2_5_by_0_5, dt);
    check_close(ag::arange(0, 1, 0.1, dt), fx::arange_0_1_by_0_1, dt);  // 10 values, not 11
    check_close(ag::arange(10, 0, -3, dt), fx::arange_10_0_by_neg_3, dt);
    check_close(ag::arange(-1.5, 1.5, 0.7, dt), fx::arange_neg_1_5_1_5_by_0_7, dt);
    check_equal(ag::arange(0, 10, 3, DType::Int64), fx::arange_int64_0_10_by_3, DType::Int64);
}

// ---- gathering and joining -------------------------------------------------------------------------------------------

TEST_CASE("index_select along dims 0 and 1, with repeated indices and a transposed input, matches PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::x234, dt), idx0 = make(fx::idx0, DType::Int64), idx1 = make(fx::idx1, DType::Int64);
    check_equal(ag::index_select(x, 0, idx0), fx::index_select_x234_dim0, dt);
    check_equal(ag::index_select(x, 1, idx1), fx::index_select_x234_dim1, dt);
    check_equal(ag::index_select(x.transpose(1, 2), 1, idx1), fx::index_select_x234T_dim1, dt);
}

TEST_CASE("embedding: (2,3) ids look up rows of a (5,3) table like PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    check_equal(ag::embedding(make(fx::emb, dt), make(fx::ids, DType::Int64)), fx::embedding_emb_ids, dt);
}

TEST_CASE("cat along each dim, and of three tensors of different sizes, matches PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::x234, dt), y = make(fx::y234, dt);
    for (int64_t dim = 0; dim < 3; ++dim) {
        CAPTURE(dim);
        check_equal(ag::cat({x, y}, dim), fx::cat_x234_y234[dim], dt);
        check_equal(ag::cat({x, y}, dim - 3), fx::cat_x234_y234[dim], dt);
    }
    check_equal(ag::cat({make(fx::x214, dt), x, y}, 1), fx::cat_x214_x234_y234_dim1, dt);
}

// ---- views -------------------------------------------------------------------------------------------------------------

TEST_CASE("transpose, permute, reshape, view and expand give PyTorch's values") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::x234, dt);
    check_equal(x.transpose(0, 2), fx::x234_transpose_0_2, dt);
    check_equal(ag::permute(x, {2, 0, 1}), fx::x234_permute_2_0_1, dt);
    check_equal(x.transpose(0, 2).reshape({4, 6}), fx::x234_transpose_0_2_reshape_4_6, dt);  // a copy
    check_equal(ag::view(x, {6, 4}), fx::x234_view_6_4, dt);
    check_equal(x.view({-1}), fx::x234_view_neg1, dt);
    check_equal(make(fx::a31, dt).expand({2, 3, 4}), fx::a31_expand_2_3_4, dt);
}

TEST_CASE("slices with steps and negative bounds, select, squeeze and unsqueeze give PyTorch's values") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::x234, dt);
    check_equal(x.index({Slice{}, Slice{0, INT64_MAX, 2}, Slice{1, INT64_MAX, 2}}), fx::x234_steps, dt);
    check_equal(x.slice(2, -2, INT64_MAX), fx::x234_last_two, dt);
    check_equal(x.select(1, -1), fx::x234_select_1_neg1, dt);
    check_equal(x.index({1, Slice{0, 3, 2}}), fx::x234_1_0to3by2, dt);
    check_equal(x[1].slice(0, 0, 3, 2), fx::x234_1_0to3by2, dt);
    check_equal(make(fx::x214, dt).squeeze(1).unsqueeze(-1), fx::x214_squeeze_1_unsqueeze_neg1, dt);
}

// ---- comparisons ---------------------------------------------------------------------------------------------------------

TEST_CASE("comparisons: eq, ne, lt, le, gt, ge broadcast and treat NaN and infinities like PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor ci = make(fx::ci, dt), cj = make(fx::cj, dt);  // (3,4) and (1,4), integer-valued so that some are equal
    Tensor cn = make(fx::cn, dt), cm = make(fx::cm, dt);  // [nan, 1, inf, -inf, nan] and [nan, 1, inf, inf, 0]
    check_equal(ag::eq(ci, cj), fx::eq_ci_cj, DType::Bool);
    check_equal(ag::ne(ci, cj), fx::ne_ci_cj, DType::Bool);
    check_equal(ag::lt(ci, cj), fx::lt_ci_cj, DType::Bool);
    check_equal(ag::le(ci, cj), fx::le_ci_cj, DType::Bool);
    check_equal(ag::gt(ci, cj), fx::gt_ci_cj, DType::Bool);
    check_equal(ag::ge(ci, cj), fx::ge_ci_cj, DType::Bool);
    check_equal(cn == cm, fx::eq_cn_cm, DType::Bool);
    check_equal(cn != cm, fx::ne_cn_cm, DType::Bool);
    check_equal(cn < cm, fx::lt_cn_cm, DType::Bool);
    check_equal(ag::le(cn, cm), fx::le_cn_cm, DType::Bool);
    check_equal(cn > cm, fx::gt_cn_cm, DType::Bool);
    check_equal(ag::ge(cn, cm), fx::ge_cn_cm, DType::Bool);
}

TEST_CASE("comparisons with a number match PyTorch") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor ci = make(fx::ci, dt);
    check_equal(ci == 1.0, fx::eq_ci_1, DType::Bool);
    check_equal(ci != 1.0, fx::ne_ci_1, DType::Bool);
    check_equal(ci < 1.0, fx::lt_ci_1, DType::Bool);
    check_equal(ci <= 1.0, fx::le_ci_1, DType::Bool);
    check_equal(ci > 1.0, fx::gt_ci_1, DType::Bool);
    check_equal(ci >= 1.0, fx::ge_ci_1, DType::Bool);
}

TEST_CASE("allclose: agrees with torch.allclose on NaN, infinities, the asymmetric rtol and broadcasting") {
    for (const fixture::AllcloseCase& c : fx::allclose_cases) {
        Tensor a = make(c.a, DType::Float64), b = make(c.b, DType::Float64);
        INFO("allclose(" << a << ", " << b << ", rtol=" << c.rtol << ", atol=" << c.atol << ")");
        CHECK(ag::allclose(a, b, c.rtol, c.atol) == c.expected);
    }
}
