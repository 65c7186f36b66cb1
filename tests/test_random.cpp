// Tests for engine/random. Every float32 expectation comes from PyTorch 1.13 on CPU and is compared
// bit for bit (9 significant digits round-trip a float exactly). The values were produced by
// tests/fixtures/make_random_fixtures.py; "#n" refers to the test vectors in pytorch-rng.md §10.
#include <catch2/catch.hpp>

#include "engine/random.h"
#include "layers/linear.h"

#include <bit>
#include <cstdint>
#include <iterator>
#include <memory>
#include <random>
#include <utility>
#include <stdexcept>
#include <vector>

namespace {

uint32_t bits(float x) { return std::bit_cast<uint32_t>(x); }

// torch-like helpers: each is one call on the generator, as the tensor functions will make it.
std::vector<float> randn(ag::Generator& g, int64_t n, double mean = 0.0, double std_dev = 1.0) {
    std::vector<float> out(static_cast<size_t>(n));
    g.fill_normal(out.data(), n, mean, std_dev);
    return out;
}

std::vector<float> uniform(ag::Generator& g, int64_t n, double low, double high) {
    std::vector<float> out(static_cast<size_t>(n));
    g.fill_uniform(out.data(), n, low, high);
    return out;
}

std::vector<int64_t> randint(ag::Generator& g, int64_t n, int64_t low, int64_t high) {
    std::vector<int64_t> out(static_cast<size_t>(n));
    g.fill_randint(out.data(), n, low, high);
    return out;
}

// nn.Linear(in, out)'s weight [out, in] initialisation (its bias uses Linear::bias_bound instead).
std::vector<float> linear_weight(ag::Generator& g, int64_t in, int64_t out) {
    const double b = ag::Linear::weight_bound(in);
    return uniform(g, in * out, -b, b);
}

// Bit-exact comparison of actual[first + i] with expected[i].
void check_bits(const std::vector<float>& actual, size_t first, const std::vector<float>& expected) {
    for (size_t i = 0; i < expected.size(); ++i) {
        INFO("element " << first + i << ": got " << actual[first + i] << ", expected " << expected[i]);
        CHECK(bits(actual[first + i]) == bits(expected[i]));
    }
}

// The k-th raw MT19937 output (0-based) for a seed, from the standard library's twister. Comparing
// the generator's next draw with it checks how many draws an operation consumed.
uint32_t raw_draw(uint32_t seed, int k) {
    std::mt19937 mt(seed);
    mt.discard(static_cast<unsigned long long>(k));
    return static_cast<uint32_t>(mt());
}

}  // namespace

// ---- The generator ----------------------------------------------------------------------------------------

TEST_CASE("random: mt19937 seeded with 1337 and 0 gives the reference raw outputs", "[random]") {
    ag::Generator g(1337);  // #1
    for (uint32_t expected : {1125387415u, 2407456957u, 681542492u, 913057000u}) CHECK(g.random32() == expected);
    g.manual_seed(0);  // #2
    for (uint32_t expected : {2357136044u, 2546248239u, 3071714933u, 3626093760u}) CHECK(g.random32() == expected);
    g.manual_seed(1337);  // random64: the first draw is the high word
    CHECK(g.random64() == ((uint64_t{1125387415u} << 32) | 2407456957u));
}

TEST_CASE("random: the twister agrees with std::mt19937 across several twists", "[random]") {
    for (uint32_t seed : {0u, 5489u, 1337u, 0xFFFFFFFFu}) {
        ag::Generator g(seed);
        std::mt19937 reference(seed);
        int mismatches = 0;
        for (int i = 0; i < 5000; ++i) mismatches += g.random32() != reference();
        INFO("seed " << seed);
        CHECK(mismatches == 0);
    }
}

TEST_CASE("random: only the low 32 bits of the seed are used, and the default seed is PyTorch's", "[random]") {
    ag::Generator a(5), b((uint64_t{1} << 32) + 5);
    for (int i = 0; i < 10; ++i) CHECK(a.random32() == b.random32());
    ag::Generator minus_one(~uint64_t{0});  // Python's manual_seed(-1) wraps to 2^64 - 1
    CHECK(minus_one.random32() == raw_draw(0xFFFFFFFFu, 0));
    ag::Generator fresh;  // an unseeded torch.Generator()
    for (uint32_t expected : {2353294710u, 1155489284u, 4015379837u}) CHECK(fresh.random32() == expected);
    ag::manual_seed(42);  // the process-wide generator
    CHECK(ag::default_generator().random32() == raw_draw(42, 0));
}

TEST_CASE("random: bernoulli_ draws one 53-bit double uniform per element, compared with p", "[random]") {
    // The block-wise integer comparison against the definition, u = (random64() & (2^53 - 1)) 2^-53 < p, over a
    // length that crosses blocks and twists, at a start that is not aligned to a twist, and at the edge values of p.
    for (double p : {0.0, 5e-324, 1e-300, 0x1p-53, 0.2, 0.5, 0.8, 1 - 0x1p-53, 1.0}) {
        ag::Generator g(7), reference(7);
        g.random32();
        reference.random32();
        const int64_t n = 3001;
        std::unique_ptr<bool[]> out(new bool[n]);
        g.fill_bernoulli(out.get(), n, p);
        int mismatches = 0;
        for (int64_t i = 0; i < n; ++i) {
            const double u = static_cast<double>(reference.random64() & ((uint64_t{1} << 53) - 1)) * 0x1p-53;
            mismatches += out[i] != (u < p);
        }
        INFO("p = " << p);
        CHECK(mismatches == 0);
        CHECK(g.random32() == reference.random32());  // the same number of draws taken
    }
}

// ---- randn / normal_ --------------------------------------------------------------------------------------

TEST_CASE("random: manual_seed(1337) randn(4,8,2) matches PyTorch", "[random]") {
    ag::Generator g(1337);  // #3
    auto x = randn(g, 4 * 8 * 2);
    check_bits(x, 0, {0.180771589f, -0.0699880943f, -0.359623492f, -0.915204465f});
    check_bits(x, 60, {0.778898299f, 1.53326881f, 1.60973644f, -0.403228134f});
}

TEST_CASE("random: randn with fewer than 16 elements uses the scalar double path", "[random]") {
    ag::Generator g(0);  // #4
    check_bits(randn(g, 7), 0,
               {1.54099607f, -0.293428898f, -2.17878938f, 0.568431258f, -1.08452237f, -1.39859545f, 0.403346837f});
    CHECK(g.random32() == raw_draw(0, 16));  // 4 pairs x 4 draws; the 8th normal stays cached
    g.manual_seed(1337);  // #6
    check_bits(randn(g, 1), 0, {-2.02599216f});
}

TEST_CASE("random: small randn caches the second normal of a pair across calls", "[random]") {
    ag::Generator g(0);  // #5
    check_bits(randn(g, 3), 0, {1.54099607f, -0.293428898f, -2.17878938f});
    check_bits(randn(g, 1), 0, {0.568431258f});  // served from the cache, no draws
    check_bits(randn(g, 2), 0, {-1.08452237f, -1.39859545f});
    CHECK(g.random32() == raw_draw(0, 12));
    randn(g, 3);  // leaves a normal in the cache; manual_seed must clear it
    g.manual_seed(0);
    check_bits(randn(g, 1), 0, {1.54099607f});
}

TEST_CASE("random: the cached normal survives rand, uniform_, randint and large randn", "[random]") {
    ag::Generator g(0);
    randn(g, 3);  // leaves 0.568431258 in the cache
    uniform(g, 5, 0.0, 1.0);
    randn(g, 32);
    randint(g, 4, 0, 10);
    uniform(g, 3, -1.0, 1.0);
    CHECK(bits(randn(g, 1)[0]) == 0x3f1184b6u);  // the cached 0.568431258
    auto two = randn(g, 2);
    CHECK(bits(two[0]) == 0xbfa52cfau);
    CHECK(bits(two[1]) == 0xbf4a85b5u);
}

TEST_CASE("random: randn with 16 or more elements uses the blocked float path", "[random]") {
    ag::Generator g(0);  // #7
    auto x = randn(g, 16);
    check_bits(x, 0, {-1.12583983f, -1.1523602f, -0.250578582f});
    check_bits(x, 14, {1.11677718f, -0.247278154f});
    CHECK(g.random32() == raw_draw(0, 16));
}

TEST_CASE("random: randn(17) redraws the last 16 elements from 16 extra uniforms", "[random]") {
    ag::Generator g(0);  // #8
    auto x = randn(g, 17);
    check_bits(x, 0, {-1.12583983f, -1.6959312f, 0.566650629f});
    check_bits(x, 14, {0.946298361f, -0.843676746f, 0.931826591f});
    CHECK(g.random32() == raw_draw(0, 17 + 16));
}

TEST_CASE("random: normal_ with a mean and std matches PyTorch on both paths", "[random]") {
    ag::Generator g(7);
    auto small = randn(g, 5, 2.0, 0.5);
    auto large = randn(g, 40, 2.0, 0.5);
    const uint32_t small_bits[] = {0x3ff69ae9u, 0x40192812u, 0x401e4c5du, 0x3fb8ae96u, 0x40361af4u};
    for (int i = 0; i < 5; ++i) CHECK(bits(small[i]) == small_bits[i]);
    CHECK((bits(large[0]) == 0x401380ceu && bits(large[20]) == 0x3ffaa779u && bits(large[39]) == 0x403225e1u));
    float x[1];
    CHECK_THROWS_WITH(g.fill_normal(x, 1, 0.0, -1.0), "normal_: std must be non-negative; got std=-1");
}

TEST_CASE("random: normal_(-0.5, 3) on 2^20 elements matches PyTorch where each fused step matters", "[random]") {
    // Elements that change if any single fused multiply-add of the blocked path is rounded twice
    // instead (how they were picked: see make_random_fixtures.py). The bits come from PyTorch.
    const std::pair<int64_t, uint32_t> expected[] = {
        {8, 0x3f155d17u}, {12, 0x3e54dcafu}, {48, 0x408df8c3u}, {54, 0x40f93e7bu},
        {86, 0x3fc915d1u}, {389, 0x408b6402u}, {406, 0xbbe562a0u}, {994, 0x3faa7b40u},
        {1720, 0xc0149b50u}, {5105, 0x3f4c5a16u}, {5113, 0x4063f800u}, {6975, 0x3b5e8440u},
        {7839, 0xbe29ac3eu}, {8351, 0xc09d45e9u}, {11452, 0xbd9fb188u}, {13256, 0x3f61ffa2u},
        {13715, 0xbd0465b4u}, {19299, 0xbfa55e5eu}, {74319, 0x409bc174u}, {154449, 0xc01dabc8u},
        {351202, 0x3f1289cfu}, {489343, 0xc06f1fd2u}, {716867, 0x3fb77112u}, {1003928, 0x3fec6394u},
    };
    ag::Generator g(1337);
    auto x = randn(g, int64_t{1} << 20, -0.5, 3.0);
    for (auto [index, expected_bits] : expected) {
        INFO("element " << index);
        CHECK(bits(x[index]) == expected_bits);
    }
}

// ---- rand / uniform_ / randint ----------------------------------------------------------------------------

TEST_CASE("random: uniform_(-0.3, 0.7) matches PyTorch, which needs a fused multiply-add", "[random]") {
    ag::Generator g(1337);  // #12
    check_bits(uniform(g, 5, -0.3, 0.7), 0,
               {-0.221682906f, 0.195616722f, 0.323098123f, 0.122438133f, -0.09961164f});
    float x[1];
    CHECK_THROWS_WITH(g.fill_uniform(x, 1, 1.0, 0.5), "uniform_: low must not exceed high; got low=1, high=0.5");
}

TEST_CASE("random: randint with a range below 2^32 takes one draw per element and needs high > low", "[random]") {
    ag::Generator g(42);  // #10
    CHECK(randint(g, 6, 0, 10) == std::vector<int64_t>{2, 7, 6, 4, 6, 5});
    CHECK(g.random32() == raw_draw(42, 6));
    g.manual_seed(3);
    CHECK(randint(g, 6, -7, 5) == std::vector<int64_t>{3, 1, -6, -4, -3, -7});
    int64_t x[1];
    CHECK_THROWS_AS(g.fill_randint(x, 1, 5, 5), std::invalid_argument);
    CHECK_THROWS_WITH(g.fill_randint(x, 1, 5, 5), "randint: high must be greater than low; got low=5, high=5");
    CHECK_THROWS_WITH(g.fill_randint(x, 1, 2, -1), "randint: high must be greater than low; got low=2, high=-1");
}

TEST_CASE("random: randint with a range of 2^32 or more takes two draws per element", "[random]") {
    ag::Generator g(1337);  // #11
    CHECK(randint(g, 2, 0, int64_t{1} << 40) == std::vector<int64_t>{650947518653, 396050048232});
    CHECK(g.random32() == raw_draw(1337, 4));
    g.manual_seed(1337);  // exactly 2^32 already needs random64 (% 2^32 keeps the second draw)
    CHECK(randint(g, 2, 0, int64_t{1} << 32) == std::vector<int64_t>{2407456957, 913057000});
    g.manual_seed(3);
    randint(g, 6, -7, 5);
    const int64_t big = int64_t{1} << 62;
    CHECK(randint(g, 3, -big, big) ==
          std::vector<int64_t>{-4411952032215309547, 2636905949329312403, 2698631211761052523});
}

// ---- Module initialisation, done through the same calls nn.Linear / nn.Embedding make -----------------------
// (Every initial value of Linear(32, 16) and Embedding(65, 32) after manual_seed(1337): test_layers.cpp.)

TEST_CASE("random: the Linear bounds follow PyTorch's kaiming-uniform formula", "[random][layers]") {
    CHECK(ag::Linear::weight_bound(3) == 0x1.279a74590331cp-1);  // exact doubles from Python
    CHECK(ag::Linear::weight_bound(32) == 0x1.6a09e667f3bcbp-3);
    CHECK(ag::Linear::weight_bound(384) == 0x1.a20bd700c2c3dp-5);
    int float_mismatches = 0;  // rounded to float, the weight bound equals 1/sqrt(in)
    for (int64_t in = 1; in <= 4096; ++in)
        float_mismatches += float(ag::Linear::weight_bound(in)) != float(ag::Linear::bias_bound(in));
    CHECK(float_mismatches == 0);
    CHECK(ag::Linear::bias_bound(4) == 0.5);
    CHECK((ag::Linear::weight_bound(0) == 0.0 && ag::Linear::bias_bound(0) == 0.0));
    CHECK_THROWS_WITH(ag::Linear::bias_bound(-3), "Linear::bias_bound: in_features must be non-negative; got -3");
}

TEST_CASE("random: randn(4,8,32) then three bias-free Linear(32,16) continue one stream", "[random][layers]") {
    ag::Generator g(1337);  // #14
    randn(g, 4 * 8 * 32);
    auto key = linear_weight(g, 32, 16);
    auto query = linear_weight(g, 32, 16);
    auto value = linear_weight(g, 32, 16);
    check_bits(key, 0, {-0.0680993795f, -0.0986431614f, -0.173487023f});
    check_bits(query, 0, {-0.00497193728f, -0.0868188217f, -0.0766898319f});
    check_bits(value, 0, {-0.131097406f, 0.154267892f, 0.0617055558f});
}

// ---- float64 (outside the float32 guarantee, but these cases match PyTorch too) ---------------------------

TEST_CASE("random: float64 uniform_ and small normal_ match PyTorch, fused multiply-adds included", "[random]") {
    ag::Generator g(1337);
    double u[40];
    g.fill_uniform(u, 40, -2.0, 3.0);
    CHECK((u[0] == 0x1.21f7ae6bd31d8p+0 && u[39] == -0x1.0a147d755c09ep-2));  // unfused: u[39] ends in ...c0a
    double x[5];
    g.manual_seed(1337);
    g.fill_normal(x, 5, 0.0, 1.0);
    const double expected[] = {-0x1.0353b54908a97p+1, -0x1.0862985e1b1fbp+1, -0x1.3492a74d01cbcp+0,
                               -0x1.d30f09a172ef8p-1, -0x1.400e89ddd6501p+0};
    for (int i = 0; i < 5; ++i) CHECK(x[i] == expected[i]);
    g.manual_seed(99);
    g.fill_normal(x, 5, 0.3, 1.7);
    const double scaled[] = {0x1.5770de0258fcbp+0, -0x1.b2b6c3d6013f5p+0, -0x1.fff363a6daf11p-1,
                             -0x1.aa94298c16f32p-1, 0x1.90bf820bec8e0p+0};
    for (int i = 0; i < 5; ++i) CHECK(x[i] == scaled[i]);
    g.manual_seed(0);  // the double path shares the cache with the float path
    randn(g, 3);
    g.fill_normal(x, 1, 0.0, 1.0);
    CHECK(x[0] == 0x1.23096ca3e350dp-1);
}

// ---- Bulk check -------------------------------------------------------------------------------------------
// Per seed, for n = 1..100, 1000, 4096 in one unbroken stream, PyTorch ran
//   x = randn(n); u = the kaiming-uniform init of a Linear weight [1, n]; randint(0, 3**20, (n,))
// and recorded 2 words per n: the bits of x[n-1] and u[n-1]. Since the stream is never reseeded,
// a wrong draw count (tail redraw, cached normal, randint) also breaks every later word.

namespace {

// seed 0: 102 sizes x 2 words
const uint32_t kChainSeed0[] = {
    0x3fc53f5c, 0xbec532f4, 0x3fa1d9c8, 0xbe0e541b, 0x3f87f538, 0x3e56bc83, 0x3dfb4aca, 0xbeefc276, 0x3e44796b, 0x3daaabd8,
    0x3f90dc8d, 0xbe82c418, 0x3f605bcc, 0xbeb8583e, 0x40471b59, 0xbd14dee4, 0x3e06fd7d, 0x3e9a1ccf, 0xbee76406, 0xbd80067f,
    0x3f53fe6e, 0x3e7f4f27, 0xbf98d80f, 0xbdc6cb9a, 0x3f94eaf0, 0xbd4c6acc, 0xbfcce1ac, 0x3e4fd26f, 0x3ebf2617, 0x3da88f4c,
    0x3f147d08, 0x3e1e4660, 0x3e84f6b8, 0xbe66517e, 0x3e5e44a3, 0xbe0c59a6, 0xbe93329b, 0x3e1faf11, 0xbf117c42, 0x3d73857e,
    0xbe0efd82, 0xbd28d200, 0xbc21d5a0, 0xbe327d53, 0x3fbb6ac1, 0xbe2318b6, 0x3f14d115, 0x3c5b487d, 0xbec7038c, 0xbe32a315,
    0x3e405c85, 0xbdb85a5b, 0xbee57091, 0xbe302022, 0xbdd34319, 0xbe1741bc, 0x3f804912, 0xbd0138d0, 0x3f071db1, 0xbd1eb144,
    0x3f639b65, 0x3e1162ae, 0x3f6a1131, 0xbe1c7be3, 0xbfc64c8a, 0x3bc07caf, 0xbd37e11f, 0xbe181904, 0x3ee245b1, 0x3e11d831,
    0x3f6bc33a, 0xbd04566b, 0xbf8dc480, 0x3d56f7ad, 0x3db7c078, 0xbd1e054c, 0xbd7f32ce, 0xbd9dd899, 0x3eb2cb1d, 0xbde1c815,
    0xbff09d4c, 0xbd20c735, 0x3fa95fb9, 0xbd05d461, 0x3f8e0198, 0x3d92d88a, 0xbf0e485b, 0xbddede96, 0x3ed08d54, 0xbd88b842,
    0x3d125793, 0xbdfc932f, 0xbf5c9d59, 0x3d313afa, 0x3f3df50c, 0x3de0e75a, 0x3eb9f295, 0x3d4005e5, 0x3f95c734, 0xbd50989e,
    0xbf717dab, 0x3dac1d1c, 0x3f10c446, 0x3d2e3872, 0x3f29ad0f, 0x3d528531, 0xbef96bc9, 0xbbdc6177, 0xbf5cf25b, 0x3dbb28a7,
    0xbf31ee01, 0x3dee026b, 0x40189463, 0x3e0141bc, 0x3f655f63, 0xbdfa01eb, 0xbf3668a6, 0x3dec7812, 0xbea4aed9, 0x3df5d3f0,
    0x3f0b431d, 0xbde460d4, 0xbefdacc7, 0x3ca676d4, 0xbf52374e, 0xbdcaebb0, 0xbf229a1e, 0xbcaaeb18, 0x3f07f12a, 0xbd966ae5,
    0x3f2fe552, 0x3df6aece, 0xbf72dc4a, 0xbc752f3d, 0xbff490c2, 0x3dabe0e5, 0x3fa115f2, 0x3dbed113, 0x3ed09427, 0x3db8bb1e,
    0xbfbf560b, 0x3d73dacf, 0x3c34ee0b, 0xbd710b8b, 0xbea6edd6, 0x3d94d48d, 0xbebda739, 0x3d7adf00, 0x3fdcbf51, 0xbd22f7fb,
    0xbdc885f7, 0x3dacffd5, 0x3f19ebc0, 0xbdd76f3b, 0x3f002d81, 0xbdbbdc06, 0x3f23624e, 0xbd585ca0, 0x3e9945f9, 0xbdd27668,
    0x3f4886a0, 0x3d2ccd15, 0x3d9f75fc, 0x3cf754aa, 0x3e6b3b9d, 0xbd7585c6, 0x3f7f5cc0, 0x3da935ec, 0x3fde553a, 0x3dae67f2,
    0x3fb07850, 0x3dc9824e, 0xbfcbfb75, 0x3cf5a3a3, 0x3f14bc2f, 0xbd961702, 0xbf32248f, 0xbd8b66b1, 0x3e8691ba, 0xbd14c46b,
    0xbf7289a7, 0x3cf83bd7, 0xbf5e9b8c, 0xbcb74757, 0xbf4d960c, 0xbdc56b10, 0x3e89e21f, 0xbd3bbf82, 0xbfeebf8d, 0x3daa19d9,
    0xbe2cdbcb, 0xbcd14152, 0x3a8e54fd, 0x3c9e14fc, 0xbef2f749, 0xbd1dd695, 0xbf214d8f, 0x3d8bf0b6, 0x3e110517, 0xbd80c3f2,
    0x3db77ccd, 0xbc3acbfa, 0x3ec83755, 0x3b768398,
};
// seed 42: 102 sizes x 2 words
const uint32_t kChainSeed42[] = {
    0x3eac62ae, 0xbe605cb0, 0x3f93fbe5, 0x3e07848f, 0xbe3925f1, 0xbe8831fe, 0x3f753da4, 0x3e9e31f8, 0x3e902355, 0x3e10d4ad,
    0xbfcb632e, 0x3eadaeb3, 0x3f5c7ea7, 0x3c1141d8, 0x3fb4a0b1, 0xbe0ac763, 0xbf4a5cf8, 0x3e3e965b, 0x3f6dbc2f, 0x3e15816c,
    0xbf21474a, 0xbd59e680, 0x3effcae3, 0xbdbf4484, 0xbf112136, 0x3e57e10f, 0x3f34769a, 0xbe02d22e, 0x3e87848b, 0x3dc62f7c,
    0xbd376073, 0xbe6b002e, 0xbf4c5b01, 0x3e049c5b, 0x3d8869c6, 0x3d9d70e9, 0xbf34f3a4, 0xbda7d67c, 0x3fdb3825, 0xbe3ff91e,
    0xbf001663, 0x3e56525b, 0xbe0c84a5, 0x3e2b204c, 0xbd148fc3, 0x3dcf4651, 0xbfc27dc2, 0xbdf54006, 0xbf15d1eb, 0x3e2be048,
    0x3f35658d, 0x3e058c94, 0xbefcc3a2, 0xbdb7ce6f, 0xbf1ec079, 0xbc325396, 0xbf4af7cf, 0xbcb92422, 0xbf141d80, 0x3bbc704c,
    0x3e6558bd, 0xbd00e42b, 0xbe1955ff, 0xbd546cd2, 0xbfa5811e, 0xb9cdd601, 0x3ed17a24, 0x3dd54174, 0xbf3e9fd7, 0x3e19c460,
    0x3f94b4e7, 0x3ddfaae3, 0x4003f790, 0x3e18bcb2, 0xbfc058cb, 0xbda083c2, 0xbf40fae6, 0xbe20fb06, 0x3f988b5e, 0x3d9c0d87,
    0xbe8fe88f, 0x3dc45724, 0xbf9a7d12, 0x3d40398a, 0xbfcc566a, 0x3e112954, 0xbe7a670a, 0x3c102af3, 0xbf176e7c, 0xbdd5a238,
    0x3f9286a9, 0xbd055a95, 0x3e6b9fa9, 0x3d212f2f, 0xbf4fa5b9, 0x3d8fb94e, 0xbee76efb, 0xbd17021c, 0xbf0f7ef0, 0x3d95a22b,
    0x3e9b61ab, 0x3dba4f78, 0x3d157461, 0xbdf379a2, 0xbf6cde97, 0xbd6ab712, 0x3e4890a1, 0xbd9c7b41, 0xbdb21ff8, 0xbce1c0f3,
    0x3f009af9, 0xbda95635, 0xbef8a90a, 0x3d9d9e30, 0xbf40cdd3, 0xbda304d5, 0xc00054ef, 0xbd181b9a, 0x3fc896fb, 0x3d4c0b50,
    0x3f408f41, 0x3d8913e7, 0xbf1d6c94, 0xbdf93dfb, 0xbf0d39ee, 0x3d78c348, 0xbe79a86e, 0x3dad099c, 0xc01a24fe, 0x3d5be26b,
    0xbfb87e3a, 0x3da595c1, 0x3f9d0f6e, 0xbc947cdf, 0x3f433b4b, 0x3d64d954, 0xbe1520bc, 0xbd9cceac, 0x3f7942f6, 0x3d45e1bc,
    0xbf02f13f, 0xbdd4a8f4, 0xbf615a2b, 0x3b914bd2, 0x3e9da163, 0xbcef98e8, 0xbdc475c9, 0x3d5b601b, 0x3f93bf29, 0x3d84b887,
    0x3ce5e702, 0x3ad3141f, 0x3fb0a057, 0xbddf8c46, 0xbf610928, 0xbde201fa, 0x3f4d73d2, 0x3cf39991, 0x3dae3e0a, 0xbd21fe13,
    0x3e8641ac, 0xbdc8d8ce, 0x3f381178, 0xbd489bfa, 0x3fc2fa06, 0xbc7ab613, 0x3f8c8f61, 0xbdd447cb, 0x3f7dc7a1, 0x3d4ee3d5,
    0x3e5913b7, 0xbd322381, 0x3ddb7440, 0xbd6a62e2, 0x3f0bde89, 0xbd0ec3e1, 0xbdcdab8c, 0x3c0eaf5e, 0x3f5e0aac, 0xbdb8c41b,
    0x3ddacaf5, 0x3d306a10, 0xbff1511b, 0x3dd026fe, 0xbe53de10, 0xbdc3597a, 0x3e6a2df2, 0xbd144c1a, 0xbf3f97b4, 0x3c7e4860,
    0x3f5224b8, 0xbbbcd841, 0x3eb8da0b, 0x3d9f6dee, 0xbf68c5e0, 0x3ca8ee25, 0x3f3c0a64, 0xbd3ee235, 0x3feee758, 0xbd2976fa,
    0x3f2b5f5a, 0xba00f771, 0xbe717b78, 0x3bd5c19c,
};
// seed 1337: 102 sizes x 2 words
const uint32_t kChainSeed1337[] = {
    0xc001a9db, 0xbf1966b2, 0xbedcab2b, 0x3dea6b17, 0x3e8342b3, 0x3ee4741c, 0xbe3296d3, 0x3e33696c, 0xbe94ec79, 0xbeb049ca,
    0xbf2336ec, 0xbce00d8f, 0xbe8becbf, 0x3c50c886, 0x3f66515e, 0x3e737072, 0xbe97f885, 0x3d483feb, 0x3e6daa9d, 0xbdeb9334,
    0x3c08da1a, 0xbe3e34e8, 0xc01826ab, 0xbe3daecd, 0xbeca7160, 0xbe814464, 0xbf32555b, 0x3da8661b, 0xbd24a86b, 0xbe7dc7da,
    0x3fa0656a, 0x3e5d5068, 0xbf611501, 0xbca97888, 0x3d446923, 0x3e4b3d67, 0x3d1cc5e6, 0x3e10014d, 0xbf1f7f3b, 0x3d816e81,
    0xbd427fef, 0xbd07a622, 0xbe96021d, 0xbbd66819, 0x400a4f30, 0x3dd74ac7, 0x3efe9324, 0x3dc4d083, 0x3d9507a3, 0x3e0c1fc0,
    0x3f012bf1, 0x3e030a04, 0xbf433b3b, 0x3e020328, 0xbf0e7180, 0x3dd7ea60, 0x3e2816f1, 0xbca408d1, 0xbe897e86, 0x3e30593d,
    0x3e790ac7, 0xbd4c29ba, 0xbeb8e7d6, 0xbd9309ab, 0xbeff9d3f, 0x3d8aa3af, 0x3f2a2bb3, 0x3df69172, 0x3dd5623a, 0x3d88a64f,
    0x3f210af7, 0xbdb3c20b, 0xbfd30e81, 0xbc1ecde5, 0xc00e5ff7, 0x3d51e56e, 0xbed0729e, 0x3dc96657, 0x3fa34002, 0xbdf8a9b7,
    0xbfe6b211, 0xbd6482d4, 0xbdd65d30, 0xbda208cb, 0xbd013ab5, 0xbe0ca63e, 0x3fa97708, 0x3dc18dea, 0x402c06d6, 0x3df0ebf9,
    0xbf581179, 0x3c61d366, 0xbfbe353d, 0xbdedb938, 0xbfe7d16f, 0x3e0a968c, 0x3e8f3e3c, 0xbcb37493, 0xbfedf4ac, 0xbbcd40d3,
    0x3fb4181d, 0xbdd13ad5, 0x3f7e1860, 0x3d4144ef, 0x3ef86ba2, 0xbd67053e, 0x3f7a0cf7, 0x3db99652, 0x3d197d40, 0x3d0b9c7b,
    0xc02365cc, 0xbe037ab5, 0x3e2265e1, 0xbd453c77, 0xbf25d1e8, 0x3d18b750, 0xbf96393e, 0xbe047fd2, 0x3f2709f7, 0xbd66b240,
    0xbfc4de9a, 0xbd89edd4, 0xbfb839d0, 0x3c262be6, 0x3f03bc0a, 0x3d91b2f3, 0xbffa5e8c, 0x3bc15e40, 0xbe6e3978, 0xbd209928,
    0xbe8ce139, 0x3d8bcb91, 0xc01146fe, 0xbd7db8ed, 0x3fae04a3, 0xbded30d9, 0xbfc00077, 0xbd908028, 0x3f20f4af, 0x3d94f8cd,
    0x3f9d25a5, 0xbdd739b0, 0xbf93d271, 0xbdab79ed, 0x3f8ce10c, 0x3c524b02, 0xbf20d276, 0xbde13d9b, 0x3c9441ea, 0x3bcd9249,
    0x3f34494c, 0xbb0f74df, 0x3ef81a4e, 0xbd7bda5a, 0xbcc444cc, 0xbd958ecf, 0xbf463b63, 0x3dddd888, 0xbf8f677d, 0xbdcf47f2,
    0x3f672ecf, 0x3daa4304, 0xbd93c369, 0x3d869591, 0xc0060f3b, 0xbdb7459e, 0x3f2a6a85, 0x3da7d9a7, 0x3f610880, 0x3da421f6,
    0xbf6f84a6, 0x3ccc5cd3, 0xbf88d05b, 0xbc8b6e3f, 0x3ec69b25, 0xbc741f27, 0x3ef1015b, 0x3db645c3, 0xbf8b7cc7, 0x3d25dc3b,
    0xbeedeb16, 0xbc51076e, 0xc007c1e2, 0xbdcf574f, 0x3f664c07, 0xbd9bbc0f, 0x3f2f5e70, 0x3da4c680, 0xbfc8daab, 0xbd67e9ee,
    0x3fbd57cf, 0x3da38059, 0x3f30860e, 0x3dcbb611, 0x3ed6c4ed, 0xbcd7cbfb, 0x3fc9573d, 0x3ca0545d, 0x3f316f3b, 0x3d7ff947,
    0xbca9052c, 0xbcef0939, 0x4016ac6d, 0x3c67cbb8,
};

void check_chain(uint32_t seed, const uint32_t* expected, size_t count) {
    std::vector<int64_t> sizes;
    for (int64_t n = 1; n <= 100; ++n) sizes.push_back(n);
    sizes.push_back(1000);
    sizes.push_back(4096);
    REQUIRE(count == sizes.size() * 2);
    ag::Generator g(seed);
    for (size_t i = 0; i < sizes.size(); ++i) {
        const int64_t n = sizes[i];
        auto x = randn(g, n);
        auto u = linear_weight(g, n, 1);
        randint(g, n, 0, 3486784401);  // 3^20
        INFO("seed " << seed << ", n " << n);
        REQUIRE(bits(x[n - 1]) == expected[2 * i]);  // stop at the first difference
        REQUIRE(bits(u[n - 1]) == expected[2 * i + 1]);
    }
}

}  // namespace

TEST_CASE("random: chained randn, uniform_ and randint over many sizes match PyTorch", "[random]") {
    check_chain(0, kChainSeed0, std::size(kChainSeed0));
    check_chain(42, kChainSeed42, std::size(kChainSeed42));
    check_chain(1337, kChainSeed1337, std::size(kChainSeed1337));
}
