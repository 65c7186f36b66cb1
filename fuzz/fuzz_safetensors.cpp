// libFuzzer target for the checkpoint loader: any bytes at all must give a tensor set or a clear
// std::invalid_argument, never a crash, a hang, an out-of-bounds read or a leak (AddressSanitizer watches).
// Run it with `make fuzz` (60 s; FUZZ_SECONDS=n for longer); a crashing input is saved under fuzz/crashes/.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "layers/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // The loader reads from a path: give it this input as a file of its own.
    static const std::string path = "/tmp/attograd-fuzz-" + std::to_string(getpid()) + ".safetensors";
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return 0;
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    try {
        ag::SafetensorsFile file = ag::load_safetensors(path);
        for (auto& [name, t] : file.tensors) (void)t.numel();  // what was loaded is usable
    } catch (const std::invalid_argument&) {
        // a clear refusal is the expected outcome for most inputs
    }
    return 0;
}
