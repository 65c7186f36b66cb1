// PyTorch-compatible random numbers; random.h says what is reproduced, and how.
//
// Bit-exactness depends on floating-point rounding, so this file must be compiled without
// -ffast-math and with -ffp-contract=off: every fused multiply-add below is written explicitly
// with std::fmaf / std::fma, and the compiler must not fuse any other multiply and add.
#include "random.h"

#include "engine/shape.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>
#include <random>
#include <stdexcept>
#include <string>

namespace ag {

// ---- MT19937 (textbook 32-bit Mersenne Twister) -----------------------------------------------------------

Generator::Generator(uint64_t seed) { manual_seed(seed); }

void Generator::manual_seed(uint64_t seed) {
    // Knuth's multiplicative initialisation ("init_genrand"); arithmetic is mod 2^32.
    state_[0] = static_cast<uint32_t>(seed);  // only the low 32 bits are used
    for (int i = 1; i < kStateSize; ++i) {
        uint32_t prev = state_[i - 1];
        state_[i] = 1812433253u * (prev ^ (prev >> 30)) + static_cast<uint32_t>(i);
    }
    next_index_ = kStateSize;  // the first draw twists before outputting anything
    has_cached_normal_ = false;
}

// The recurrence, for i = 0 .. 623 in order and in place (indices mod 624):
//   y = top bit of word i | low 31 bits of word i+1;   word i = word i+397 ^ (y >> 1) ^ (y odd ? 0x9908B0DF : 0)
// Written as three loops without the modulo or a branch, so that the compiler vectorises them: words 0..226 mix
// in words 397..623 (not yet updated), words 227..622 mix in the new words 0..395, and word 623 wraps to word 0.
void Generator::twist() {
    constexpr int kShift = 397;  // "M": the word mixed in from further along the state
    constexpr uint32_t kMatrix = 0x9908B0DFu, kUpper = 0x80000000u, kLower = 0x7FFFFFFFu;
    uint32_t* s = state_.data();
    auto next = [](uint32_t word, uint32_t following, uint32_t far) {
        const uint32_t y = (word & kUpper) | (following & kLower);
        return far ^ (y >> 1) ^ ((0u - (y & 1u)) & kMatrix);
    };
    for (int i = 0; i < kStateSize - kShift; ++i) s[i] = next(s[i], s[i + 1], s[i + kShift]);
    for (int i = kStateSize - kShift; i < kStateSize - 1; ++i)
        s[i] = next(s[i], s[i + 1], s[i + kShift - kStateSize]);
    s[kStateSize - 1] = next(s[kStateSize - 1], s[0], s[kShift - 1]);
    next_index_ = 0;
}

// Tempering: an invertible bit scramble that improves the equidistribution of the output.
static uint32_t temper(uint32_t y) {
    y ^= y >> 11;
    y ^= (y << 7) & 0x9D2C5680u;
    y ^= (y << 15) & 0xEFC60000u;
    y ^= y >> 18;
    return y;
}

uint32_t Generator::random32() {
    if (next_index_ >= kStateSize) twist();
    return temper(state_[next_index_++]);
}

// The next n outputs of random32(), a run of state words at a time (a loop the compiler vectorises).
void Generator::fill_raw(uint32_t* out, int64_t n) {
    while (n > 0) {
        if (next_index_ >= kStateSize) twist();
        const int64_t run = std::min<int64_t>(n, kStateSize - next_index_);
        const uint32_t* words = state_.data() + next_index_;
        for (int64_t i = 0; i < run; ++i) out[i] = temper(words[i]);
        next_index_ += static_cast<int>(run);
        out += run;
        n -= run;
    }
}

uint64_t Generator::random64() {
    uint64_t high = random32();  // the first draw is the high word
    uint64_t low = random32();
    return (high << 32) | low;
}

// Low 24 bits scaled by 2^-24: exact in float, in [0, 1).
float Generator::next_float_uniform() {
    return static_cast<float>(random32() & 0xFFFFFFu) * 0x1p-24f;
}

// Low 53 bits scaled by 2^-53: exact in double, in [0, 1).
double Generator::next_double_uniform() {
    return static_cast<double>(random64() & ((uint64_t{1} << 53) - 1)) * 0x1p-53;
}

// ---- Uniform and integer fills ----------------------------------------------------------------------------

static void check_uniform_range(double low, double high) {
    if (!(low <= high))
        throw std::invalid_argument("uniform_: low must not exceed high; got low=" + number_str(low) +
                                    ", high=" + number_str(high));
}

void Generator::fill_uniform(float* out, int64_t n, double low, double high) {
    check_uniform_range(low, high);
    const float lo = static_cast<float>(low);
    const float span = static_cast<float>(high) - lo;
    // PyTorch's AVX2 kernel computes u*span + lo as one fused multiply-add (a single rounding).
    for (int64_t i = 0; i < n; ++i) out[i] = std::fmaf(next_float_uniform(), span, lo);
}

void Generator::fill_uniform(double* out, int64_t n, double low, double high) {
    check_uniform_range(low, high);
    const double span = high - low;
    // Fused like the float version: with two roundings about 38% of the values differ from PyTorch's.
    for (int64_t i = 0; i < n; ++i) out[i] = std::fma(next_double_uniform(), span, low);
}

void Generator::fill_randint(int64_t* out, int64_t n, int64_t low, int64_t high) {
    if (high <= low)
        throw std::invalid_argument("randint: high must be greater than low; got low=" + std::to_string(low) +
                                    ", high=" + std::to_string(high));
    // Unsigned arithmetic: the range can exceed INT64_MAX, and wrap-around gives the right answer.
    const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
    const bool wide = range >= (uint64_t{1} << 32);  // needs 64 random bits per element
    for (int64_t i = 0; i < n; ++i) {
        uint64_t r = wide ? random64() : random32();
        out[i] = static_cast<int64_t>(static_cast<uint64_t>(low) + r % range);  // plain modulo, no rejection
    }
}

// ---- Bernoulli and exponential (dropout and multinomial) -------------------------------------------------

// u = k 2^-53 with k the low 53 bits of random64(), so u < p exactly when the integer k < ceil(p 2^53) (p 2^53 is
// exact: a power-of-two scaling). Drawn a block at a time and compared as integers, which vectorises.
void Generator::fill_bernoulli(bool* out, int64_t n, double p) {
    if (!(p >= 0 && p <= 1))
        throw std::invalid_argument("bernoulli_: p must be in [0, 1]; got " + number_str(p));
    const uint64_t threshold = static_cast<uint64_t>(std::ceil(p * 0x1p53));
    constexpr int64_t kBlock = 512;  // elements per block, 2 draws each
    uint32_t raw[2 * kBlock];
    for (int64_t start = 0; start < n; start += kBlock) {
        const int64_t count = std::min(kBlock, n - start);
        fill_raw(raw, 2 * count);
        for (int64_t i = 0; i < count; ++i) {
            const uint64_t k = (uint64_t{raw[2 * i] & 0x1FFFFFu} << 32) | raw[2 * i + 1];  // high word first
            out[start + i] = k < threshold;
        }
    }
}

void Generator::fill_exponential(double* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = -1.0 * std::log(1.0 - next_double_uniform());
}

void Generator::fill_exponential(float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(-1.0 * std::log(1.0 - next_double_uniform()));
}

// ---- State ------------------------------------------------------------------------------------------------

std::array<uint64_t, Generator::kStateWords> Generator::state() const {
    std::array<uint64_t, kStateWords> words{};
    std::copy(state_.begin(), state_.end(), words.begin());
    words[kStateSize] = static_cast<uint64_t>(next_index_);
    words[kStateSize + 1] = has_cached_normal_ ? 1 : 0;
    words[kStateSize + 2] = std::bit_cast<uint64_t>(cached_normal_);
    return words;
}

void Generator::set_state(const std::array<uint64_t, kStateWords>& words) {
    for (int i = 0; i < kStateSize; ++i)
        if (words[i] > 0xFFFFFFFFu)
            throw std::invalid_argument("Generator::set_state: word " + std::to_string(i) + " is not a 32-bit value");
    if (words[kStateSize] > static_cast<uint64_t>(kStateSize) || words[kStateSize + 1] > 1)
        throw std::invalid_argument("Generator::set_state: the position or the cached-normal flag is out of range");
    // MT19937 never reaches a state whose 19937 bits (the top bit of word 0 and all of words 1..623) are all zero:
    // from there it would give 0 forever.
    bool all_zero = (words[0] & 0x80000000u) == 0;
    for (int i = 1; i < kStateSize && all_zero; ++i) all_zero = words[i] == 0;
    if (all_zero) throw std::invalid_argument("Generator::set_state: the twister's state is all zero");
    if (words[kStateSize + 1] == 1 && !std::isfinite(std::bit_cast<double>(words[kStateSize + 2])))
        throw std::invalid_argument("Generator::set_state: the cached normal value is not finite");
    for (int i = 0; i < kStateSize; ++i) state_[i] = static_cast<uint32_t>(words[i]);
    next_index_ = static_cast<int>(words[kStateSize]);
    has_cached_normal_ = words[kStateSize + 1] == 1;
    cached_normal_ = std::bit_cast<double>(words[kStateSize + 2]);
}

// ---- Normal, scalar double path (n < 16): classic Box-Muller, one pair per two double uniforms ------------

double Generator::next_normal() {
    if (has_cached_normal_) {
        has_cached_normal_ = false;
        return cached_normal_;
    }
    const double u1 = next_double_uniform();  // angle
    const double u2 = next_double_uniform();  // radius; 1 - u2 is in (0, 1], so the log is finite
    const double radius = std::sqrt(-2.0 * std::log(1.0 - u2));
    const double theta = 2.0 * std::numbers::pi * u1;
    cached_normal_ = radius * std::sin(theta);  // kept for the next call, even a later fill
    has_cached_normal_ = true;
    return radius * std::cos(theta);
}

static void check_std(double std_dev) {
    if (!(std_dev >= 0.0))
        throw std::invalid_argument("normal_: std must be non-negative; got std=" + number_str(std_dev));
}

// Scales a standard normal from the scalar path. PyTorch's compiled code fuses this multiply-add:
// checked on float64, where the unfused form differs in about a third of the values. For float32
// the result is rounded to float afterwards, which hides the difference (almost) always.
static double scale_normal(double z, double mean, double std_dev) { return std::fma(z, std_dev, mean); }

// Turns 16 double uniforms into 16 normals in place, pairing d[j] (radius) with d[j+8] (angle) as the float
// block does, but with libm's log, sin and cos in double (PyTorch's generic normal_fill_16):
//   r = sqrt(-2 log(1 - d[j])), theta = 2 pi d[j+8];  d[j] = mean + std r cos(theta), d[j+8] = mean + std r sin(theta)
static void box_muller_block16(double* d, double mean, double std_dev) {
    for (int j = 0; j < 8; ++j) {
        const double radius = std::sqrt(-2.0 * std::log(1.0 - d[j]));
        const double theta = 2.0 * std::numbers::pi * d[j + 8];
        d[j] = scale_normal(radius * std::cos(theta), mean, std_dev);
        d[j + 8] = scale_normal(radius * std::sin(theta), mean, std_dev);
    }
}

// ---- Normal, blocked float path (n >= 16) -----------------------------------------------------------------
// PyTorch's AVX2 kernel uses Cephes single-precision polynomials for log, sin and cos, and fuses
// some of the multiply-adds (_mm256_fmadd_ps). Every std::fmaf below stands for one of those fused
// steps; every other operation is a separately rounded float operation. Unfusing any single step
// that can matter changes some outputs by an ulp or more (test_random.cpp checks such elements).

// Natural log for 0 < x <= 1 (x >= 2^-24 here, so x is never subnormal).
// Write x = m * 2^e with m in [0.5, 1); if m < sqrt(1/2), use 2m and e-1 instead. Then
// t = m - 1 (or 2m - 1) lies in [sqrt(1/2) - 1, sqrt(2) - 1) and log(x) = log(1+t) + e*ln(2), with
// log(1+t) ~ t - t^2/2 + t^3 * P(t). ln(2) is split into Q2 + Q1: Q2 = 0.693359375 has few bits,
// so e*Q2 is exact, and the small correction e*Q1 carries the rest.
static float cephes_log(float x) {
    constexpr float kSqrtHalf = 0.707106781186547524f;
    constexpr float P[9] = {7.0376836292E-2f,  -1.1514610310E-1f, 1.1676998740E-1f,
                            -1.2420140846E-1f, 1.4249322787E-1f,  -1.6668057665E-1f,
                            2.0000714765E-1f,  -2.4999993993E-1f, 3.3333331174E-1f};
    constexpr float Q1 = -2.12194440e-4f, Q2 = 0.693359375f;

    const uint32_t bits = std::bit_cast<uint32_t>(x);
    const int k = static_cast<int>(bits >> 23) - 127;                    // unbiased exponent: x = 1.f * 2^k
    float m = std::bit_cast<float>((bits & 0x807FFFFFu) | 0x3F000000u);  // 0.f, in [0.5, 1)
    float e = static_cast<float>(k) + 1.0f;                              // so x = m * 2^e
    float t;
    if (m < kSqrtHalf) {
        e = e - 1.0f;
        t = (m - 1.0f) + m;  // 2m - 1, computed in this order as PyTorch does (both steps exact)
    } else {
        t = m - 1.0f;
    }
    const float z = t * t;
    float y = P[0];
    for (int i = 1; i < 9; ++i) y = std::fmaf(y, t, P[i]);  // P(t) by Horner's rule, one fused step per term
    y = y * t;
    // y*z + e*Q1: PyTorch rounds e*Q1 first and fuses y*z into the add (fusing e*Q1 instead gives
    // different bits).
    y = std::fmaf(y, z, e * Q1);
    y = y - z * 0.5f;  // the -t^2/2 term; z*0.5 is exact
    float r = t + y;
    return r + e * Q2;
}

// sin and cos of theta together (theta >= 0 here; a negative theta would just flip the sine).
// Reduce |theta| by a multiple j of pi/4 (j even), so that x = |theta| - j*pi/4 lies in
// [-pi/4, pi/4], then evaluate short polynomials for sin(x) and cos(x) and pick/negate them
// according to the octant j.
static void cephes_sincos(float theta, float& sin_out, float& cos_out) {
    constexpr float kFourOverPi = 1.27323954473516f;
    // -pi/4 split into three parts (Cody-Waite reduction): DP1 and DP2 have few significant bits, so
    // fj*DP1 and fj*DP2 are exact for the small j seen here (j <= 8) and fusing them changes nothing;
    // only fj*DP3 rounds. All three are fused as in PyTorch's code.
    constexpr float DP1 = -0.78515625f, DP2 = -2.4187564849853515625e-4f, DP3 = -3.77489497744594108e-8f;
    constexpr float S0 = -1.9515295891E-4f, S1 = 8.3321608736E-3f, S2 = -1.6666654611E-1f;
    constexpr float C0 = 2.443315711809948E-005f, C1 = -1.388731625493765E-003f, C2 = 4.166664568298827E-002f;

    const float a = std::fabs(theta);
    int j = static_cast<int>(a * kFourOverPi);  // truncates toward zero
    j = (j + 1) & ~1;                            // round up to even: octant pairs share a polynomial
    const float fj = static_cast<float>(j);
    float x = std::fmaf(fj, DP1, a);  // x = a - j*pi/4
    x = std::fmaf(fj, DP2, x);
    x = std::fmaf(fj, DP3, x);
    const bool sin_negative = ((j & 4) != 0) != (theta < 0.0f);
    const bool cos_negative = ((j - 2) & 4) == 0;

    const float z = x * x;
    // cos(x) ~ 1 - z/2 + z^2 * (C0 z^2 + C1 z + C2): Horner steps fused; then the z^2 factor
    // (pc*z rounded, times z fused with the exact -z/2), and + 1 rounded separately.
    float pc = std::fmaf(C0, z, C1);
    pc = std::fmaf(pc, z, C2);
    pc = pc * z;
    pc = std::fmaf(pc, z, -(z * 0.5f));
    pc = pc + 1.0f;
    // sin(x) ~ x + x * z * (S0 z^2 + S1 z + S2): Horner steps fused, ps*z rounded, and the final
    // times x plus x fused.
    float ps = std::fmaf(S0, z, S1);
    ps = std::fmaf(ps, z, S2);
    ps = ps * z;
    ps = std::fmaf(ps, x, x);

    const bool swap = (j & 2) != 0;  // in octants 2,3 (mod 4) sin and cos trade places
    const float s = swap ? pc : ps;
    const float c = swap ? ps : pc;
    sin_out = sin_negative ? -s : s;  // negation only flips the sign bit
    cos_out = cos_negative ? -c : c;
}

// Turns 16 uniforms in [0,1) into 16 normals, in place. Lane j (0..7) pairs d[j] (radius) with
// d[j+8] (angle) and writes the cosine result to d[j], the sine result to d[j+8].
static void box_muller_block16(float* d, float mean, float std_dev) {
    constexpr float kTwoPi = static_cast<float>(2.0 * std::numbers::pi);  // 6.28318548f
    for (int j = 0; j < 8; ++j) {
        const float u1 = 1.0f - d[j];  // exact; in (0, 1] so the log is finite
        const float radius = std::sqrt(-2.0f * cephes_log(u1));
        const float theta = kTwoPi * d[j + 8];
        float s, c;
        cephes_sincos(theta, s, c);
        const float n1 = radius * c;
        const float n2 = radius * s;
        d[j] = std::fmaf(n1, std_dev, mean);  // scaling fused, as in PyTorch's kernel
        d[j + 8] = std::fmaf(n2, std_dev, mean);
    }
}

// The blocked path of both dtypes: n uniforms, each whole block of 16 turned into normals in place; when n is not a
// multiple of 16, the last 16 elements are redrawn from 16 fresh uniforms and transformed again (the normals of
// the last full block that they overwrite are thrown away).
template <typename Scalar, typename Uniform>
static void fill_normal_blocks(Scalar* out, int64_t n, Scalar mean, Scalar std_dev, Uniform next_uniform) {
    for (int64_t i = 0; i < n; ++i) out[i] = next_uniform();
    for (int64_t start = 0; start + 16 <= n; start += 16) box_muller_block16(out + start, mean, std_dev);
    if (n % 16 != 0) {
        Scalar* window = out + (n - 16);
        for (int i = 0; i < 16; ++i) window[i] = next_uniform();
        box_muller_block16(window, mean, std_dev);
    }
}

void Generator::fill_normal(float* out, int64_t n, double mean, double std_dev) {
    check_std(std_dev);
    if (n < 16) {
        // Scalar path: Box-Muller in double, rounded to float at the end.
        for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(scale_normal(next_normal(), mean, std_dev));
        return;
    }
    fill_normal_blocks(out, n, static_cast<float>(mean), static_cast<float>(std_dev),
                       [this] { return next_float_uniform(); });
}

void Generator::fill_normal(double* out, int64_t n, double mean, double std_dev) {
    check_std(std_dev);
    if (n < 16) {
        for (int64_t i = 0; i < n; ++i) out[i] = scale_normal(next_normal(), mean, std_dev);
        return;
    }
    fill_normal_blocks(out, n, mean, std_dev, [this] { return next_double_uniform(); });
}

// ---- Default generator and nn.Linear bounds ---------------------------------------------------------------

Generator& default_generator() {
    // Seeded once from the OS like PyTorch's default generator (initialised on first use).
    static Generator generator{(uint64_t{std::random_device{}()} << 32) | std::random_device{}()};
    return generator;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace ag
