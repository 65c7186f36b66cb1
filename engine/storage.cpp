#include "engine/storage.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace ag {

namespace {
constexpr std::size_t kAlignment = 64;  // a cache line, and enough for any SIMD load
}

Storage::Storage(std::size_t nbytes, bool zero) : nbytes_(nbytes) {
    // aligned_alloc wants a size that is a multiple of the alignment (and not zero).
    std::size_t rounded = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
    data_ = std::aligned_alloc(kAlignment, rounded ? rounded : kAlignment);
    if (!data_) throw std::bad_alloc();
    if (zero) std::memset(data_, 0, nbytes);
}

Storage::~Storage() { std::free(data_); }

}  // namespace ag
