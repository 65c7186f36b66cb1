// The measuring helpers both timing programs share (bench_step.cpp, ours; bench_libtorch.cpp, PyTorch's C++ API),
// so that their figures are computed alike.
#pragma once
#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The value at quantile q of `v` (0.5: median), interpolated linearly between neighbours as numpy does by default.
inline double quantile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    const double pos = q * static_cast<double>(v.size() - 1);
    const size_t lo = static_cast<size_t>(pos);
    const size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

// A field of /proc/self/status in MB: "VmRSS" (resident now) or "VmHWM" (peak resident so far).
inline double status_mb(const std::string& field) {
    std::ifstream status("/proc/self/status");
    std::string key;
    double kb = 0;
    while (status >> key) {
        if (key == field + ":") {
            status >> kb;
            return kb / 1024.0;
        }
        std::getline(status, key);
    }
    return -1;
}

}  // namespace bench
