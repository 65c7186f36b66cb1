// The toy sequence tasks the trainer learns: each one is something a single causal attention head can do.
//
// A task makes batches of token sequences together with the answer expected at every position. Some positions
// have no answer (copying the token 3 steps back means nothing at t < 3), so a batch also says which positions are
// scored: only those enter the loss and the accuracy.
//
// Each task is two steps, kept apart so that the tests can check the second one on hand-written sequences:
//   sample_*: draw the input tokens (B, T) from a Generator;
//   label_*:  compute the targets and the scored positions from the tokens (deterministic).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/random.h"
#include "engine/tensor.h"

namespace trainer {

struct Batch {
    ag::Tensor tokens;   // (B, T) int64 in [0, V): the input sequences
    ag::Tensor targets;  // (B, T) int64 in [0, V): the answer at each position (0 where not scored)
    ag::Tensor scored;   // (B, T) bool: the positions that count in the loss and the accuracy
};

// shift: the token k steps back, targets[b, t] = tokens[b, t - k]; scored where t >= k.
// The head must attend from t to t - k: a query/key affinity between positions only.
Batch label_shift(const ag::Tensor& tokens, int64_t k);

// max: the largest token so far, targets[b, t] = max over s <= t of tokens[b, s]; every position is scored.
// The head must attend to the largest token: keys that grow with the token's value, whatever the query.
Batch label_running_max(const ag::Tensor& tokens);

// lookup: the first n_slots positions hold values in [0, n_values); every later position holds a pointer token
// n_values + p that names slot p, and its target is the value stored in slot p. Scored from n_slots on.
// The head must attend from pointer token n_values + p to position p: an affinity between tokens and positions.
Batch label_lookup(const ag::Tensor& tokens, int64_t n_values, int64_t n_slots);
// B sequences of length T for label_lookup: values uniform in [0, n_values), then pointers to uniform slots.
ag::Tensor sample_lookup(int64_t B, int64_t T, int64_t n_values, int64_t n_slots, ag::Generator& gen);

struct Task {
    std::string name;
    std::string description;  // one line, shown by --help and at the start of a run
    int64_t V = 0, T = 0;     // vocabulary size and sequence length
    std::function<Batch(int64_t B, ag::Generator& gen)> sample;  // B fresh labelled sequences
    std::function<std::string(int64_t token)> token_name;       // how a token is printed ("7", "@3")
};

// Every task, in the order --help lists them; the first one is the default.
const std::vector<Task>& all_tasks();
std::vector<std::string> task_names();
// The task called `name`; throws std::invalid_argument naming the choices otherwise.
const Task& find_task(const std::string& name);

// The flat (row-major) indices of the scored positions of a (B, T) batch, as a 1-D int64 tensor: the rows of the
// (B*T, V) logits that the loss and the accuracy read.
ag::Tensor scored_rows(const Batch& batch);

}  // namespace trainer
