// Shapes, strides and the broadcasting rule shared by every op.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

namespace ag {

// A list of sizes or strides: a std::vector<int64_t> look-alike that keeps up to 5 entries inline, so that making
// a tensor or running an op does not allocate for its shapes. Longer lists move to the heap.
class Shape {
public:
    using value_type = int64_t;
    using iterator = int64_t*;
    using const_iterator = const int64_t*;

    Shape() = default;
    Shape(std::initializer_list<int64_t> values) { append(values.begin(), values.end()); }
    explicit Shape(size_t n, int64_t value = 0) { assign(n, value); }
    template <typename It, typename = std::enable_if_t<!std::is_integral_v<It>>>
    Shape(It first, It last) { append(first, last); }
    Shape(const std::vector<int64_t>& values) { append(values.begin(), values.end()); }  // NOLINT: implicit
    Shape(const Shape& other) { append(other.begin(), other.end()); }
    Shape(Shape&& other) noexcept { take(other); }
    Shape& operator=(const Shape& other);
    Shape& operator=(Shape&& other) noexcept;
    ~Shape() { delete[] heap_; }

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    int64_t* data() { return heap_ ? heap_ : inline_; }
    const int64_t* data() const { return heap_ ? heap_ : inline_; }
    iterator begin() { return data(); }
    iterator end() { return data() + size_; }
    const_iterator begin() const { return data(); }
    const_iterator end() const { return data() + size_; }
    int64_t& operator[](size_t i) { return data()[i]; }
    int64_t operator[](size_t i) const { return data()[i]; }
    int64_t& back() { return data()[size_ - 1]; }
    int64_t back() const { return data()[size_ - 1]; }
    int64_t front() const { return data()[0]; }

    void push_back(int64_t v) { insert(end(), v); }
    void pop_back() { --size_; }
    void clear() { size_ = 0; }
    void assign(size_t n, int64_t value);
    iterator insert(const_iterator pos, int64_t value) { return insert(pos, &value, &value + 1); }
    iterator insert(const_iterator pos, std::initializer_list<int64_t> values) {
        return insert(pos, values.begin(), values.end());
    }
    template <typename It>
    iterator insert(const_iterator pos, It first, It last) {
        const size_t at = pos - begin(), n = std::distance(first, last);
        reserve(size_ + n);
        std::copy_backward(begin() + at, end(), end() + n);
        std::copy(first, last, begin() + at);
        size_ += static_cast<uint32_t>(n);
        return begin() + at;
    }
    iterator erase(const_iterator pos);

    friend bool operator==(const Shape& a, const Shape& b) {  // a plain loop: a call to memcmp costs more here
        if (a.size_ != b.size_) return false;
        for (size_t i = 0; i < a.size_; ++i)
            if (a[i] != b[i]) return false;
        return true;
    }
    friend bool operator!=(const Shape& a, const Shape& b) { return !(a == b); }

private:
    static constexpr uint32_t kInline = 5;  // a tensor's shape and strides fit inline up to 5 dims (no allocation)
    template <typename It>
    void append(It first, It last) { insert(end(), first, last); }
    void reserve(size_t n);
    void take(Shape& other) noexcept;

    int64_t inline_[kInline];
    int64_t* heap_ = nullptr;  // non-null once the list outgrew inline_
    uint32_t size_ = 0, capacity_ = kInline;  // 56 bytes in all: two of them sit in every TensorImpl
};

// "[4, 8, 2]": how shapes appear in every error message.
std::string shape_str(const Shape& shape);
// "1.5", "1e-05", "nan": how a double appears in an error message (the shortest form that reads back).
std::string number_str(double v);

// ---- sizes, with checked arithmetic ------------------------------------------------------------------------------
// A shape is valid when its sizes are non-negative and the product of its sizes, counting a 0 as 1, fits in int64:
// then its element count, every product of some of its sizes and its row-major strides fit too. Every size
// computation of the engine goes through the functions below, which refuse any other shape: a negative size is
// std::invalid_argument, a shape too large to count std::length_error. No count ever wraps around to a smaller one.

// Throws unless `shape` is valid (see above); `op` starts the message.
void check_shape(const Shape& shape, const char* op);

// Product of the sizes (1 for a 0-d shape); checks the shape first.
int64_t numel_of(const Shape& shape);
// Product of the sizes of dims [begin, end): for a dim d, numel_of(shape, 0, d) is the count of slices before it
// ("outer") and numel_of(shape, d + 1, ndim) the elements after it ("inner").
int64_t numel_of(const Shape& shape, int64_t begin, int64_t end);

// Bytes that numel_of(shape) elements of element_size bytes take; std::length_error if that exceeds int64.
int64_t nbytes_of(const Shape& shape, std::size_t element_size);

// a * b for sizes and strides, or std::length_error if it overflows int64 (`op` starts the message).
int64_t checked_mul(int64_t a, int64_t b, const char* op);

// Row-major strides, in elements: shape [4, 8, 2] -> strides [16, 2, 1] (a size 0 steps like a size 1, as in
// PyTorch). Checks the shape.
Shape contiguous_strides(const Shape& shape);

// Maps a possibly negative dim (-1 is the last) into [0, ndim); throws naming `op` if out of range.
int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op);

// NumPy/PyTorch broadcasting: align shapes on the right; each pair of sizes must be equal or one of them 1.
//   [8, 8] and [4, 8, 8] -> [4, 8, 8]; throws "op: shapes cannot be broadcast; got [..] and [..]".
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Strides that read a tensor of (shape, strides) as if it had the larger shape `to`: broadcast dims get stride 0.
Shape broadcast_strides(const Shape& shape, const Shape& strides, const Shape& to);

}  // namespace ag
