#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <system_error>

namespace ag {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxLinks = 40;          // as Linux's path lookup, which gives ELOOP past 40 links
constexpr int kMaxNameAttempts = 100;  // names already taken (leftovers of killed writers) before giving up

// Throws the system's error `err` (EIO if none was recorded) after `what`: "what: No space left on device".
[[noreturn]] void fail(int err, const std::string& what) {
    throw std::system_error(err ? err : EIO, std::generic_category(), what);
}

// Makes a completed rename durable. Best effort: the new file is already in place, so a failure is not reported.
void sync_directory(const std::string& path) {
    const fs::path dir = fs::path(path).parent_path();
    int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

// Creates a file no one else has in the directory of `target`, open for writing, with mode 0666 less the umask (as
// any new file); its name goes to `tmp`. The pid tells processes apart and the counter threads; O_EXCL makes sure
// of it (a name left by a killed writer whose pid came round again is skipped). -1 and errno on failure.
int create_temporary(const std::string& target, std::string& tmp) {
    static std::atomic<unsigned> counter{0};
    const fs::path dir = fs::path(target).parent_path();
    for (int attempt = 1;; ++attempt) {
        tmp = (dir / (".attograd.tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++))).string();
        const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST || attempt == kMaxNameAttempts) return fd;
    }
}

// The temporary file for replacing `target`, open for writing. It gets the permission bits of the file it will
// replace (exactly: fchmod is past the umask), or 0666 less the umask when there is none. Throws as
// write_file_atomically does, `named` being how its messages name the target.
std::FILE* open_temporary(const std::string& target, const std::string& named, const std::string& who,
                          std::string& tmp) {
    struct stat old {};
    const bool replacing = ::stat(target.c_str(), &old) == 0;
    if (replacing && !S_ISREG(old.st_mode))  // rename would replace a device or a FIFO too, and fail on a directory
        fail(S_ISDIR(old.st_mode) ? EISDIR : EINVAL, who + ": cannot write " + named + " (not a regular file)");
    const int fd = create_temporary(target, tmp);
    if (fd < 0) fail(errno, who + ": cannot create '" + tmp + "' to write " + named);
    const bool mode_kept = !replacing || ::fchmod(fd, old.st_mode & 07777) == 0;
    std::FILE* f = mode_kept ? ::fdopen(fd, "wb") : nullptr;
    if (f) return f;
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    fail(err, who + ": cannot prepare '" + tmp + "' to write " + named);
}

}  // namespace

std::string resolve_links(const std::string& path, const std::string& who) {
    fs::path file = path;
    for (int links = 0;; ++links) {
        std::error_code ec;
        // Not a link: a file, nothing yet (a dangling link's end), or unreachable (the write will say why).
        if (!fs::is_symlink(fs::symlink_status(file, ec))) return file.string();
        if (links == kMaxLinks) fail(ELOOP, who + ": cannot follow the links from '" + path + "'");
        const fs::path next = fs::read_symlink(file, ec);
        if (ec) fail(ec.value(), who + ": cannot read the link '" + file.string() + "'");
        file = next.is_absolute() ? next : file.parent_path() / next;  // relative to the link's own directory
    }
}

void write_file_atomically(const std::string& path, const std::function<bool(std::FILE*)>& write,
                           const std::string& who) {
    const std::string target = resolve_links(path, who);
    const std::string named = target == path ? "'" + path + "'" : "'" + path + "' (a link to '" + target + "')";
    std::string tmp;
    std::FILE* f = open_temporary(target, named, who, tmp);
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
    if (ok && std::rename(tmp.c_str(), target.c_str()) == 0) return sync_directory(target);
    if (ok) err = errno;  // the rename failed, e.g. the target became a directory meanwhile
    std::remove(tmp.c_str());
    fail(err, who + ": cannot write " + named);
}

void write_text_file_atomically(const std::string& path, const std::string& text, const std::string& who) {
    write_file_atomically(
        path, [&](std::FILE* f) { return std::fwrite(text.data(), 1, text.size(), f) == text.size(); }, who);
}

}  // namespace ag
