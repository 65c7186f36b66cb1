// Writing a file so that it is never seen half-written: the bytes go to a temporary file beside the target, are
// forced to disk, and the temporary is renamed over the target. A crash, a full disk or an exception at any point
// leaves the old file (or no file) in place, never a truncated one.
#pragma once
#include <cstdio>
#include <functional>
#include <string>

namespace ag {

// Runs `write` on a fresh temporary file beside `path` (it returns false, or throws, to abandon the write), then
// renames the file over `path`. On failure the temporary is removed and std::runtime_error is thrown, naming
// `who` (the caller, e.g. "save_safetensors"), the path and the system's reason.
void write_file_atomically(const std::string& path, const std::function<bool(std::FILE*)>& write,
                           const std::string& who);

// write_file_atomically for a string of text (or bytes).
void write_text_file_atomically(const std::string& path, const std::string& text, const std::string& who);

}  // namespace ag
