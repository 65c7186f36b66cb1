#include "examples/support/options.h"

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "examples/support/tasks.h"

namespace trainer {

namespace {

// "  shift   output the token 3 steps back ...": the task list for the end of --help.
std::string task_list() {
    std::string text = "Tasks:\n";
    for (const Task& task : all_tasks()) {
        std::string name = task.name;
        name.resize(8, ' ');
        text += "  " + name + task.description + "\n";
    }
    return text;
}

// A learning rate: a number in (0, 10]. (CLI::Range lets NaN through, since every comparison with NaN is false.)
const CLI::Validator kLearningRate(
    [](std::string& text) {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        return *end == '\0' && v > 0 && v <= 10 ? std::string() : "must be a number in (0, 10]; got " + text;
    },
    "in (0, 10]");

// A file to write at the end of the run: its directory must exist now, rather than fail after the training.
const CLI::Validator kFileInExistingDirectory(
    [](std::string& path) {
        const std::filesystem::path dir = std::filesystem::path(path).parent_path();
        return dir.empty() || std::filesystem::is_directory(dir) ? std::string()
                                                                 : "the directory " + dir.string() + " does not exist";
    },
    "");

}  // namespace

ParsedOptions parse_options(int argc, const char* const argv[]) {
    ParsedOptions parsed;
    Options& o = parsed.options;
    CLI::App app{"Trains one causal self-attention head on a toy sequence task, then shows where it attends."};
    app.name(argc > 0 ? argv[0] : "train");
    app.footer(task_list());
    app.add_option("--task", o.task, "task to learn")->check(CLI::IsMember(task_names()))->capture_default_str();
    app.add_option("--steps", o.steps, "optimiser steps")
        ->check(CLI::Range(int64_t{1}, int64_t{10'000'000}))->capture_default_str();
    app.add_option("--lr", o.lr, "AdamW's initial learning rate (cosine decay to 0)")
        ->check(kLearningRate)->capture_default_str();
    // Only the low 32 bits seed the generator (as in PyTorch): larger seeds would repeat smaller ones.
    app.add_option("--seed", o.seed, "seed of the model and the data")
        ->check(CLI::Range(uint64_t{0}, uint64_t{4294967295}))->capture_default_str();
    app.add_option("--threads", o.threads, "threads for the engine and OpenBLAS")
        ->check(CLI::Range(1, 256))->capture_default_str();
    app.add_option("--heads", o.heads, "attention heads (1: a single Head)")
        ->check(CLI::Range(int64_t{1}, int64_t{16}))->capture_default_str();
    app.add_option("--batch", o.batch, "sequences per step")
        ->check(CLI::Range(int64_t{1}, int64_t{65536}))->capture_default_str();
    app.add_option("--save", o.save, "write a checkpoint of the model and optimiser to PATH at the end")
        ->type_name("PATH")->check(kFileInExistingDirectory);
    app.add_option("--out", o.out, "directory for the SVG plots (made if missing)")
        ->type_name("DIR")->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        return {o, false, 0, app.help()};
    } catch (const CLI::ParseError& e) {
        return {o, false, 2, "error: " + std::string(e.what()) + "\nRun with --help for usage.\n"};
    }
    return parsed;
}

}  // namespace trainer
