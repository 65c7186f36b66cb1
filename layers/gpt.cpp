#include "layers/gpt.h"

#include <stdexcept>
#include <string>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace ag {

FeedFoward::FeedFoward(int64_t n_embd, double dropout) {
    net.append<Linear>(n_embd, 4 * n_embd);
    net.append<ReLU>();
    net.append<Linear>(4 * n_embd, n_embd);
    net.append<Dropout>(dropout);
    register_module("net", net);
}

namespace {

int64_t head_size_for(int64_t n_embd, int64_t n_head) {
    if (n_head < 1 || n_embd % n_head != 0)
        throw std::invalid_argument("Block: n_embd must be a multiple of n_head; got n_embd = " +
                                    std::to_string(n_embd) + ", n_head = " + std::to_string(n_head));
    return n_embd / n_head;
}

}  // namespace

// Members in the lecture's order: sa, ffwd, ln1, ln2 (the draws of their inits come in that order).
Block::Block(int64_t n_embd, int64_t n_head, double dropout)
    : sa(n_embd, n_head, head_size_for(n_embd, n_head), /*causal=*/true, dropout), ffwd(n_embd, dropout),
      ln1(n_embd), ln2(n_embd) {
    register_module("sa", sa);
    register_module("ffwd", ffwd);
    register_module("ln1", ln1);
    register_module("ln2", ln2);
}

Tensor Block::forward(const Tensor& x) const {
    const Tensor h = x + sa(ln1(x));  // communication: every position gathers from the ones before it
    return h + ffwd(ln2(h));         // computation: each position on its own
}

namespace {

const GPTConfig& checked(const GPTConfig& c) {
    const auto positive = [](int64_t v, const char* name) {
        if (v < 1)
            throw std::invalid_argument(std::string("GPTLanguageModel: ") + name + " must be positive; got " +
                                        std::to_string(v));
    };
    positive(c.vocab_size, "vocab_size");
    positive(c.block_size, "block_size");
    positive(c.n_embd, "n_embd");
    positive(c.n_head, "n_head");
    positive(c.n_layer, "n_layer");
    if (c.n_embd % c.n_head != 0)
        throw std::invalid_argument("GPTLanguageModel: n_embd must be a multiple of n_head; got n_embd = " +
                                    std::to_string(c.n_embd) + ", n_head = " + std::to_string(c.n_head));
    if (!(c.dropout >= 0 && c.dropout < 1))
        throw std::invalid_argument("GPTLanguageModel: dropout must be in [0, 1); got " + number_str(c.dropout));
    return c;
}

}  // namespace

GPTLanguageModel::GPTLanguageModel(const GPTConfig& c)
    : config(checked(c)), token_embedding_table(c.vocab_size, c.n_embd),
      position_embedding_table(c.block_size, c.n_embd), blocks(c.n_layer, c.n_embd, c.n_head, c.dropout),
      ln_f(c.n_embd), lm_head(c.n_embd, c.vocab_size) {
    register_module("token_embedding_table", token_embedding_table);
    register_module("position_embedding_table", position_embedding_table);
    register_module("blocks", blocks);
    register_module("ln_f", ln_f);
    register_module("lm_head", lm_head);
    // self.apply(self._init_weights): children before parents, in declaration order
    NoGradGuard no_grad;
    apply([](Module& m) {
        if (auto* linear = dynamic_cast<Linear*>(&m)) {
            linear->weight.normal_(0.0, 0.02);
            if (linear->bias.defined()) linear->bias.fill_(0.0);
        } else if (auto* table = dynamic_cast<Embedding*>(&m)) {
            table->weight.normal_(0.0, 0.02);
        }
    });
}

Tensor GPTLanguageModel::forward(const Tensor& idx) const {
    if (idx.dim() != 2 || idx.dtype() != DType::Int64)
        throw std::invalid_argument("GPTLanguageModel: idx must be (B, T) int64 token ids; got " +
                                    dtype_name(idx.dtype()) + " of shape " + shape_str(idx.shape()));
    const int64_t T = idx.size(1);
    if (T < 1 || T > config.block_size)
        throw std::invalid_argument("GPTLanguageModel: T must be in [1, block_size = " +
                                    std::to_string(config.block_size) + "]; got shape " + shape_str(idx.shape()));
    const Tensor tok_emb = token_embedding_table(idx);                       // (B, T, C)
    const Tensor pos_emb = position_embedding_table(arange(0, T, 1, DType::Int64));  // (T, C)
    Tensor x = tok_emb + pos_emb;                                             // (B, T, C)
    for (const Block& block : blocks) x = block(x);
    return lm_head(ln_f(x));                                                  // (B, T, vocab)
}

std::pair<Tensor, Tensor> GPTLanguageModel::forward(const Tensor& idx, const Tensor& targets) const {
    if (targets.shape() != idx.shape())
        throw std::invalid_argument("GPTLanguageModel: targets must have idx's shape " + shape_str(idx.shape()) +
                                    "; got " + shape_str(targets.shape()));
    Tensor logits = forward(idx);
    const int64_t B = logits.size(0), T = logits.size(1), V = logits.size(2);
    Tensor loss = cross_entropy(logits.view({B * T, V}), targets.reshape({B * T}));
    return {logits, loss};
}

Tensor GPTLanguageModel::generate(const Tensor& idx, int64_t max_new_tokens) const {
    if (max_new_tokens < 0)
        throw std::invalid_argument("generate: max_new_tokens must be non-negative; got " +
                                    std::to_string(max_new_tokens));
    if (idx.dim() != 2 || idx.dtype() != DType::Int64 || idx.size(1) < 1)
        throw std::invalid_argument("generate: idx must be (B, T) int64 token ids with T >= 1; got " +
                                    dtype_name(idx.dtype()) + " of shape " + shape_str(idx.shape()));
    NoGradGuard no_grad;
    Tensor out = idx;
    for (int64_t i = 0; i < max_new_tokens; ++i) {
        const int64_t T = out.size(1);
        const Tensor context = out.slice(1, std::max<int64_t>(0, T - config.block_size), T);  // idx[:, -block_size:]
        const Tensor logits = forward(context).select(1, context.size(1) - 1);                 // (B, vocab)
        const Tensor next = multinomial(softmax(logits, -1), 1);                                // (B, 1)
        out = cat({out, next}, 1);                                                              // (B, T + 1)
    }
    return out;
}

}  // namespace ag
