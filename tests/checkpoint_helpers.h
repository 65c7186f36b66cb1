// Helpers shared by test_safetensors.cpp and test_checkpoint.cpp: a temporary directory, raw file bytes, a tiny
// model, bit-level snapshots, and the check that a damaged file is refused without touching the model.
#pragma once
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "io/checkpoint.h"
#include "layers/layers.h"

namespace checkpoint_test {

using namespace ag;
namespace fs = std::filesystem;

// Parameters "fc1.weight" (3, 4), "fc1.bias" (3), "fc2.weight" (2, 3); each instance draws fresh random values.
struct TinyModel : Module {
    Linear fc1{4, 3};
    Linear fc2{3, 2, false};
    TinyModel() {
        register_module("fc1", fc1);
        register_module("fc2", fc2);
    }
};

// A fresh directory under the system's temporary directory, removed with everything in it at the end of the test.
struct TempDir {
    fs::path path;
    TempDir() {
        static int count = 0;  // several TempDirs in one process get different names
        path = fs::temp_directory_path() /
               ("attograd-checkpoint-" + std::to_string(::getpid()) + "-" + std::to_string(count++));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
    std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(path)) names.push_back(e.path().filename().string());
        return names;
    }
};

inline std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// n as 8 little-endian bytes: the header-length field.
inline std::string u64_le(uint64_t n) {
    std::string out;
    for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
    return out;
}

// A safetensors file from its header text and data buffer.
inline std::string safetensors_bytes(const std::string& header, const std::string& data) {
    return u64_le(header.size()) + header + data;
}

inline std::string raw_bytes(const Tensor& t) {
    const Tensor dense = t.contiguous();
    const char* p = static_cast<const char*>(dense.impl().storage->data()) + dense.offset() * dtype_size(dense.dtype());
    return std::string(p, static_cast<std::size_t>(dense.numel()) * dtype_size(dense.dtype()));
}

// Same shape, dtype and bits (memcmp), not merely close values.
inline bool same_bits(const Tensor& a, const Tensor& b) {
    if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
    const std::string x = raw_bytes(a), y = raw_bytes(b);
    return std::memcmp(x.data(), y.data(), x.size()) == 0;
}

// Every tensor's bits, to compare a model (or optimiser) before and after a refused load.
inline std::vector<std::string> snapshot(const NamedTensors& tensors) {
    std::vector<std::string> out;
    for (const auto& named : tensors) out.push_back(named.first + ":" + raw_bytes(named.second));
    return out;
}

// Loading `bytes` into a TinyModel throws std::invalid_argument whose message contains `expected`, and every
// parameter keeps its bits.
inline void require_refused(const TempDir& dir, const std::string& bytes, const std::string& expected) {
    INFO("expected message: " << expected);
    const std::string path = dir.file("bad.safetensors");
    write_bytes(path, bytes);
    TinyModel model;
    const auto before = snapshot(model.named_parameters());
    REQUIRE_THROWS_AS(load_checkpoint(path, model), std::invalid_argument);
    REQUIRE_THROWS_WITH(load_checkpoint(path, model), Catch::Contains(expected) && Catch::Contains(path));
    REQUIRE(snapshot(model.named_parameters()) == before);
}

// A header entry {"dtype": .., "shape": .., "data_offsets": ..} as JSON text.
inline std::string entry(const std::string& dtype, const std::string& shape, const std::string& offsets) {
    return R"({"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":)" + offsets + "}";
}

}  // namespace checkpoint_test
