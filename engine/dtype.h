// Element types a tensor can hold, and the one place that turns a runtime dtype into a C++ type.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace ag {

// float32 is the working type; float64 exists for gradient checks; int64 holds indices and targets;
// bool holds masks (one byte per element).
enum class DType { Float32, Float64, Int64, Bool };

inline std::size_t dtype_size(DType t) {
    switch (t) {
        case DType::Float32: return 4;
        case DType::Float64: return 8;
        case DType::Int64: return 8;
        case DType::Bool: return 1;
    }
    return 0;
}

// The name PyTorch prints for the dtype ("torch.float32").
inline std::string dtype_name(DType t) {
    switch (t) {
        case DType::Float32: return "torch.float32";
        case DType::Float64: return "torch.float64";
        case DType::Int64: return "torch.int64";
        case DType::Bool: return "torch.bool";
    }
    return "?";
}

inline bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }

// Throws std::invalid_argument "op: value nan cannot be converted to torch.int64 without overflow".
[[noreturn]] void throw_not_representable(double value, DType t, const char* op);

// A number as an element of type T, as PyTorch converts a Python number into a tensor of that dtype: float32
// rounds to nearest (NaN and infinities stay, but a finite value beyond float's range is an error, not inf),
// int64 truncates toward zero (NaN, infinities and values outside int64 are errors), bool is value != 0.
template <typename Scalar>
Scalar to_element(double value, const char* op) {
    if constexpr (std::is_same_v<Scalar, bool>) {
        return value != 0;
    } else if constexpr (std::is_same_v<Scalar, int64_t>) {
        // 2^63 is exactly representable; the range is [-2^63, 2^63), and NaN fails both comparisons.
        if (!(value >= -9223372036854775808.0 && value < 9223372036854775808.0))
            throw_not_representable(value, DType::Int64, op);
        return static_cast<int64_t>(value);
    } else if constexpr (std::is_same_v<Scalar, float>) {
        if (std::isfinite(value) && std::abs(value) > std::numeric_limits<float>::max())
            throw_not_representable(value, DType::Float32, op);
        return static_cast<float>(value);
    } else {
        return value;
    }
}

template <typename Scalar> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::Float32; }
template <> constexpr DType dtype_of<double>() { return DType::Float64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::Int64; }
template <> constexpr DType dtype_of<bool>() { return DType::Bool; }

// Calls fn.template operator()<T>() with T = float or double; any other dtype is a caller error.
//   dispatch_floating(x.dtype(), "exp", [&]<typename T>() { ... });
template <typename Fn>
decltype(auto) dispatch_floating(DType t, const char* op, Fn&& fn) {
    if (t == DType::Float32) return fn.template operator()<float>();
    if (t == DType::Float64) return fn.template operator()<double>();
    throw std::invalid_argument(std::string(op) + ": expected a floating-point tensor; got " + dtype_name(t));
}

// Same for every dtype (bool is stored as one byte, read and written as bool).
template <typename Fn>
decltype(auto) dispatch_all(DType t, Fn&& fn) {
    switch (t) {
        case DType::Float32: return fn.template operator()<float>();
        case DType::Float64: return fn.template operator()<double>();
        case DType::Int64: return fn.template operator()<int64_t>();
        case DType::Bool: break;
    }
    return fn.template operator()<bool>();
}

}  // namespace ag
