// The trainers' command-line flags, parsed with CLI11 into plain structs: train's (Options) and gpt's
// (GPTOptions).
//
//   ParsedOptions parsed = parse_options(argc, argv);
//   if (!parsed.run) { print parsed.message; return parsed.exit_code; }   // --help (0) or a bad flag (2)
// Parsing never prints, never exits and never throws, so the tests can call it with any argument list. It also
// checks, before any training, that the outputs can be written: --save names a regular file or none yet, in a
// directory this process may write into; --out is such a directory or one it can make. A location that cannot is a
// bad value too (exit code 2); the files themselves are only written at the end.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace trainer {

struct Options {
    std::string task = "shift";  // which task to learn (see tasks.h)
    int64_t steps = 2000;        // optimiser steps
    double lr = 1e-2;            // AdamW's learning rate at the start (it decays to 0 along a cosine)
    uint64_t seed = 1337;        // the model's weights and every random batch (see train.cpp)
    int threads = 1;             // engine and OpenBLAS threads (the matrices are tiny: one thread is fastest)
    int64_t heads = 1;           // 1: one Head; more: MultiHeadAttention
    int64_t batch = 32;          // sequences per step
    std::string save;            // write a checkpoint here after the training (empty: none)
    std::string out = ".";       // directory for the SVG plots
};

struct ParsedOptions {
    Options options;
    bool run = true;      // false: print message (to stdout if exit_code is 0, else to stderr) and exit
    int exit_code = 0;    // 0 after --help, 2 after a bad flag or value
    std::string message;  // the usage text, or "error: ..." and a hint to run --help
};

ParsedOptions parse_options(int argc, const char* const argv[]);

// examples/gpt.cpp's flags: the lecture's hyperparameters under its names, with its defaults.
struct GPTOptions {
    int64_t batch_size = 64;       // sequences per step
    int64_t block_size = 256;      // the longest context
    int64_t max_iters = 5000;      // training steps
    int64_t eval_interval = 500;   // estimate the losses every this many steps (and at the last one)
    double learning_rate = 3e-4;   // AdamW's
    int64_t eval_iters = 200;      // batches per split in each estimate
    int64_t n_embd = 384;
    int64_t n_head = 6;
    int64_t n_layer = 6;
    double dropout = 0.2;
    uint64_t seed = 1337;
    int64_t max_new_tokens = 500;  // characters generated at the end
    std::string data = "input.txt";  // the UTF-8 text to learn
    int threads = 0;                 // 0: the engine's default
    std::string save;                // write a checkpoint here after the training (empty: none)
    std::string resume;              // continue from this checkpoint (empty: start afresh)
    std::string log;                 // write "step,loss" of every step here (empty: none)
    std::string out = ".";           // directory for the loss plot
    // The model flags (--block-size, --n-embd, --n-head, --n-layer, --dropout) on the command line: with --resume,
    // those must agree with the checkpoint, which gives the others.
    std::vector<std::string> model_flags_given;
};

struct ParsedGPTOptions {
    GPTOptions options;
    bool run = true;
    int exit_code = 0;
    std::string message;
};

// As parse_options: never prints, exits or throws; --save, --log and --out are checked to be writable, --data and
// --resume to be readable files.
ParsedGPTOptions parse_gpt_options(int argc, const char* const argv[]);

}  // namespace trainer
