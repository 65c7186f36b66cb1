// Writing a file so that it is never seen half-written: the bytes go to a temporary file beside the target, are
// forced to disk, and the temporary is renamed over the target. A crash, a full disk or an exception at any point
// leaves the old file (or no file) in place, never a truncated one.
//
// The temporary is `.attograd.tmp-<pid>-<n>` in the target's directory: a short name (it fits wherever the target's
// name fits), created exclusively (no two writers, threads or processes, ever share one). A process killed mid-write
// leaves it behind, safe to delete. What the rename puts in place looks like what it replaces:
//   - it keeps the old file's permission bits (a private 0600 checkpoint stays private); a new file gets
//     0666 less the umask, as any newly created file does;
//   - when `path` is a symbolic link, the file it points to is replaced and the link stays a link, as `cp` writes
//     through one; a dangling link gets the file it names created.
// Hard links to the old file keep the old contents (the rename gives the path a new file), and so do other
// processes that have the old file open.
#pragma once
#include <cstdio>
#include <functional>
#include <string>

namespace ag {

// Runs `write` on a fresh temporary file beside the file `path` names (it returns false, or throws, to abandon the
// write), then renames it over that file. On failure the temporary is removed and std::system_error (a
// std::runtime_error) is thrown with the system's error code, naming `who` (the caller, e.g. "save_safetensors")
// and the path; an exception from `write` passes through unchanged. Refuses to replace a directory or any other
// file that is not a regular file (EISDIR, EINVAL).
void write_file_atomically(const std::string& path, const std::function<bool(std::FILE*)>& write,
                           const std::string& who);

// write_file_atomically for a string of text (or bytes).
void write_text_file_atomically(const std::string& path, const std::string& text, const std::string& who);

// The file that write_file_atomically(path, ...) replaces: `path` itself, or, when it is a symbolic link, the file
// at the end of its chain of links (which may not exist yet). Throws std::system_error (ELOOP), naming `who`, for
// a chain of more than 40 links, the limit of Linux's own path lookup.
std::string resolve_links(const std::string& path, const std::string& who = "resolve_links");

}  // namespace ag
