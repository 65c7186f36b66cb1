#include "engine/shape.h"

#include <charconv>
#include <stdexcept>

namespace ag {

Shape& Shape::operator=(const Shape& other) {
    if (this != &other) {
        clear();
        append(other.begin(), other.end());
    }
    return *this;
}

Shape& Shape::operator=(Shape&& other) noexcept {
    if (this != &other) {
        delete[] heap_;
        heap_ = nullptr;
        capacity_ = kInline;
        take(other);
    }
    return *this;
}

void Shape::take(Shape& other) noexcept {
    size_ = other.size_;
    if (other.heap_) {  // steal the heap buffer
        heap_ = other.heap_;
        capacity_ = other.capacity_;
        other.heap_ = nullptr;
        other.capacity_ = kInline;
    } else {
        std::copy(other.inline_, other.inline_ + size_, inline_);
    }
    other.size_ = 0;
}

void Shape::reserve(size_t n) {
    if (n <= capacity_) return;
    if (n > UINT32_MAX) throw std::length_error("shape: more than 2^32 dims");
    const size_t capacity = std::min<size_t>(std::max<size_t>(n, 2 * size_t{capacity_}), UINT32_MAX);
    int64_t* grown = new int64_t[capacity];
    std::copy(begin(), end(), grown);
    delete[] heap_;
    heap_ = grown;
    capacity_ = static_cast<uint32_t>(capacity);
}

void Shape::assign(size_t n, int64_t value) {
    clear();
    reserve(n);
    std::fill(begin(), begin() + n, value);
    size_ = static_cast<uint32_t>(n);
}

Shape::iterator Shape::erase(const_iterator pos) {
    const size_t at = pos - begin();
    std::copy(begin() + at + 1, end(), begin() + at);
    --size_;
    return begin() + at;
}

std::string shape_str(const Shape& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

std::string number_str(double v) {
    char buf[32];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

int64_t checked_mul(int64_t a, int64_t b, const char* op) {
    int64_t product;
    if (__builtin_mul_overflow(a, b, &product))
        throw std::length_error(std::string(op) + ": " + std::to_string(a) + " * " + std::to_string(b) +
                                " overflows a 64-bit size");
    return product;
}

void check_shape(const Shape& shape, const char* op) {
    int64_t span = 1;  // the product of the sizes with 0 counted as 1: the largest row-major stride times its size
    for (int64_t s : shape) {
        if (s < 0) throw std::invalid_argument(std::string(op) + ": sizes must be non-negative; got " + shape_str(shape));
        if (s > 1 && __builtin_mul_overflow(span, s, &span))
            throw std::length_error(std::string(op) + ": shape " + shape_str(shape) +
                                    " has more elements than a 64-bit size can count");
    }
}

int64_t numel_of(const Shape& shape) {
    check_shape(shape, "numel");
    int64_t n = 1;
    for (int64_t s : shape) n *= s;  // cannot overflow: check_shape bounded the product
    return n;
}

int64_t numel_of(const Shape& shape, int64_t begin, int64_t end) {
    check_shape(shape, "numel");
    int64_t n = 1;
    for (int64_t d = begin; d < end; ++d) n *= shape[d];
    return n;
}

int64_t nbytes_of(const Shape& shape, std::size_t element_size) {
    int64_t bytes;
    if (__builtin_mul_overflow(numel_of(shape), static_cast<int64_t>(element_size), &bytes))
        throw std::length_error("shape " + shape_str(shape) + " of " + std::to_string(element_size) +
                                "-byte elements takes more bytes than a 64-bit size can count");
    return bytes;
}

Shape contiguous_strides(const Shape& shape) {
    check_shape(shape, "strides");
    Shape strides(shape.size());
    int64_t step = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        strides[i] = step;
        step *= shape[i] > 0 ? shape[i] : 1;
    }
    return strides;
}

int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op) {
    // A 0-d tensor accepts dim 0 and -1, as in PyTorch.
    int64_t range = ndim > 0 ? ndim : 1;
    if (dim < -range || dim >= range)
        throw std::invalid_argument(std::string(op) + ": dim out of range (expected to be in [" + std::to_string(-range) +
                                    ", " + std::to_string(range - 1) + "]); got " + std::to_string(dim));
    return dim < 0 ? dim + range : dim;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
    size_t n = std::max(a.size(), b.size());
    Shape out(n);
    for (size_t i = 0; i < n; ++i) {
        int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
        int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
        if (da != db && da != 1 && db != 1)
            throw std::invalid_argument(std::string(op) + ": shapes cannot be broadcast; got " + shape_str(a) + " and " +
                                        shape_str(b));
        out[i] = da == 1 ? db : da;
    }
    return out;
}

Shape broadcast_strides(const Shape& shape, const Shape& strides, const Shape& to) {
    Shape out(to.size(), 0);
    size_t lead = to.size() - shape.size();
    for (size_t i = 0; i < shape.size(); ++i) out[lead + i] = shape[i] == 1 ? 0 : strides[i];
    return out;
}

}  // namespace ag
