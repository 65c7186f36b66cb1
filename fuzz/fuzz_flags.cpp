// libFuzzer target for the trainer's flag parser: any argument list must give either options inside their
// documented ranges or a clear message with exit code 0 (--help) or 2 (a bad flag), never a crash or a hang.
// The input's bytes are split at NUL bytes into arguments. Run it with `make fuzz`.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "examples/support/options.h"
#include "examples/support/tasks.h"

namespace {

// A broken promise of parse_options: abort, which libFuzzer reports with the input that caused it.
void require(bool ok) {
    if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::vector<std::string> args{"train"};
    std::string current;
    for (size_t i = 0; i < size; ++i) {
        if (data[i] == 0) {
            args.push_back(current);
            current.clear();
        } else {
            current += static_cast<char>(data[i]);
        }
    }
    args.push_back(current);
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());

    const trainer::ParsedOptions parsed = trainer::parse_options(static_cast<int>(argv.size()), argv.data());
    if (!parsed.run) {
        require(parsed.exit_code == 0 || parsed.exit_code == 2);
        require(!parsed.message.empty());
        return 0;
    }
    const trainer::Options& o = parsed.options;
    (void)trainer::find_task(o.task);  // throws (and so fails the run) if an unknown task got through
    require(o.steps >= 1 && o.steps <= 10'000'000);
    require(std::isfinite(o.lr) && o.lr > 0 && o.lr <= 10);
    require(o.seed <= 4294967295u);
    require(o.threads >= 1 && o.threads <= 256);
    require(o.heads >= 1 && o.heads <= 16);
    require(o.batch >= 1 && o.batch <= 65536);
    return 0;
}
