// libFuzzer target for the checkpoint loader: any bytes at all must give a tensor set or a clear
// std::invalid_argument, never a crash, a hang, an out-of-bounds read, undefined behaviour or a leak (AddressSanitizer
// and UBSan watch). Run it with `make fuzz` (60 s; FUZZ_SECONDS=n for longer); a crashing input is saved under
// fuzz/crashes/.
//
// Each input is loaded twice: as a whole file, and as a header alone (after a length field that fits it, with an
// empty data buffer). The second way lets a mutation of the JSON reach the header's checks without having to keep
// the length field in step (the seed header.json is such an input); the dictionary fuzz/safetensors.dict gives the
// mutations the format's tokens.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "io/safetensors.h"

namespace {

// Loads `bytes` as a safetensors file: a refusal is fine, anything but std::invalid_argument fails the run.
void load(const std::string& bytes) {
    // The loader reads from a path: give it these bytes as a file of its own.
    static const std::string path = "/tmp/attograd-fuzz-" + std::to_string(getpid()) + ".safetensors";
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return;
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    try {
        ag::SafetensorsFile file = ag::load_safetensors(path);
        for (auto& [name, t] : file.tensors) (void)t.numel();  // what was loaded is usable
    } catch (const std::invalid_argument&) {
        // a clear refusal is the expected outcome for most inputs
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    load(input);
    std::string length;  // the header-length field: 8 bytes, little-endian
    for (int i = 0; i < 8; ++i) length += static_cast<char>((static_cast<uint64_t>(size) >> (8 * i)) & 0xff);
    load(length + input);
    return 0;
}
