// The lecture's GPT ("Let's build GPT", gpt.py): a character-level language model of residual blocks of
// multi-head self-attention and a feed-forward layer, with the lecture's class and parameter names (PyTorch's
// state_dict keys, so a checkpoint opens in PyTorch).
//
//   x = token_embedding_table(idx) + position_embedding_table(arange(T))    (B, T, C)
//   x = blocks(x)                    each Block: x = x + sa(ln1(x)); x = x + ffwd(ln2(x))
//   logits = lm_head(ln_f(x))                                               (B, T, vocab)
#pragma once
#include <cstdint>
#include <utility>

#include "layers/activation.h"
#include "layers/attention.h"
#include "layers/container.h"
#include "layers/dropout.h"
#include "layers/embedding.h"
#include "layers/layer_norm.h"
#include "layers/linear.h"

namespace ag {

// The lecture's hyperparameters (its defaults).
struct GPTConfig {
    int64_t vocab_size = 65;
    int64_t block_size = 256;  // the longest context
    int64_t n_embd = 384;      // C
    int64_t n_head = 6;        // head_size = n_embd / n_head
    int64_t n_layer = 6;
    double dropout = 0.2;
};

// net = Sequential(Linear(C, 4 C), ReLU, Linear(4 C, C), Dropout): (B, T, C) -> (B, T, C). ("FeedFoward" is the
// lecture's spelling.)
class FeedFoward : public Layer {
public:
    FeedFoward(int64_t n_embd, double dropout);
    Tensor forward(const Tensor& x) const override { return net(x); }

    Sequential net;
};

// A transformer block, pre-norm: x = x + sa(ln1(x)); x = x + ffwd(ln2(x)). sa has n_head heads of n_embd / n_head.
class Block : public Layer {
public:
    Block(int64_t n_embd, int64_t n_head, double dropout);
    Tensor forward(const Tensor& x) const override;

    MultiHeadAttention sa;
    FeedFoward ffwd;
    LayerNorm ln1, ln2;
};

class GPTLanguageModel : public Module {
public:
    // Builds every layer in the lecture's order with PyTorch's default inits, then re-initialises as the lecture's
    // _init_weights does: N(0, 0.02) for every Linear and Embedding weight, zero Linear biases, visited children
    // first: after manual_seed(s), PyTorch's weights for the same seed, bit for bit. Throws unless every size is
    // positive, n_embd is a multiple of n_head and 0 <= dropout < 1.
    explicit GPTLanguageModel(const GPTConfig& config);

    // idx (B, T) int64 token ids in [0, vocab), T <= block_size -> logits (B, T, vocab).
    Tensor forward(const Tensor& idx) const;
    // The logits and the mean cross-entropy against targets (B, T) (F.cross_entropy over the B T positions).
    std::pair<Tensor, Tensor> forward(const Tensor& idx, const Tensor& targets) const;

    // Extends idx (B, T) by max_new_tokens sampled tokens: each step runs the model on the last block_size tokens,
    // softmaxes the last position's logits and draws one token with multinomial (the default generator), as the
    // lecture's generate does; in the module's current mode (the lecture generates in training mode, so its
    // dropout draws too), without a graph. Returns (B, T + max_new_tokens).
    Tensor generate(const Tensor& idx, int64_t max_new_tokens) const;

    GPTConfig config;
    Embedding token_embedding_table, position_embedding_table;
    ModuleList<Block> blocks;  // nn.Sequential in the lecture: the same names, blocks.0, blocks.1, ...
    LayerNorm ln_f;
    Linear lm_head;
};

}  // namespace ag
