// A trainer of your own, built against the installed library: one causal head learns to repeat the previous token.
//
//   make install PREFIX=$HOME/.local          (in the attograd tree)
//   PKG_CONFIG_PATH=$HOME/.local/lib/pkgconfig make run      (here)
#include <cstdio>

#include "engine/engine.h"
#include "layers/layers.h"

using ag::Tensor;

namespace {

constexpr int64_t V = 8, T = 8, C = 16;  // vocabulary, sequence length, channels

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

// Random sequences (B, T) and their targets: the token one step back, scored from position 1 on.
void sample(ag::Generator& gen, int64_t B, Tensor& ids, Tensor& targets) {
    ids = ag::randint(0, V, {B, T}, &gen);
    targets = ids.slice(1, 0, T - 1);  // position t (from 1 on) must answer the token at t - 1: (B, T-1)
}

}  // namespace

int main() {
    try {
        ag::manual_seed(7);
        PreviousToken model;
        ag::AdamW opt(model.named_parameters(), 1e-2);
        ag::Generator gen(8);
        Tensor ids, targets;
        for (int step = 1; step <= 300; ++step) {
            sample(gen, 32, ids, targets);
            Tensor logits = model(ids).slice(1, 1, T);  // (B, T-1, V)
            Tensor loss = ag::cross_entropy(logits.reshape({-1, V}), targets.reshape({-1}));
            opt.zero_grad();
            loss.backward();
            opt.step();
            if (step % 100 == 0) std::printf("step %d: loss %.4f\n", step, loss.item());
        }
        ag::NoGradGuard no_grad;
        sample(gen, 1000, ids, targets);
        Tensor predicted = model(ids).slice(1, 1, T).argmax(-1);
        double right = ag::sum(ag::eq(predicted, targets).to(ag::DType::Float32)).item();
        std::printf("held-out accuracy: %.2f%%\n", 100.0 * right / static_cast<double>(targets.numel()));
        return right / static_cast<double>(targets.numel()) > 0.99 ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
