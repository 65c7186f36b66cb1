#include "examples/support/tasks.h"

#include <algorithm>
#include <stdexcept>

#include "engine/ops.h"

namespace trainer {

namespace {

// A labelled batch with the given tokens and all-zero targets, nothing scored yet; the label functions fill it.
Batch unlabelled(const ag::Tensor& tokens) {
    if (tokens.dim() != 2 || tokens.dtype() != ag::DType::Int64)
        throw std::invalid_argument("task: tokens must be a (B, T) int64 tensor; got " +
                                    ag::dtype_name(tokens.dtype()) + " of shape " + ag::shape_str(tokens.shape()));
    return {tokens.contiguous(), ag::zeros(tokens.shape(), ag::DType::Int64),
            ag::zeros(tokens.shape(), ag::DType::Bool)};
}

std::string digit_name(int64_t token) { return std::to_string(token); }

}  // namespace

Batch label_shift(const ag::Tensor& tokens, int64_t k) {
    Batch batch = unlabelled(tokens);
    const int64_t B = tokens.size(0), T = tokens.size(1);
    const int64_t* x = batch.tokens.data<int64_t>();
    int64_t* y = batch.targets.data<int64_t>();
    bool* scored = batch.scored.data<bool>();
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = k; t < T; ++t) {
            y[b * T + t] = x[b * T + t - k];
            scored[b * T + t] = true;
        }
    return batch;
}

Batch label_running_max(const ag::Tensor& tokens) {
    Batch batch = unlabelled(tokens);
    const int64_t B = tokens.size(0), T = tokens.size(1);
    const int64_t* x = batch.tokens.data<int64_t>();
    int64_t* y = batch.targets.data<int64_t>();
    bool* scored = batch.scored.data<bool>();
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < T; ++t) {
            y[b * T + t] = t == 0 ? x[b * T] : std::max(y[b * T + t - 1], x[b * T + t]);
            scored[b * T + t] = true;
        }
    return batch;
}

Batch label_lookup(const ag::Tensor& tokens, int64_t n_values, int64_t n_slots) {
    Batch batch = unlabelled(tokens);
    const int64_t B = tokens.size(0), T = tokens.size(1);
    const int64_t* x = batch.tokens.data<int64_t>();
    int64_t* y = batch.targets.data<int64_t>();
    bool* scored = batch.scored.data<bool>();
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = n_slots; t < T; ++t) {
            const int64_t slot = x[b * T + t] - n_values;
            if (slot < 0 || slot >= n_slots)
                throw std::invalid_argument("lookup: position " + std::to_string(t) +
                                            " must hold a pointer token in [" + std::to_string(n_values) + ", " +
                                            std::to_string(n_values + n_slots) + "); got " +
                                            std::to_string(x[b * T + t]));
            y[b * T + t] = x[b * T + slot];
            scored[b * T + t] = true;
        }
    return batch;
}

ag::Tensor sample_lookup(int64_t B, int64_t T, int64_t n_values, int64_t n_slots, ag::Generator& gen) {
    ag::Tensor values = ag::randint(0, n_values, {B, n_slots}, &gen);                        // (B, n_slots)
    ag::Tensor pointers = ag::randint(n_values, n_values + n_slots, {B, T - n_slots}, &gen);  // (B, T - n_slots)
    return ag::cat({values, pointers}, 1);                                                    // (B, T)
}

const std::vector<Task>& all_tasks() {
    static const std::vector<Task> tasks = {
        {"shift", "output the token 3 steps back (scored from t = 3 on)", 16, 16,
         [](int64_t B, ag::Generator& gen) { return label_shift(ag::randint(0, 16, {B, 16}, &gen), 3); },
         digit_name},
        {"max", "output the largest token so far", 16, 16,
         [](int64_t B, ag::Generator& gen) { return label_running_max(ag::randint(0, 16, {B, 16}, &gen)); },
         digit_name},
        {"lookup", "8 values, then pointers @p: output the value in slot p", 16, 16,
         [](int64_t B, ag::Generator& gen) { return label_lookup(sample_lookup(B, 16, 8, 8, gen), 8, 8); },
         [](int64_t token) { return token < 8 ? std::to_string(token) : "@" + std::to_string(token - 8); }},
    };
    return tasks;
}

std::vector<std::string> task_names() {
    std::vector<std::string> names;
    for (const Task& task : all_tasks()) names.push_back(task.name);
    return names;
}

const Task& find_task(const std::string& name) {
    for (const Task& task : all_tasks())
        if (task.name == name) return task;
    std::string choices;
    for (const std::string& n : task_names()) choices += (choices.empty() ? "" : ", ") + n;
    throw std::invalid_argument("find_task: no task called '" + name + "'; the tasks are " + choices);
}

ag::Tensor scored_rows(const Batch& batch) {
    const ag::Tensor mask = batch.scored.contiguous();
    const bool* scored = mask.data<bool>();
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < mask.numel(); ++i)
        if (scored[i]) rows.push_back(i);
    return ag::from_vector(rows, {static_cast<int64_t>(rows.size())});
}

}  // namespace trainer
