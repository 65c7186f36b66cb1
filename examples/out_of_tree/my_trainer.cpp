// A trainer of your own, built against the installed library: one causal head learns to repeat the previous token.
// Each optimiser step accumulates the gradients of several micro-batches (as nanoGPT's gradient_accumulation_steps),
// clips them, and takes its lr from a warm-up and cosine schedule.
//
//   make install PREFIX=$HOME/.local          (in the attograd tree)
//   PKG_CONFIG_PATH=$HOME/.local/lib/pkgconfig make run      (here)
#include <cstdio>
#include <vector>

#include "engine/engine.h"
#include "layers/layers.h"

using ag::Tensor;

namespace {

constexpr int64_t V = 10, T = 8, C = 16;  // vocabulary, sequence length, channels
constexpr int64_t kIgnore = -100;         // cross_entropy's default ignore_index: a position with nothing to learn

// Token and position embeddings -> a causal Head -> a readout to V logits.
struct PreviousToken : ag::Module {
    ag::Embedding tokens{V, C};
    ag::PositionalEmbedding positions{T, C};
    ag::Head head{C, C};
    ag::Linear readout{C, V};
    PreviousToken() {
        register_module("tokens", tokens);
        register_module("positions", positions);
        register_module("head", head);
        register_module("readout", readout);
    }
    Tensor operator()(const Tensor& ids) { return readout(head(tokens(ids) + positions(T))); }  // (B, T, V)
};

// B random sequences (B, T), drawn one at a time and stacked, and their targets (B, T): the token one step back;
// position 0 has none and is ignored.
void sample(ag::Generator& gen, int64_t B, Tensor& ids, Tensor& targets) {
    std::vector<Tensor> rows, answers;
    for (int64_t b = 0; b < B; ++b) {
        rows.push_back(ag::randint(0, V, {T}, &gen));
        answers.push_back(ag::cat({ag::full({1}, kIgnore, ag::DType::Int64), rows.back().slice(0, 0, T - 1)}, 0));
    }
    ids = ag::stack(rows);         // (B, T)
    targets = ag::stack(answers);  // (B, T)
}

}  // namespace

int main() {
    try {
        ag::manual_seed(7);
        PreviousToken model;
        ag::AdamW opt(model.named_parameters(), 1e-2);
        ag::CosineWarmupLR schedule(opt, /*warmup_iters=*/20, /*lr_decay_iters=*/300, /*min_lr=*/1e-3);
        ag::Generator gen(8);
        const int micro_batches = 4;  // 4 micro-batches of 8 sequences: the gradient of a batch of 32
        Tensor ids, targets;
        for (int step = 1; step <= 300; ++step) {
            opt.zero_grad();
            double loss_sum = 0;
            for (int m = 0; m < micro_batches; ++m) {
                sample(gen, 8, ids, targets);
                // logits (B, T, V) with targets (B, T): the class dim is last, as the GPT's
                Tensor loss = ag::cross_entropy(model(ids), targets) / static_cast<double>(micro_batches);
                loss.backward();  // gradients add up over the micro-batches
                loss_sum += loss.item();
            }
            ag::clip_grad_norm_(model.parameters(), 1.0);
            opt.step();
            schedule.step();  // the lr of the next step
            if (step % 100 == 0) std::printf("step %d: loss %.4f, lr %.5f\n", step, loss_sum, schedule.get_last_lr());
        }
        ag::NoGradGuard no_grad;
        sample(gen, 1000, ids, targets);
        Tensor predicted = model(ids).slice(1, 1, T).argmax(-1);  // positions 1.. have an answer
        Tensor answers = targets.slice(1, 1, T);
        double right = ag::sum(ag::eq(predicted, answers).to(ag::DType::Float32)).item();
        std::printf("held-out accuracy: %.2f%%\n", 100.0 * right / static_cast<double>(answers.numel()));
        return right / static_cast<double>(answers.numel()) > 0.99 ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
