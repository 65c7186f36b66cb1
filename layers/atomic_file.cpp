#include "layers/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace ag {

namespace {

std::string errno_text(int err) { return err ? std::strerror(err) : "unknown error"; }

// Makes a completed rename durable. Best effort: the new file is already in place, so a failure is not reported.
void sync_directory(const std::string& path) {
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

}  // namespace

void write_file_atomically(const std::string& path, const std::function<bool(std::FILE*)>& write,
                           const std::string& who) {
    static std::atomic<int> counter{0};  // two threads of one process writing one path get different names
    const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f)
        throw std::runtime_error(who + ": cannot create '" + tmp + "': " + errno_text(errno) + " (file '" + path +
                                 "')");
    bool ok = false;
    int err = 0;
    try {
        errno = 0;
        ok = write(f) && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
        err = errno;
    } catch (...) {
        std::fclose(f);
        std::remove(tmp.c_str());
        throw;
    }
    if (std::fclose(f) != 0 && ok) {  // the last buffered bytes can fail here
        ok = false;
        err = errno;
    }
    if (ok && std::rename(tmp.c_str(), path.c_str()) == 0) return sync_directory(path);
    if (ok) err = errno;  // the rename failed, e.g. `path` is a directory
    std::remove(tmp.c_str());
    throw std::runtime_error(who + ": cannot write '" + path + "': " + errno_text(err));
}

void write_text_file_atomically(const std::string& path, const std::string& text, const std::string& who) {
    write_file_atomically(
        path, [&](std::FILE* f) { return std::fwrite(text.data(), 1, text.size(), f) == text.size(); }, who);
}

}  // namespace ag
