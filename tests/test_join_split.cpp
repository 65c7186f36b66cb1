// stack, split, chunk and t(): values against PyTorch's (tests/fixtures/selection_fixtures.inc), gradients by
// gradcheck in float64, and each error.
#include "tests/gradcheck_helpers.h"
#include "tests/op_fixture.h"

namespace fixture {
#include "tests/fixtures/selection_fixtures.inc"
}  // namespace fixture

namespace {

void check_pieces(const std::vector<Tensor>& pieces, const fixture::Array* expected, size_t n, DType dtype) {
    REQUIRE(pieces.size() == n);
    for (size_t i = 0; i < n; ++i) check_equal(pieces[i].contiguous(), expected[i], dtype);
}

}  // namespace

TEST_CASE("stack: matches PyTorch for every dim, negative ones included", "[join_split]") {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const std::vector<Tensor> abc = {make(fx::js_a23, dtype), make(fx::js_b23, dtype), make(fx::js_c23, dtype)};
        const int64_t dims[] = {0, 1, 2, -1, -3};
        for (int i = 0; i < 5; ++i) check_equal(ag::stack(abc, dims[i]), fx::js_stack[i], dtype);
    }
}

TEST_CASE("split and chunk: match PyTorch's piece sizes and values", "[join_split]") {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const Tensor x = make(fx::js_x53, dtype);
        check_pieces(ag::split(x, 2, 0), fx::js_split_rows, 3, dtype);
        check_pieces(ag::split(x, 2, -1), fx::js_split_cols, 2, dtype);
        check_pieces(ag::chunk(x, 4, 0), fx::js_chunk_rows, 3, dtype);  // 4 asked, 3 given (ceil(5 / 4) = 2 rows)
        check_pieces(ag::chunk(x, 3, 1), fx::js_chunk_cols, 3, dtype);
        check_pieces(ag::split(x, 7, 0), &fx::js_x53, 1, dtype);         // a split larger than the dim: one piece
    }
    // An empty dim gives one empty piece, as in PyTorch.
    const Tensor e = ag::zeros({0, 3});
    REQUIRE(ag::split(e, 2, 0).size() == 1);
    REQUIRE(ag::split(e, 0, 0).size() == 1);
    REQUIRE(ag::chunk(e, 2, 0).front().shape() == Shape{0, 3});
}

TEST_CASE("t: transposes 2-D tensors and returns 0-D and 1-D ones as they are", "[join_split]") {
    const Tensor x = make(fx::js_x53, DType::Float64);
    check_equal(ag::t(x).contiguous(), fx::js_t, DType::Float64);
    check_equal(x.t().contiguous(), fx::js_t, DType::Float64);
    REQUIRE(ag::t(x).impl().storage == x.impl().storage);  // a view
    REQUIRE(ag::t(ag::ones({3})).shape() == Shape{3});
    REQUIRE(ag::t(ag::full({}, 2.0)).shape() == Shape{});
}

TEST_CASE("stack, split, chunk, t: gradients match finite differences", "[join_split]") {
    check([](const std::vector<Tensor>& in) { return ag::stack(in, 1); }, {input({2, 3}), input({2, 3})});
    check([](const std::vector<Tensor>& in) { return ag::stack(in, -1); }, {input({2, 3}), input({2, 3})});
    Tensor a = input({2, 3});  // the same tensor twice: its gradients add up
    check([](const std::vector<Tensor>& in) { return ag::stack({in[0], in[0] * 2.0}, 0); }, {a});
    for (int64_t piece = 0; piece < 3; ++piece) {
        check_unary([piece](const Tensor& x) { return ag::split(x, 2, 0)[piece] * (piece + 1.0); }, input({5, 3}));
        check_unary([piece](const Tensor& x) { return ag::chunk(x, 3, -1)[piece]; }, input({2, 7}));
    }
    check_unary([](const Tensor& x) { return ag::t(x); }, input({3, 4}));
    check_unary([](const Tensor& x) { return ag::t(x.transpose(0, 1)); }, input({3, 4}));  // strided input
}

TEST_CASE("stack, split, chunk, t: refuse bad input", "[join_split]") {
    using Catch::Matchers::Contains;
    const Tensor x = ag::zeros({2, 3});
    REQUIRE_THROWS_WITH(ag::stack({}, 0), "stack: needs at least one tensor; got none");
    REQUIRE_THROWS_WITH(ag::stack({x, ag::zeros({3, 2})}, 0),
                        "stack: tensors must all have the same shape; got [2, 3] and [3, 2]");
    REQUIRE_THROWS_WITH(ag::stack({x, ag::zeros({2, 3}, DType::Float64)}, 0), Contains("same dtype"));
    REQUIRE_THROWS_WITH(ag::stack({x, x}, 3), Contains("stack:"));
    REQUIRE_THROWS_WITH(ag::stack({x, x}, -4), Contains("stack:"));
    REQUIRE_THROWS_AS(ag::stack({x, x}, 3), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::split(x, 0, 0),
                        "split: split_size must be positive (or 0 for an empty dim); got 0 for size 2");
    REQUIRE_THROWS_WITH(ag::split(x, -1, 1), Contains("split: split_size must be positive"));
    REQUIRE_THROWS_WITH(ag::split(x, 1, 2), Contains("split:"));
    REQUIRE_THROWS_WITH(ag::split(ag::full({}, 1.0), 1, 0), "split: a 0-d tensor cannot be split; got shape []");
    REQUIRE_THROWS_WITH(ag::chunk(x, 0, 0), "chunk: chunks must be positive; got 0");
    REQUIRE_THROWS_WITH(ag::chunk(x, 2, -3), Contains("chunk:"));
    REQUIRE_THROWS_WITH(ag::chunk(ag::full({}, 1.0), 1, 0), "chunk: a 0-d tensor cannot be chunked; got shape []");
    REQUIRE_THROWS_WITH(ag::t(ag::zeros({2, 2, 2})), "t: expects a tensor with <= 2 dims; got shape [2, 2, 2]");
}
