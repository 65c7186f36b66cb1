// The flat, 64-byte-aligned buffer behind one or more tensors (views share it).
#pragma once
#include <cstddef>
#include <memory>

namespace ag {

class Storage {
public:
    // zero = true fills the buffer with zero bytes (0.0, 0, false for every dtype).
    Storage(std::size_t nbytes, bool zero);
    ~Storage();
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;

    void* data() const { return data_; }
    std::size_t nbytes() const { return nbytes_; }

private:
    void* data_;
    std::size_t nbytes_;
};

}  // namespace ag
