#include "examples/support/options.h"

#include <CLI/CLI.hpp>

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

}  // namespace

ParsedOptions parse_options(int argc, const char* const argv[]) {
    ParsedOptions parsed;
    Options& o = parsed.options;
    CLI::App app{"Trains one causal self-attention head on a toy sequence task, then shows where it attends."};
    app.name(argc > 0 ? argv[0] : "train");
    app.footer(task_list());
    app.add_option("--task", o.task, "task to learn")->check(CLI::IsMember(task_names()))->capture_default_str();
    app.add_option("--steps", o.steps, "optimiser steps")->check(CLI::Range(int64_t{1}, int64_t{10'000'000}))
        ->capture_default_str();
    app.add_option("--lr", o.lr, "AdamW learning rate")->check(CLI::Range(1e-8, 10.0))->capture_default_str();
    app.add_option("--seed", o.seed, "seed of the model and the data")->capture_default_str();
    app.add_option("--threads", o.threads, "threads for the engine and OpenBLAS")->check(CLI::Range(1, 256))
        ->capture_default_str();
    app.add_option("--heads", o.heads, "attention heads (1: a single Head)")->check(CLI::Range(int64_t{1}, int64_t{16}))
        ->capture_default_str();
    app.add_option("--batch", o.batch, "sequences per step")->check(CLI::Range(int64_t{1}, int64_t{65536}))
        ->capture_default_str();
    app.add_option("--save", o.save, "write a checkpoint of the model and optimiser to PATH at the end");
    app.add_option("--out", o.out, "directory for the SVG plots (made if missing)")->capture_default_str();
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
