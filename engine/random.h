// Random numbers that reproduce PyTorch 1.13's CPU generator bit for bit (float32, x86-64 AVX2).
//
// After ag::manual_seed(s), filling a float32 buffer with fill_normal / fill_uniform / fill_randint
// gives exactly the numbers torch.manual_seed(s) followed by randn / rand / uniform_ / randint
// gives, as long as the same calls are made in the same order. The algorithms are those of PyTorch's CPU kernels
// (ATen's CPUGeneratorImpl, and the uniform, normal and random_from_to kernels of aten/src/ATen/native/cpu):
//
//   * The generator is the standard 32-bit Mersenne Twister (MT19937) plus one cached normal.
//   * A float uniform in [0,1) uses the low 24 bits of one 32-bit draw; a double uniform uses the
//     low 53 bits of one 64-bit draw (two 32-bit draws, the first being the high word).
//   * normal_ has two algorithms: tensors with fewer than 16 elements use a scalar Box-Muller in
//     double that produces values in pairs and caches the second one in the generator; larger
//     float32 tensors use a blocked float32 Box-Muller built on Cephes polynomial log/sin/cos.
//
// The float32 results are the guarantee (checked bit for bit against torch 1.13 on x86-64 with
// AVX2, see tests/test_random.cpp). float64 matches too on the values checked (tests/test_random.cpp
// and tests/test_inplace_methods.cpp): 16 or more float64 normals use PyTorch's blocked double
// Box-Muller (libm log, sin, cos), whose values depend on the C library's functions.
//
// A Generator is not thread-safe: draw from one thread only (not inside the kernels' parallel loops).
#pragma once
#include <array>
#include <cstdint>

namespace ag {

// PyTorch-compatible CPU random generator: MT19937 plus one cached normal (see above).
class Generator {
public:
    // 67280421310721 is the seed an unseeded torch.Generator() uses.
    explicit Generator(uint64_t seed = 67280421310721ULL);

    // Only the low 32 bits seed the twister (so 2^32+5 acts like 5); clears the cached normal.
    void manual_seed(uint64_t seed);

    uint32_t random32();  // one raw MT19937 output
    uint64_t random64();  // two outputs; the first draw is the high word

    // Each fill writes n contiguous elements in row-major order, taking the draws in exactly the
    // order PyTorch's CPU kernels take them. n <= 0 writes and draws nothing. Invalid arguments
    // (low > high, std < 0, high <= low) throw std::invalid_argument before anything is drawn.

    // uniform_(low, high) for float32: fmaf(u, (float)high - (float)low, (float)low). 1 draw each.
    void fill_uniform(float* out, int64_t n, double low, double high);
    // uniform_(low, high) for float64: fma(u, high - low, low) with a 53-bit double u. 2 draws each.
    void fill_uniform(double* out, int64_t n, double low, double high);

    // normal_(mean, std) for float32: the scalar double path for n < 16 (4 draws per new pair), the
    // blocked float path for n >= 16 (n draws, plus 16 more when n is not a multiple of 16).
    void fill_normal(float* out, int64_t n, double mean, double std_dev);
    // normal_(mean, std) for float64: the scalar double path for n < 16 (sharing the cache with the
    // float path); for n >= 16 the same blocks of 16 as the float path, in double with libm's log,
    // sin and cos (n double uniforms, plus 16 more when n is not a multiple of 16; 2 draws each).
    void fill_normal(double* out, int64_t n, double mean, double std_dev);

    // randint(low, high): low + r % (high - low), plain modulo, r = random32() when the range is
    // below 2^32 and random64() otherwise. Requires high > low.
    void fill_randint(int64_t* out, int64_t n, int64_t low, int64_t high);

    // bernoulli_(p), dropout's draw: out[i] = u < p, u a 53-bit double uniform (2 draws each).
    // Throws unless 0 <= p <= 1.
    void fill_bernoulli(bool* out, int64_t n, double p);
    // exponential_(1), multinomial's draw: -log(1 - u) in double with u a 53-bit double uniform (2 draws each),
    // rounded to float for the float version.
    void fill_exponential(float* out, int64_t n);
    void fill_exponential(double* out, int64_t n);

    // The whole state (the twister's 624 words, its position, the cached normal), to save and restore a run:
    // set_state(state()) continues the same stream. Throws if `words` is not a state this class wrote.
    static constexpr int kStateWords = 624 + 3;
    std::array<uint64_t, kStateWords> state() const;
    void set_state(const std::array<uint64_t, kStateWords>& words);

private:
    static constexpr int kStateSize = 624;  // MT19937 keeps 624 words of 32 bits

    void twist();                  // regenerate all 624 words at once
    void fill_raw(uint32_t* out, int64_t n);  // n outputs of random32() in a row
    double next_normal();          // one standard normal from the scalar double path (uses the cache)
    float next_float_uniform();    // [0,1), 24 bits
    double next_double_uniform();  // [0,1), 53 bits

    std::array<uint32_t, kStateSize> state_{};
    int next_index_ = kStateSize;  // index of the next word to output; kStateSize forces a twist
    bool has_cached_normal_ = false;
    double cached_normal_ = 0.0;  // second value of the last scalar Box-Muller pair
};

// Process-wide generator used by randn/rand/randint. Like PyTorch's default generator it starts
// from a non-deterministic seed: call manual_seed for reproducible runs.
Generator& default_generator();
void manual_seed(uint64_t seed);  // default_generator().manual_seed(seed)

}  // namespace ag
