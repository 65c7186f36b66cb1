// The atomic write under every checkpoint (io/atomic_file.h), over the files a save meets: a long name, a
// private file, a symbolic link (dangling, chained, looping), a FIFO, threads saving one path at once.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <system_error>
#include <thread>

#include "io/atomic_file.h"
#include "tests/checkpoint_helpers.h"

using namespace checkpoint_test;

namespace {

mode_t permissions(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

// The names in `dir` that are temporaries of the atomic write.
std::vector<std::string> temporaries(const TempDir& dir) {
    std::vector<std::string> out;
    for (const std::string& name : dir.entries())
        if (name.find(".tmp-") != std::string::npos) out.push_back(name);
    return out;
}

// TinyModel's parameters after loading `path`.
std::vector<std::string> loaded(const std::string& path) {
    TinyModel model;
    load_checkpoint(path, model);
    return snapshot(model.named_parameters());
}

}  // namespace

TEST_CASE("save_checkpoint: file names of 245 and 255 characters save and load; the temporary's name stays short",
          "[checkpoint][atomic_file]") {
    TempDir dir;
    TinyModel model;
    for (const std::size_t length : {245, 255}) {  // 255 is NAME_MAX, the longest name a directory entry holds
        const std::string name = std::string(length - 12, 'm') + ".safetensors";
        INFO(length << " characters");
        const std::string path = dir.file(name);
        save_checkpoint(path, model);
        save_checkpoint(path, model);  // over the existing file too
        CHECK(loaded(path) == snapshot(model.named_parameters()));
        CHECK(dir.entries() == std::vector<std::string>{name});
        fs::remove(path);
    }
}

TEST_CASE("save_checkpoint: an existing file keeps its permission bits; a new one gets 0666 less the umask",
          "[checkpoint][atomic_file]") {
    TempDir dir;
    const std::string path = dir.file("model.safetensors");
    TinyModel model;
    const mode_t old_umask = ::umask(022);
    save_checkpoint(path, model);
    CHECK(permissions(path) == 0644);
    for (const mode_t mode : {0600, 0640, 0400}) {  // 0400: even a read-only file is replaced, as before
        INFO("mode 0" << std::oct << mode);
        REQUIRE(::chmod(path.c_str(), mode) == 0);
        save_checkpoint(path, model);
        CHECK(permissions(path) == mode);
    }
    ::umask(077);
    save_checkpoint(dir.file("private.safetensors"), model);
    CHECK(permissions(dir.file("private.safetensors")) == 0600);
    ::umask(old_umask);
    CHECK(loaded(path) == snapshot(model.named_parameters()));
    CHECK(temporaries(dir).empty());
}

TEST_CASE("save_checkpoint: through a symbolic link, the link stays and the file it points to is replaced",
          "[checkpoint][atomic_file]") {
    TempDir dir;
    TinyModel old_model, new_model;
    fs::create_directory(dir.path / "runs");
    const std::string target = dir.file("runs/model.safetensors");
    save_checkpoint(target, old_model);
    REQUIRE(::chmod(target.c_str(), 0600) == 0);

    SECTION("a relative link, a chain of two and an absolute one") {
        fs::create_symlink("runs/model.safetensors", dir.path / "latest");
        fs::create_symlink("latest", dir.path / "chain");
        fs::create_symlink(target, dir.path / "absolute");
        for (const char* link : {"latest", "chain", "absolute"}) {
            INFO(link);
            save_checkpoint(dir.file(link), old_model);
            save_checkpoint(dir.file(link), new_model);
            CHECK(fs::is_symlink(dir.path / link));
            CHECK(loaded(target) == snapshot(new_model.named_parameters()));
            CHECK(permissions(target) == 0600);
        }
        CHECK(fs::read_symlink(dir.path / "latest") == "runs/model.safetensors");
        CHECK(resolve_links(dir.file("chain")) == (dir.path / "runs/model.safetensors").string());
    }
    SECTION("a dangling link gets the file it names created, as cp does") {
        fs::create_symlink("runs/next.safetensors", dir.path / "next");
        save_checkpoint(dir.file("next"), new_model);
        CHECK(fs::is_symlink(dir.path / "next"));
        CHECK(loaded(dir.file("runs/next.safetensors")) == snapshot(new_model.named_parameters()));
        fs::create_symlink("no/such/dir/x.safetensors", dir.path / "nowhere");
        REQUIRE_THROWS_WITH(save_checkpoint(dir.file("nowhere"), new_model),
                            Catch::Contains("save_safetensors: cannot create") &&
                                Catch::Contains("(a link to '" + dir.file("no/such/dir/x.safetensors") + "')") &&
                                Catch::Contains("No such file or directory"));
        CHECK(fs::is_symlink(dir.path / "nowhere"));
    }
    SECTION("a loop of links is refused, and stays as it was") {
        fs::create_symlink("b", dir.path / "a");
        fs::create_symlink("a", dir.path / "b");
        try {
            save_checkpoint(dir.file("a"), new_model);
            FAIL("the save went through a loop of links");
        } catch (const std::system_error& e) {
            CHECK(e.code() == std::errc::too_many_symbolic_link_levels);
            CHECK_THAT(e.what(), Catch::Contains("save_safetensors: cannot follow the links from '" + dir.file("a")));
        }
        CHECK(fs::read_symlink(dir.path / "a") == "b");
        CHECK(fs::read_symlink(dir.path / "b") == "a");
    }
    CHECK(temporaries(dir).empty());
    for (const auto& e : fs::directory_iterator(dir.path / "runs"))
        CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
}

TEST_CASE("save_checkpoint: a failed save through a link leaves the link, and its file byte for byte",
          "[checkpoint][atomic_file]") {
    TempDir dir;
    TinyModel old_model;
    const std::string target = dir.file("model.safetensors"), link = dir.file("latest");
    save_checkpoint(target, old_model);
    REQUIRE(::chmod(target.c_str(), 0600) == 0);
    fs::create_symlink("model.safetensors", link);
    const std::string old_bytes = read_bytes(target);
    const auto half_then = [](bool throws) {
        return [throws](std::FILE* f) {
            std::fputs("half a checkpoint", f);
            if (throws) throw std::runtime_error("the writer gave up");
            return false;
        };
    };
    REQUIRE_THROWS_WITH(write_file_atomically(link, half_then(true), "save_safetensors"), "the writer gave up");
    REQUIRE_THROWS_AS(write_file_atomically(link, half_then(false), "save_safetensors"), std::system_error);
    CHECK(fs::is_symlink(link));
    CHECK(read_bytes(target) == old_bytes);
    CHECK(permissions(target) == 0600);
    CHECK(loaded(link) == snapshot(old_model.named_parameters()));
    CHECK(temporaries(dir).empty());
}

TEST_CASE("save_checkpoint: only a regular file is replaced; a FIFO or a directory stays, with the system's reason",
          "[checkpoint][atomic_file]") {
    TempDir dir;
    TinyModel model;
    const std::string fifo = dir.file("fifo"), directory = dir.file("dir.safetensors");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    fs::create_directory(directory);
    try {
        save_checkpoint(fifo, model);
        FAIL("a FIFO was replaced");
    } catch (const std::system_error& e) {
        CHECK(e.code() == std::errc::invalid_argument);
        CHECK_THAT(e.what(), Catch::Contains("save_safetensors: cannot write '" + fifo + "' (not a regular file)"));
    }
    try {
        save_checkpoint(directory, model);
        FAIL("a directory was replaced");
    } catch (const std::system_error& e) {
        CHECK(e.code() == std::errc::is_a_directory);
    }
    try {
        save_checkpoint(dir.file("no/such/model.safetensors"), model);
        FAIL("a file was saved in a missing directory");
    } catch (const std::system_error& e) {
        CHECK(e.code() == std::errc::no_such_file_or_directory);
    }
    CHECK(fs::is_fifo(fifo));
    CHECK(fs::is_directory(directory));
    CHECK(temporaries(dir).empty());
}

TEST_CASE("write_file_atomically: threads saving one path at once each use a temporary of their own",
          "[checkpoint][atomic_file]") {
    TempDir dir;
    const std::string path = dir.file("shared.txt");
    constexpr int kThreads = 4, kWrites = 25;
    const std::string filler(4096, '.');  // long enough that writes overlap in time
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < kWrites; ++i) write_text_file_atomically(path, std::to_string(t) + filler, "test");
        });
    for (std::thread& thread : threads) thread.join();
    const std::string text = read_bytes(path);  // one whole write, never two mixed
    REQUIRE(text.size() == 1 + filler.size());
    CHECK((text[0] >= '0' && text[0] < '0' + kThreads));
    CHECK(text.substr(1) == filler);
    CHECK(dir.entries() == std::vector<std::string>{"shared.txt"});
}
