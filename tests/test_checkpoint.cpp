// Checkpoints: a model and its AdamW state round-trip bit for bit (and training resumes exactly), a file that does
// not match the model is refused naming the tensors, and a failed save never damages the previous checkpoint.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/wait.h>

#include <csignal>

#include "io/atomic_file.h"
#include "tests/checkpoint_helpers.h"

using namespace checkpoint_test;

namespace {

// One AdamW step of `model` on a fixed random loss (the same for every call with the same seed).
void train_step(Head& model, Optimizer& opt, uint64_t seed) {
    Generator gen;
    gen.manual_seed(seed);
    opt.zero_grad();
    Tensor loss = (model(randn({2, 3, 8}, DType::Float32, &gen)) * randn({2, 3, 4}, DType::Float32, &gen)).sum();
    loss.backward();
    opt.step();
}

}  // namespace

TEST_CASE("checkpoint: a saved model loads bit for bit into a differently initialised one", "[checkpoint]") {
    TempDir dir;
    const std::string path = dir.file("model.safetensors");
    TinyModel saved;
    save_checkpoint(path, saved, nullptr, {{"epoch", "7"}});
    TinyModel loaded;
    REQUIRE_FALSE(same_bits(loaded.fc1.weight, saved.fc1.weight));
    load_checkpoint(path, loaded);
    const auto a = saved.named_parameters(), b = loaded.named_parameters();
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO(a[i].first);
        CHECK(same_bits(a[i].second, b[i].second));
        CHECK(b[i].second.requires_grad());  // still the model's own parameters, written in place
    }
    CHECK(load_safetensors(path).metadata == std::map<std::string, std::string>{{"epoch", "7"}, {"format", "pt"}});
    CHECK(dir.entries() == std::vector<std::string>{"model.safetensors"});  // no temporary file left behind

    SECTION("a float64 model round-trips too") {
        saved.to(DType::Float64);
        loaded.to(DType::Float64);
        loaded.fc2.weight.detach().fill_(0);
        save_checkpoint(path, saved);
        load_checkpoint(path, loaded);
        CHECK(same_bits(saved.fc2.weight, loaded.fc2.weight));
    }
}

TEST_CASE("checkpoint: AdamW's state is saved under 'optimizer.' names and training resumes bit for bit",
          "[checkpoint]") {
    TempDir dir;
    const std::string path = dir.file("train.safetensors");
    Head saved(8, 4);
    AdamW saved_opt(saved.named_parameters(), 0.1);
    train_step(saved, saved_opt, 1);
    train_step(saved, saved_opt, 2);
    save_checkpoint(path, saved, &saved_opt);

    std::vector<std::string> names;
    for (const auto& named : load_safetensors(path).tensors) names.push_back(named.first);
    CHECK(names == std::vector<std::string>{
                       "key.weight", "query.weight", "value.weight", "optimizer.step", "optimizer.exp_avg.key.weight",
                       "optimizer.exp_avg_sq.key.weight", "optimizer.exp_avg.query.weight",
                       "optimizer.exp_avg_sq.query.weight", "optimizer.exp_avg.value.weight",
                       "optimizer.exp_avg_sq.value.weight"});

    Head loaded(8, 4);
    AdamW loaded_opt(loaded.named_parameters(), 0.1);
    load_checkpoint(path, loaded, &loaded_opt);
    CHECK(snapshot(loaded.named_parameters()) == snapshot(saved.named_parameters()));
    CHECK(snapshot(loaded_opt.state()) == snapshot(saved_opt.state()));
    CHECK(loaded_opt.step_count() == 2);
    train_step(saved, saved_opt, 3);  // the same third step from the original and from the checkpoint
    train_step(loaded, loaded_opt, 3);
    CHECK(snapshot(loaded.named_parameters()) == snapshot(saved.named_parameters()));
    CHECK(snapshot(loaded_opt.state()) == snapshot(saved_opt.state()));

    SECTION("without an optimiser, the optimiser state in the file is skipped") {
        Head inference(8, 4);
        load_checkpoint(path, inference);
        const auto a = inference.named_parameters(), b = loaded.named_parameters();
        CHECK_FALSE(same_bits(a[0].second, b[0].second));  // loaded has taken a step since
        save_checkpoint(path, saved, &saved_opt);
        load_checkpoint(path, inference);
        CHECK(snapshot(inference.named_parameters()) == snapshot(saved.named_parameters()));
    }
    SECTION("a model-only checkpoint lacks the optimiser state, and nothing is loaded") {
        const std::string model_only = dir.file("model.safetensors");
        save_checkpoint(model_only, saved);
        Head other(8, 4);
        AdamW other_opt(other.named_parameters());
        const auto before = snapshot(other.named_parameters());
        REQUIRE_THROWS_WITH(load_checkpoint(model_only, other, &other_opt),
                            Catch::Contains("load_checkpoint: missing tensors 'optimizer.step', "
                                            "'optimizer.exp_avg.key.weight', 'optimizer.exp_avg_sq.key.weight'"));
        CHECK(snapshot(other.named_parameters()) == before);
    }
    SECTION("a bad optimiser tensor is found before any parameter is written") {
        NamedTensors tensors = saved.named_parameters();
        for (auto& [name, t] : saved_opt.state()) tensors.emplace_back("optimizer." + name, t);
        Head other(8, 4);
        AdamW other_opt(other.named_parameters());
        const auto before = snapshot(other.named_parameters());
        const auto before_opt = snapshot(other_opt.state());
        REQUIRE(tensors[4].first == "optimizer.exp_avg.key.weight");
        tensors[4].second = zeros({4, 9});
        save_safetensors(path, tensors);
        REQUIRE_THROWS_WITH(load_checkpoint(path, other, &other_opt),
                            Catch::Contains("load_checkpoint: 'optimizer.exp_avg.key.weight' has shape [4, 9] in the "
                                            "file but [4, 8] in the optimizer"));
        tensors[4].second = zeros({4, 8});
        tensors[3].second = tensor(2.0);
        save_safetensors(path, tensors);
        REQUIRE_THROWS_WITH(load_checkpoint(path, other, &other_opt),
                            Catch::Contains("load_checkpoint: 'optimizer.step' has dtype torch.float32 in the file but "
                                            "torch.int64 in the optimizer"));
        tensors[3].second = tensor(2.0, DType::Int64);
        tensors.emplace_back("optimizer.momentum_buffer.key.weight", zeros({4, 8}));
        save_safetensors(path, tensors);
        REQUIRE_THROWS_WITH(load_checkpoint(path, other, &other_opt),
                            Catch::Contains("load_checkpoint: unexpected tensor 'optimizer.momentum_buffer.key.weight' "
                                            "(not in the model or the optimizer)"));
        CHECK(snapshot(other.named_parameters()) == before);
        CHECK(snapshot(other_opt.state()) == before_opt);
    }
}

TEST_CASE("checkpoint: SGD's momentum state loads into a fresh SGD and training resumes bit for bit", "[checkpoint]") {
    TempDir dir;
    const std::string path = dir.file("sgd.safetensors");
    Head saved(8, 4);
    // dampening makes a buffer's first step (buf = g) differ from later ones (buf = m buf + (1 - d) g): the
    // checkpoint must carry which buffers have started
    SGD saved_opt(saved.named_parameters(), 0.1, /*momentum=*/0.9, /*weight_decay=*/0.01, /*dampening=*/0.3);
    train_step(saved, saved_opt, 1);
    train_step(saved, saved_opt, 2);
    save_checkpoint(path, saved, &saved_opt);

    Head loaded(8, 4);
    SGD loaded_opt(loaded.named_parameters(), 0.1, 0.9, 0.01, 0.3);
    load_checkpoint(path, loaded, &loaded_opt);
    CHECK(snapshot(loaded_opt.state()) == snapshot(saved_opt.state()));
    train_step(saved, saved_opt, 3);
    train_step(loaded, loaded_opt, 3);
    CHECK(snapshot(loaded.named_parameters()) == snapshot(saved.named_parameters()));
    CHECK(snapshot(loaded_opt.state()) == snapshot(saved_opt.state()));

    SECTION("a checkpoint saved before any step restarts every buffer at its first step") {
        Head fresh(8, 4);
        SGD fresh_opt(fresh.named_parameters(), 0.1, 0.9, 0.01, 0.3);
        save_checkpoint(path, fresh, &fresh_opt);
        Head again(8, 4);
        SGD again_opt(again.named_parameters(), 0.1, 0.9, 0.01, 0.3);
        load_checkpoint(path, again, &again_opt);
        train_step(fresh, fresh_opt, 4);
        train_step(again, again_opt, 4);
        CHECK(snapshot(again.named_parameters()) == snapshot(fresh.named_parameters()));
    }
}

TEST_CASE("checkpoint: a file that does not match the model is refused, naming the tensors", "[checkpoint]") {
    TempDir dir;
    TinyModel source;
    NamedTensors good = source.named_parameters();  // fc1.weight, fc1.bias, fc2.weight

    NamedTensors missing(good.begin(), good.begin() + 2);
    save_safetensors(dir.file("missing.safetensors"), missing);
    require_refused(dir, read_bytes(dir.file("missing.safetensors")), "load_checkpoint: missing tensor 'fc2.weight'");

    NamedTensors wrong_shape = good;
    wrong_shape[0].second = zeros({3, 5});
    save_safetensors(dir.file("shape.safetensors"), wrong_shape);
    require_refused(dir, read_bytes(dir.file("shape.safetensors")),
                    "load_checkpoint: 'fc1.weight' has shape [3, 5] in the file but [3, 4] in the model");

    NamedTensors wrong_dtype = good;
    wrong_dtype[1].second = zeros({3}, DType::Float64);
    save_safetensors(dir.file("dtype.safetensors"), wrong_dtype);
    require_refused(dir, read_bytes(dir.file("dtype.safetensors")),
                    "load_checkpoint: 'fc1.bias' has dtype torch.float64 in the file but torch.float32 in the model");

    NamedTensors extra = good;
    extra.emplace_back("fc3.weight", zeros({1}));
    extra.emplace_back("head.bias", zeros({1}));
    save_safetensors(dir.file("extra.safetensors"), extra);
    require_refused(dir, read_bytes(dir.file("extra.safetensors")),
                    "load_checkpoint: unexpected tensors 'fc3.weight', 'head.bias' (not in the model)");

    TinyModel model;
    REQUIRE_THROWS_WITH(load_checkpoint(dir.file("nowhere.safetensors"), model),
                        Catch::Contains("cannot open the file") && Catch::Contains("nowhere.safetensors"));
    REQUIRE_THROWS_WITH(load_checkpoint(dir.path.string(), model), Catch::Contains("not a regular file"));
}

TEST_CASE("checkpoint: a failed save leaves the old checkpoint intact and no temporary file", "[checkpoint]") {
    TempDir dir;
    const std::string path = dir.file("model.safetensors");
    TinyModel old_model;
    save_checkpoint(path, old_model);
    const std::string old_bytes = read_bytes(path);
    TinyModel new_model;

    SECTION("the disk fills up part way through the write") {
        // A file-size limit below the checkpoint's size fails the write with EFBIG, as a full disk fails it with
        // ENOSPC; SIGXFSZ, which would end the process, is ignored meanwhile.
        rlimit old_limit{};
        REQUIRE(getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
        auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit small = old_limit;
        small.rlim_cur = 100;
        REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
        std::string message = "(no error)";
        try {
            save_checkpoint(path, new_model);
        } catch (const std::runtime_error& e) {
            message = e.what();
        }
        setrlimit(RLIMIT_FSIZE, &old_limit);
        std::signal(SIGXFSZ, old_handler);
        CHECK_THAT(message, Catch::Contains("save_safetensors: cannot write '" + path + "'") &&
                                Catch::Contains("File too large"));
    }
    SECTION("the final rename fails (the target is a directory)") {
        const std::string target = dir.file("dir.safetensors");
        fs::create_directory(target);
        REQUIRE_THROWS_WITH(save_checkpoint(target, new_model), Catch::Contains("cannot write '" + target + "'"));
        CHECK(fs::is_directory(target));
        CHECK(fs::is_empty(target));
    }
    SECTION("the directory does not exist") {
        REQUIRE_THROWS_WITH(save_checkpoint(dir.file("no/such/model.safetensors"), new_model),
                            Catch::Contains("save_safetensors: cannot create"));
    }
    CHECK(read_bytes(path) == old_bytes);
    for (const std::string& name : dir.entries()) CHECK(name.find(".tmp-") == std::string::npos);
    TinyModel check;
    load_checkpoint(path, check);
    CHECK(snapshot(check.named_parameters()) == snapshot(old_model.named_parameters()));
}

TEST_CASE("checkpoint: a process killed in the middle of a save leaves the previous checkpoint intact",
          "[checkpoint]") {
    TempDir dir;
    const std::string path = dir.file("model.safetensors");
    TinyModel old_model;
    save_checkpoint(path, old_model);
    const std::string old_bytes = read_bytes(path);
    // The child starts the same atomic write that every save uses, writes 1 MiB of a larger checkpoint, tells the
    // parent so through a pipe, and waits; the parent kills it there, without warning, mid-write.
    int ready[2];
    REQUIRE(pipe(ready) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {  // only plain system calls here: no OpenMP work after fork
        close(ready[0]);
        try {
            write_file_atomically(path, [&](std::FILE* f) {
                const std::string part(1 << 20, 'x');
                std::fwrite(part.data(), 1, part.size(), f);
                std::fflush(f);
                const char byte = 1;
                if (write(ready[1], &byte, 1) != 1) _exit(1);
                for (;;) pause();  // the rest of the checkpoint never comes
                return true;
            }, "save_safetensors");
        } catch (...) {
        }
        _exit(1);
    }
    close(ready[1]);
    char byte = 0;
    REQUIRE(read(ready[0], &byte, 1) == 1);  // the child is in the middle of its write
    close(ready[0]);
    ::kill(child, SIGKILL);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    CHECK(read_bytes(path) == old_bytes);  // the checkpoint is the previous one, byte for byte
    TinyModel check;
    load_checkpoint(path, check);
    CHECK(snapshot(check.named_parameters()) == snapshot(old_model.named_parameters()));
    int stray = 0;  // what a killed save leaves: its temporary file, beside the intact checkpoint
    for (const std::string& name : dir.entries()) stray += name.find(".tmp-") != std::string::npos;
    CHECK(stray == 1);
}
