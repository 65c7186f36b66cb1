// Trains one causal self-attention head on a toy sequence task, then shows where it learned to look.
//
//   build/examples/train --task max        # `--help` lists the tasks and the flags
//
// main runs these steps, top to bottom:
//   1. read the flags, which checks that --save and --out can be written, and pick the task (support/tasks.h:
//      random sequences and the answer at each position);
//   2. build the model (support/model.h: token + position embeddings -> one Head -> Linear readout);
//   3. gradcheck it: a float64 copy, the whole loss wrt every parameter, against finite differences;
//   4. train it with AdamW on fresh random batches, the progress on one line, and save it (--save) at once, so
//      that nothing failing later loses the trained model;
//   5. score it on held-out sequences: a sequence counts only if every scored position is right;
//   6. print the attention of one held-out sequence as a heatmap, and write the plots (support/plots.h).
// Random streams, all from --seed: the model's weights (manual_seed(seed)), the training batches (seed + 1), the
// held-out sequences (seed + 2) and the gradcheck batch (seed + 3).
// Exit codes: 0 done, 1 the gradients or the training failed, 2 a bad flag or a file that cannot be written.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <numbers>
#include <stdexcept>
#include <string>
#include <system_error>

#include "engine/engine.h"
#include "examples/support/model.h"
#include "examples/support/options.h"
#include "examples/support/plots.h"
#include "examples/support/tasks.h"
#include "io/checkpoint.h"
#include "layers/optim.h"

using namespace trainer;
using ag::Tensor;
using Clock = std::chrono::steady_clock;

namespace {

// Step 3. The copy has the model's values in float64 (finite differences need them); the check nudges each of its
// parameters' elements by +-1e-6 and compares the loss's change with what backward() computed.
bool check_gradients(const AttentionModel& model, const Task& task, uint64_t seed) {
    AttentionModel copy(model.config);
    {
        ag::NoGradGuard no_grad;
        const std::vector<Tensor> from = model.parameters();
        std::vector<Tensor> to = copy.parameters();
        for (size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
    }
    copy.to(ag::DType::Float64);
    ag::Generator gen(seed + 3);
    const Batch batch = task.sample(2, gen);  // small: the finite differences run the model twice per number
    auto loss = [&](const std::vector<Tensor>&) { return scored_loss(copy(batch.tokens), batch); };
    const auto parameters = copy.named_parameters();
    const ag::GradcheckResult result = ag::gradcheck(loss, copy.parameters());
    if (result)
        std::printf("gradcheck: %zu parameters, all gradients match finite differences\n", parameters.size());
    else
        std::printf("%s\n(input %d is the parameter %s)\n", result.report.c_str(), result.input,
                    parameters[result.input].first.c_str());
    return result.passed;
}

// Step 4. One fresh batch per step; returns the loss of every step (for the plot). The learning rate falls from
// --lr to 0 along half a cosine: large steps early, small ones at the end, so the model ends settled rather than
// wherever the last large step threw it (with a constant rate, the max task sometimes ends a few % worse).
std::vector<double> train(AttentionModel& model, ag::AdamW& optimizer, const Task& task, const Options& opt) {
    ag::Generator gen(opt.seed + 1);
    std::vector<double> losses;
    const Clock::time_point start = Clock::now();
    Clock::time_point shown = start;
    for (int64_t step = 1; step <= opt.steps; ++step) {
        const Batch batch = task.sample(opt.batch, gen);
        const Tensor logits = model(batch.tokens);  // (B, T, V)
        const Tensor loss = scored_loss(logits, batch);
        if (!std::isfinite(loss.item()))  // stop before a NaN reaches the weights; --save's old file stays as it was
            throw std::runtime_error("the loss became " + std::to_string(loss.item()) + " at step " +
                                     std::to_string(step) + "; stopping (try a smaller --lr)");
        optimizer.lr = opt.lr * 0.5 * (1 + std::cos(std::numbers::pi * (step - 1) / opt.steps));  // cosine decay
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        losses.push_back(loss.item());
        const Clock::time_point now = Clock::now();
        if (now - shown > std::chrono::milliseconds(100) || step == opt.steps || step == 1) {
            shown = now;
            const double seconds = std::chrono::duration<double>(now - start).count();
            std::printf("\rstep %5lld/%lld  loss %.3g  train accuracy %5.1f%%  %4.0f steps/s ", (long long)step,
                        (long long)opt.steps, losses.back(), 100 * accuracy(logits, batch).position_rate(),
                        step / seconds);
            std::fflush(stdout);
        }
    }
    std::printf("\n");
    return losses;
}

// Step 5. 5000 sequences from their own random stream, so (with overwhelming odds) none was seen in training.
Accuracy evaluate(AttentionModel& model, const Task& task, uint64_t seed) {
    ag::NoGradGuard no_grad;
    ag::Generator gen(seed + 2);
    Accuracy total;
    for (int chunk = 0; chunk < 10; ++chunk) {
        const Batch batch = task.sample(500, gen);
        const Accuracy a = accuracy(model(batch.tokens), batch);
        total.positions += a.positions, total.positions_right += a.positions_right;
        total.sequences += a.sequences, total.sequences_right += a.sequences_right;
    }
    return total;
}

// The names of a row of tokens ("3", "@2"), "." where not scored, to print a sequence and label the heatmap.
std::vector<std::string> names(const Task& task, const Tensor& tokens, const Tensor& scored = Tensor()) {
    std::vector<std::string> out;
    const std::vector<int64_t> ids = tokens.to_vector<int64_t>();
    const std::vector<int64_t> keep =
        scored.defined() ? scored.to_vector<int64_t>() : std::vector<int64_t>(ids.size(), 1);
    for (size_t i = 0; i < ids.size(); ++i) out.push_back(keep[i] ? task.token_name(ids[i]) : ".");
    return out;
}

void print_row(const char* title, const std::vector<std::string>& row) {
    std::printf("%-8s", title);
    for (const std::string& s : row) std::printf(" %3s", s.c_str());
    std::printf("\n");
}

// Step 6. Runs one sequence, prints it with the answers and its attention; returns the attention (T x T).
Matrix show_attention(AttentionModel& model, const Task& task, const Batch& one) {
    ag::NoGradGuard no_grad;
    const Tensor guess = model(one.tokens).argmax(-1);  // (1, T)
    const std::vector<std::string> labels = names(task, one.tokens[0]);
    print_row("input", labels);
    print_row("target", names(task, one.targets[0], one.scored[0]));
    print_row("model", names(task, guess[0], one.scored[0]));
    const Tensor attention = model.attention(one.tokens)[0].contiguous();  // (T, T): row t = how t spreads its look
    const int64_t T = attention.size(0);
    Matrix weights(T, std::vector<double>(T));
    for (int64_t t = 0; t < T; ++t)
        for (int64_t s = 0; s < T; ++s) weights[t][s] = attention.index({t, s}).item();
    std::printf("\nattention (row: the query's token, column: the token it looks at; ' ' = 0 ... '@' = 1)\n%s",
                text_heatmap(weights, labels, labels).c_str());
    return weights;
}

// Step 6, to files: attention_<task>.svg and loss_<task>.svg in `dir` (made if missing).
void write_plots(const std::string& dir, const std::string& task, const Matrix& weights,
                 const std::vector<std::string>& labels, const std::vector<double>& losses) {
    std::filesystem::create_directories(dir);
    const std::string attention_svg = dir + "/attention_" + task + ".svg", loss_svg = dir + "/loss_" + task + ".svg";
    const std::string title = "task " + task + ": attention of a held-out sequence (each row looks at the columns)";
    write_text_file(attention_svg, svg_heatmap(weights, labels, labels, title));
    write_text_file(loss_svg, svg_line_plot(losses, "training loss, task " + task, "step", "loss"));
    std::printf("\nwrote %s and %s\n", attention_svg.c_str(), loss_svg.c_str());
}

// Steps 1 (the task) to 6; returns main's exit code.
int run(const Options& opt) {
    // 1. the task
    ag::set_num_threads(opt.threads);
    const Task& task = find_task(opt.task);
    std::printf("task %s: %s (V = %lld, T = %lld)\n", task.name.c_str(), task.description.c_str(),
                (long long)task.V, (long long)task.T);

    // 2. the model
    ag::manual_seed(opt.seed);
    AttentionModel model(ModelConfig{task.V, task.T, 32, 32, opt.heads});
    std::printf("model: %lld parameters\n", (long long)model.num_parameters());

    // 3. its gradients
    if (!check_gradients(model, task, opt.seed)) return 1;

    // 4. training, and the checkpoint
    ag::AdamW optimizer(model.named_parameters(), opt.lr);
    const Clock::time_point start = Clock::now();
    const std::vector<double> losses = train(model, optimizer, task, opt);
    std::printf("trained %lld steps in %.1f s\n", (long long)opt.steps,
                std::chrono::duration<double>(Clock::now() - start).count());
    if (!opt.save.empty()) {
        ag::save_checkpoint(opt.save, model, &optimizer,
                            {{"task", task.name}, {"heads", std::to_string(opt.heads)},
                             {"steps", std::to_string(opt.steps)}, {"seed", std::to_string(opt.seed)}});
        std::printf("saved the model and the optimiser's state to %s\n", opt.save.c_str());
    }

    // 5. held-out accuracy
    const Accuracy held_out = evaluate(model, task, opt.seed);
    std::printf("held-out exact match: %lld/%lld sequences = %.2f%% (positions: %.2f%%)\n\n",
                (long long)held_out.sequences_right, (long long)held_out.sequences, 100 * held_out.sequence_rate(),
                100 * held_out.position_rate());

    // 6. one held-out sequence (step 5's stream): its answers and attention; the plots
    ag::Generator gen(opt.seed + 2);
    const Batch example = task.sample(1, gen);
    const Matrix weights = show_attention(model, task, example);
    write_plots(opt.out, task.name, weights, names(task, example.tokens[0]), losses);
    return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
    try {
        const ParsedOptions parsed = parse_options(argc, argv);
        if (!parsed.run) {
            (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message;
            return parsed.exit_code;
        }
        return run(parsed.options);
    } catch (const std::system_error& e) {  // a file or directory the system refused (std::filesystem's errors too)
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
