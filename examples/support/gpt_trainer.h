// The GPT trainer's run (examples/gpt.cpp is its command line): the lecture's gpt.py, step by step.
//
//   int code = run_gpt(options, stdout, stderr);
// `out` gets what the lecture prints (the parameter count, the eval lines, the generated text), `err` the progress
// (a line that updates itself when err is a terminal) and the files written.
#pragma once
#include <cstdio>
#include <stdexcept>

#include "examples/support/options.h"

namespace trainer {

// A bad input file or checkpoint (the text, --resume's file): the command line treats it as a bad flag.
struct InputError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// Runs the training and the generation; returns 0. Throws InputError for a text or checkpoint it cannot use,
// std::system_error when an output cannot be written, std::runtime_error when the loss stops being finite.
int run_gpt(const GPTOptions& options, std::FILE* out, std::FILE* err);

}  // namespace trainer
