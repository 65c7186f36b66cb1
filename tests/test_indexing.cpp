// Gathering rows (engine/ops.h, "shape and indexing"): index_select and embedding. Forward values against PyTorch
// 1.13 in float32 and float64 (tests/fixtures/op_fixtures.inc, written by tests/fixtures/make_op_fixtures.py),
// gradcheck in float64 with repeated indices, and each error message. Slicing and select: test_views.cpp.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

#include "tests/gradcheck_helpers.h"
#include "tests/op_fixture.h"

using ag::DType;
using ag::Tensor;
using Catch::Contains;

// ---- index_select ----------------------------------------------------------------------------------------------

TEST_CASE("index_select along dims 0 and 1, with repeated indices and a transposed input, matches PyTorch",
          "[indexing]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::x234, dt), idx0 = make(fx::idx0, DType::Int64), idx1 = make(fx::idx1, DType::Int64);
    check_equal(ag::index_select(x, 0, idx0), fx::index_select_x234_dim0, dt);
    check_equal(ag::index_select(x, 1, idx1), fx::index_select_x234_dim1, dt);
    check_equal(ag::index_select(x.transpose(1, 2), 1, idx1), fx::index_select_x234T_dim1, dt);
}

TEST_CASE("index_select: repeated indices add their gradients (finite differences)", "[indexing][gradcheck]") {
    ag::manual_seed(24);
    Tensor x = input({4, 3});
    Tensor index = ids({2, 0, 2, 2}, {4});
    check_unary([index](const Tensor& t) { return ag::index_select(t, 0, index); }, x);
    check_unary([index](const Tensor& t) { return ag::index_select(t, 1, index.slice(0, 0, 3)); }, x);
    check_unary([index](const Tensor& t) { return ag::index_select(t, -1, index); }, input({2, 3, 3}));
    check_unary([index](const Tensor& t) { return ag::index_select(t.transpose(0, 1), 0, index.slice(0, 0, 3)); }, x);
}

TEST_CASE("index_select: an index out of range, a dim out of range or an index that is not int64 is refused",
          "[indexing][errors]") {
    Tensor x = ag::ones({3, 4});
    REQUIRE_THROWS_AS(ag::index_select(x, 1, ids({0, 4})), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::index_select(x, 1, ids({0, 4})),
                        "index_select: index 4 at position 1 is out of range for dim 1 of size 4");
    REQUIRE_THROWS_WITH(ag::index_select(x, 0, ids({-1})), Contains("index -1 at position 0 is out of range"));
    REQUIRE_THROWS_WITH(ag::index_select(ag::ones({2, 3}), 2, ids({0})), Contains("index_select: dim out of range"));
    REQUIRE_THROWS_WITH(ag::index_select(ag::ones({2, 3}), 0, ag::zeros({2})),
                        "index_select: the index must be a 1-D int64 tensor; got torch.float32 of shape [2]");
}

// ---- embedding -------------------------------------------------------------------------------------------------

TEST_CASE("embedding: (2,3) ids look up rows of a (5,3) table like PyTorch", "[indexing]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    check_equal(ag::embedding(make(fx::emb, dt), make(fx::ids, DType::Int64)), fx::embedding_emb_ids, dt);
}

TEST_CASE("embedding: repeated ids add their gradients (finite differences)", "[indexing][gradcheck]") {
    ag::manual_seed(25);
    Tensor table = input({5, 3});
    check_unary([](const Tensor& w) { return ag::embedding(w, ids({1, 4, 1, 0, 4, 4}, {2, 3})); }, table);
    check_unary([](const Tensor& w) { return ag::embedding(w, ids({3}, {})); }, table);
}

TEST_CASE("embedding: names the id and the table size", "[indexing][errors]") {
    Tensor table = ag::ones({5, 3});
    REQUIRE_THROWS_AS(ag::embedding(table, ids({1, 5})), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::embedding(table, ids({1, 5})),
                        "embedding: id 5 at position 1 is out of range for a table of 5 rows");
    REQUIRE_THROWS_WITH(ag::embedding(table, ids({-2})), Contains("embedding: id -2 at position 0"));
    REQUIRE_THROWS_WITH(ag::embedding(table, ag::ones({2})), "embedding: ids must be int64; got torch.float32");
    REQUIRE_THROWS_WITH(ag::embedding(ag::ones({5}), ids({1})), "embedding: the weight must be (V, C); got shape [5]");
}
