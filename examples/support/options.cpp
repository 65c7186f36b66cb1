#include "examples/support/options.h"

#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "examples/support/tasks.h"
#include "io/atomic_file.h"

namespace trainer {

namespace fs = std::filesystem;

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

// ---- the output locations, checked before the training rather than after it ------------------------------------
// Each check says why a location cannot be written, or returns "" if it can. They only look (stat and access, never
// a throwing overload), so parse_options stays free of side effects and exceptions, whatever the paths.

// A dropout probability: a number in [0, 1). (CLI::Range lets NaN through.)
const CLI::Validator kProbability(
    [](std::string& text) {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        return *end == '\0' && v >= 0 && v < 1 ? std::string() : "must be a number in [0, 1); got " + text;
    },
    "in [0, 1)");

// New files can be made in `dir` (empty: the working directory): it is a directory this process may write into.
std::string unwritable_directory(const fs::path& dir) {
    const fs::path d = dir.empty() ? fs::path(".") : dir;
    std::error_code ec;
    const fs::file_status status = fs::status(d, ec);
    if (status.type() == fs::file_type::not_found) return "the directory " + d.string() + " does not exist";
    if (ec) return "cannot reach the directory " + d.string() + ": " + ec.message();
    if (!fs::is_directory(status)) return d.string() + " is not a directory";
    if (::faccessat(AT_FDCWD, d.c_str(), W_OK | X_OK, AT_EACCESS) != 0)
        return "cannot write into the directory " + d.string() + ": " + std::strerror(errno);
    return "";
}

// --save: the file the checkpoint replaces (through any symbolic links, as the save follows them) is a regular
// file or none yet, in a directory this process may write into.
std::string unwritable_file(const std::string& path) {
    std::string file;
    try {
        file = ag::resolve_links(path);
    } catch (const std::system_error& e) {
        return "cannot follow the links from " + path + ": " + e.code().message();
    }
    std::error_code ec;
    const fs::file_status status = fs::status(file, ec);
    if (ec && status.type() != fs::file_type::not_found) return "cannot reach " + path + ": " + ec.message();
    if (fs::is_directory(status)) return path + " is a directory";
    if (fs::exists(status) && !fs::is_regular_file(status)) return path + " is not a regular file";
    return unwritable_directory(fs::path(file).parent_path());
}

// --out: an existing directory to write into, or one that the trainer can make (as create_directories does: its
// nearest existing ancestor is a directory to write into).
std::string unusable_directory(const std::string& dir) {
    if (dir.empty()) return "the directory must not be empty (\".\" is the working directory)";
    fs::path existing = dir;
    std::error_code ec;
    while (existing.has_relative_path() && fs::status(existing, ec).type() == fs::file_type::not_found)
        existing = existing.parent_path();
    const std::string problem = unwritable_directory(existing);
    return problem.empty() || existing == dir ? problem : "cannot make the directory " + dir + ": " + problem;
}

// --data, --resume: a regular file this process may read.
std::string unreadable_file(const std::string& path) {
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (status.type() == fs::file_type::not_found) return path + " does not exist";
    if (ec) return "cannot reach " + path + ": " + ec.message();
    if (!fs::is_regular_file(status)) return path + " is not a regular file";
    if (::faccessat(AT_FDCWD, path.c_str(), R_OK, AT_EACCESS) != 0)
        return "cannot read " + path + ": " + std::strerror(errno);
    return "";
}

// "error: <problem>" and the hint to run --help: the message of a bad flag or value.
std::string usage_error(const std::string& problem) { return "error: " + problem + "\nRun with --help for usage.\n"; }

// What parsing the command line says: go on (exit_code -1), or stop with the usage text (--help, exit code 0) or
// an error (a bad flag or value, exit code 2).
struct Stop {
    int exit_code;
    std::string message;
};
Stop parse(CLI::App& app, int argc, const char* const argv[]) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        return {0, app.help()};
    } catch (const CLI::ParseError& e) {
        return {2, usage_error(e.what())};
    }
    return {-1, ""};
}

// "--save: ..." or "--out: ..." for the first location that cannot be written, or "".
std::string output_problem(const Options& o) {
    if (std::string problem = o.save.empty() ? "" : unwritable_file(o.save); !problem.empty())
        return "--save: " + problem;
    if (std::string problem = unusable_directory(o.out); !problem.empty()) return "--out: " + problem;
    return "";
}

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
    app.add_option("--save", o.save, "write a checkpoint of the model and optimiser to PATH after the training")
        ->type_name("PATH");
    app.add_option("--out", o.out, "directory for the SVG plots (made if missing)")
        ->type_name("DIR")->capture_default_str();
    if (const Stop stop = parse(app, argc, argv); stop.exit_code >= 0) return {o, false, stop.exit_code, stop.message};
    if (const std::string problem = output_problem(o); !problem.empty())
        return {o, false, 2, usage_error(problem)};
    return parsed;
}

ParsedGPTOptions parse_gpt_options(int argc, const char* const argv[]) {
    ParsedGPTOptions parsed;
    GPTOptions& o = parsed.options;
    CLI::App app{"Trains the lecture's GPT, a character-level language model, on a UTF-8 text file, then writes text "
                 "in its style."};
    app.name(argc > 0 ? argv[0] : "gpt");
    const auto count = [](auto& v, int64_t lo, int64_t hi) { return CLI::Range(decltype(v)(lo), decltype(v)(hi)); };
    app.add_option("--batch-size", o.batch_size, "sequences per step")
        ->check(count(o.batch_size, 1, 65536))->capture_default_str();
    std::vector<CLI::Option*> model_flags;
    model_flags.push_back(app.add_option("--block-size", o.block_size, "the longest context, in characters")
                              ->check(count(o.block_size, 1, 65536))->capture_default_str());
    app.add_option("--max-iters", o.max_iters, "training steps")
        ->check(count(o.max_iters, 1, 100'000'000))->capture_default_str();
    app.add_option("--eval-interval", o.eval_interval, "estimate the losses every N steps, and at the last")
        ->check(count(o.eval_interval, 1, 100'000'000))->capture_default_str();
    app.add_option("--learning-rate", o.learning_rate, "AdamW's learning rate")
        ->check(kLearningRate)->capture_default_str();
    app.add_option("--eval-iters", o.eval_iters, "batches per split in each estimate")
        ->check(count(o.eval_iters, 1, 1'000'000))->capture_default_str();
    model_flags.push_back(app.add_option("--n-embd", o.n_embd, "channels (a multiple of --n-head)")
                              ->check(count(o.n_embd, 1, 65536))->capture_default_str());
    model_flags.push_back(app.add_option("--n-head", o.n_head, "attention heads per block")
                              ->check(count(o.n_head, 1, 1024))->capture_default_str());
    model_flags.push_back(app.add_option("--n-layer", o.n_layer, "blocks")
                              ->check(count(o.n_layer, 1, 1024))->capture_default_str());
    model_flags.push_back(app.add_option("--dropout", o.dropout, "dropout probability in training")
                              ->check(kProbability)->capture_default_str());
    app.add_option("--seed", o.seed, "seed of the weights, the batches and the sampling")
        ->check(CLI::Range(uint64_t{0}, uint64_t{4294967295}))->capture_default_str();
    app.add_option("--max-new-tokens", o.max_new_tokens, "characters to generate at the end")
        ->check(count(o.max_new_tokens, 0, 100'000'000))->capture_default_str();
    app.add_option("--data", o.data, "the UTF-8 text to learn (90% training, 10% validation)")
        ->type_name("FILE")->capture_default_str();
    app.add_option("--threads", o.threads, "threads for the engine and OpenBLAS (0: the default)")
        ->check(CLI::Range(0, 256))->capture_default_str();
    app.add_option("--save", o.save, "after the training, write the model, its configuration, the vocabulary and "
                                     "the optimiser's state to PATH")->type_name("PATH");
    app.add_option("--resume", o.resume, "continue the run saved in PATH (by --save) up to --max-iters, with its model "
                                         "(the model flags may be left out)")
        ->type_name("PATH");
    app.add_option("--log", o.log, "write step,loss of every training step to FILE (CSV)")->type_name("FILE");
    app.add_option("--out", o.out, "directory for the loss plot, gpt_loss.svg (made if missing)")
        ->type_name("DIR")->capture_default_str();
    if (const Stop stop = parse(app, argc, argv); stop.exit_code >= 0) return {o, false, stop.exit_code, stop.message};
    for (const CLI::Option* flag : model_flags)
        if (flag->count() > 0) o.model_flags_given.push_back(flag->get_name());
    std::string problem;
    if (o.n_embd % o.n_head != 0)
        problem = "--n-embd " + std::to_string(o.n_embd) + " must be a multiple of --n-head " + std::to_string(o.n_head);
    else if (std::string p = unreadable_file(o.data); !p.empty()) problem = "--data: " + p;
    else if (std::string p = o.resume.empty() ? "" : unreadable_file(o.resume); !p.empty()) problem = "--resume: " + p;
    else if (std::string p = o.save.empty() ? "" : unwritable_file(o.save); !p.empty()) problem = "--save: " + p;
    else if (std::string p = o.log.empty() ? "" : unwritable_file(o.log); !p.empty()) problem = "--log: " + p;
    else if (std::string p = unusable_directory(o.out); !p.empty()) problem = "--out: " + p;
    else if (std::string p = fs::is_directory(o.out) ? unwritable_file(o.out + "/gpt_loss.svg") : ""; !p.empty())
        problem = "--out: " + p;
    if (!problem.empty()) return {o, false, 2, usage_error(problem)};
    return parsed;
}

}  // namespace trainer
