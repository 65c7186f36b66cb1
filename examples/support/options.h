// The trainer's command-line flags, parsed with CLI11 into a plain struct.
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

}  // namespace trainer
